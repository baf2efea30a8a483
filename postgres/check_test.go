package postgres

import (
	"math"
	"testing"
)

func TestFoldChecksum(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
	}{
		{"0", 0},
		{"42", 42},
		{"-1", math.MaxUint64},
		{"18446744073709551617", 1}, // 2^64 + 1
		{"-18446744073709551617", math.MaxUint64},
	} {
		got, err := foldChecksum(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("foldChecksum(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := foldChecksum("1.5"); err == nil {
		t.Error("a fraction read as a sum")
	}
}

func TestViewProbeReadsAtMostOneRow(t *testing.T) {
	if got, want := viewProbe(`public.we"ird`), `SELECT count(*) FROM (SELECT 1 FROM "public"."we""ird" LIMIT 1) AS dr_probe`; got != want {
		t.Errorf("probe %q, want %q", got, want)
	}
}
