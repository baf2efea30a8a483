package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Span is a retention span (keep_within) in restic's calendar units, the
// ones an operator who knows restic or borg writes: y (years), m
// (months), d (days), h (hours), plus w (weeks, seven days). "1m" is one
// month here, never one minute: read as minutes, the policy an operator
// copied from restic would keep a minute of backups and prune the rest.
// Months and years are calendar ones, counted back from a time with
// time.AddDate, as restic does.
type Span struct {
	Years, Months, Days, Hours int
}

// maxCalendarPart bounds each number so that counting back from any
// backup's time stays far inside what time.Time can hold.
const maxCalendarPart = 100000

// calendarUnitsHelp is what an error about a retention span offers.
const calendarUnitsHelp = "retention spans take restic's calendar units: y (years), m (months), d (days), h (hours), w (weeks), e.g. 1y6m, 30d or 36h; m is months, never minutes"

// ParseSpan reads a retention span like "1y5m7d2h" or "2w".
// Whole numbers only; each unit at most once. "", "0" and "0s" (what dr
// used to write for "no span") are zero.
func ParseSpan(s string) (Span, error) {
	var d Span
	t := strings.TrimSpace(s)
	if t == "" || t == "0" || t == "0s" {
		return d, nil
	}
	seen := map[byte]bool{}
	rest := t
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return Span{}, fmt.Errorf("bad duration %q: want whole numbers each followed by a unit; %s", s, calendarUnitsHelp)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		n, err := strconv.Atoi(num)
		if err != nil || n > maxCalendarPart {
			return Span{}, fmt.Errorf("bad duration %q: %s is too large", s, num)
		}
		if len(unit) != 1 || !strings.Contains("ymdhw", unit) {
			return Span{}, fmt.Errorf("bad duration %q: unknown unit %q; %s", s, unit, calendarUnitsHelp)
		}
		if seen[unit[0]] {
			return Span{}, fmt.Errorf("bad duration %q: unit %q appears twice", s, unit)
		}
		seen[unit[0]] = true
		switch unit[0] {
		case 'y':
			d.Years = n
		case 'm':
			d.Months = n
		case 'd':
			d.Days += n
		case 'w':
			d.Days += 7 * n
		case 'h':
			d.Hours = n
		}
	}
	return d, nil
}

// IsZero says whether the span is empty (the rule is off).
func (d Span) IsZero() bool { return d == Span{} }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes the span back in the form it is read in.
func (d Span) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String is the span in restic's form, e.g. 1y5m7d2h; zero is "0s", as
// dr has always written an unset keep_within.
func (d Span) String() string {
	if d.IsZero() {
		return "0s"
	}
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{d.Years, "y"}, {d.Months, "m"}, {d.Days, "d"}, {d.Hours, "h"}} {
		if p.n != 0 {
			b.WriteString(strconv.Itoa(p.n) + p.unit)
		}
	}
	return b.String()
}
