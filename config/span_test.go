package config

import (
	"strings"
	"testing"
)

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in      string
		want    Span
		wantErr string
	}{
		{in: "", want: Span{}},
		{in: "0", want: Span{}},
		{in: "0s", want: Span{}},
		// m is restic's and borg's month, the unit this issue is about.
		{in: "1m", want: Span{Months: 1}},
		{in: "90m", want: Span{Months: 90}},
		{in: "1y5m7d2h", want: Span{Years: 1, Months: 5, Days: 7, Hours: 2}},
		{in: "1y1d1m", want: Span{Years: 1, Months: 1, Days: 1}},
		{in: "30d", want: Span{Days: 30}},
		{in: "36h", want: Span{Hours: 36}},
		{in: "2w", want: Span{Days: 14}},
		{in: "1w3d", want: Span{Days: 10}},
		{in: " 7d ", want: Span{Days: 7}},
		{in: "30s", wantErr: `unknown unit "s"`},
		{in: "5min", wantErr: `unknown unit "min"`},
		{in: "1.5d", wantErr: `unknown unit "."`},
		{in: "d", wantErr: "want whole numbers each followed by a unit"},
		{in: "-1d", wantErr: "want whole numbers each followed by a unit"},
		{in: "1d2d", wantErr: "appears twice"},
		{in: "99999999999999999999y", wantErr: "too large"},
		{in: "100001d", wantErr: "too large"},
		{in: "3 fortnights", wantErr: "bad duration"},
	}
	for _, tt := range tests {
		got, err := ParseSpan(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSpan(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			if err != nil && strings.Contains(tt.wantErr, "unit") && !strings.Contains(err.Error(), "m (months)") {
				t.Errorf("ParseSpan(%q): the error %q does not say which units keep_within takes", tt.in, err)
			}
		case err != nil:
			t.Errorf("ParseSpan(%q): %v", tt.in, err)
		case got != tt.want:
			t.Errorf("ParseSpan(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestSpanRoundTrips(t *testing.T) {
	for _, in := range []string{"0s", "1m", "1y5m7d2h", "30d", "36h"} {
		s, err := ParseSpan(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != in {
			t.Errorf("ParseSpan(%q).String() = %q", in, s)
		}
	}
}

func TestKeepWithinOneMonthIsAMonthInDrYaml(t *testing.T) {
	cfg, err := Parse([]byte(minimal[:len(minimal)-1]+"\n    retention: {keep_within: 1m}\n"), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Destinations[0].Retention.KeepWithin; got != (Span{Months: 1}) {
		t.Errorf("keep_within: 1m is %+v, want one month", got)
	}
	_, err = Parse([]byte(minimal[:len(minimal)-1]+"\n    retention: {keep_within: 90s}\n"), "dr.yaml", noEnv)
	if err == nil || !strings.Contains(err.Error(), "retention.keep_within") || !strings.Contains(err.Error(), "m (months)") {
		t.Errorf("keep_within: 90s: got %v, want an error naming the key and the units", err)
	}
}

// FuzzParseSpan: dr.yaml is outside input; the parser never panics, and
// what it accepts prints back to the same span.
func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"1m", "1y5m7d2h", "2w", "0s", "36h", "1.5d", "-1d", "9999999999y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpan(in)
		if err != nil {
			return
		}
		again, err := ParseSpan(s.String())
		if err != nil || again != s {
			t.Fatalf("ParseSpan(%q) = %+v prints as %q, which reads back as %+v, %v", in, s, s.String(), again, err)
		}
	})
}
