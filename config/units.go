package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that also accepts days and weeks ("30d",
// "2w", "1d12h"), the units retention is thought in.
type Duration time.Duration

// ParseDuration reads a Go duration extended with d (24h) and w (7d).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad duration %q: want a number and a unit, e.g. 36h, 30d, 2w", s)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var mult time.Duration
		switch unit {
		case "w":
			mult = 7 * 24 * time.Hour
		case "d":
			mult = 24 * time.Hour
		case "h", "m", "s", "ms", "us", "µs", "ns":
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q: %w", s, err)
			}
			if total > math.MaxInt64-d {
				return 0, fmt.Errorf("bad duration %q: too long", s)
			}
			total += d
			continue
		default:
			return 0, fmt.Errorf("bad duration %q: unknown unit %q (use s, m, h, d, w)", s, unit)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: %w", s, err)
		}
		part := f * float64(mult)
		if part >= math.MaxInt64 || float64(total)+part >= math.MaxInt64 {
			return 0, fmt.Errorf("bad duration %q: too long", s)
		}
		total += time.Duration(part)
	}
	return total, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration back in days or Go form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d Duration) String() string {
	v := time.Duration(d)
	switch {
	case v == 0:
		return "0s"
	case v%(7*24*time.Hour) == 0:
		return strconv.FormatInt(int64(v/(7*24*time.Hour)), 10) + "w"
	case v%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

// Size is a byte count written with a unit: B, KiB, MiB, GiB, TiB (1024)
// or KB, MB, GB, TB (1000).
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// ParseSize reads a size like "64MiB".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			num := strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || !(f >= 0) {
				return 0, fmt.Errorf("bad size %q: want a number and a unit, e.g. 64MiB", s)
			}
			if f*float64(u.mult) >= math.MaxInt64 {
				return 0, fmt.Errorf("bad size %q: too large", s)
			}
			return int64(f * float64(u.mult)), nil
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q: want a number and a unit, e.g. 64MiB", s)
	}
	return n, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = Size(v)
	return nil
}

// MarshalText writes the size in the largest binary unit that divides it.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.mult == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}
