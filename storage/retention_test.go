package storage

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// daily makes one backup a day at 08:00 UTC from first to last.
func daily(first, last string) []Candidate {
	var out []Candidate
	for t := at(first); !t.After(at(last)); t = t.AddDate(0, 0, 1) {
		out = append(out, Candidate{Name: t.Format("20060102T150405Z"), Time: t})
	}
	return out
}

func named(times ...string) []Candidate {
	out := make([]Candidate, len(times))
	for i, s := range times {
		out[i] = Candidate{Name: s, Time: at(s)}
	}
	return out
}

func kept(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Keep {
			out = append(out, d.Name)
		}
	}
	slices.Sort(out)
	return out
}

func TestApplyPolicy(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := at("2027-01-01T00:00:00Z")
	tests := []struct {
		name    string
		policy  Policy
		backups []Candidate
		now     time.Time
		want    []string
	}{
		{
			name:    "empty policy keeps everything",
			backups: named("2026-11-01T08:00:00Z", "2026-11-02T08:00:00Z", "2026-11-03T08:00:00Z"),
			want:    []string{"2026-11-01T08:00:00Z", "2026-11-02T08:00:00Z", "2026-11-03T08:00:00Z"},
		},
		{
			name:    "keep_last",
			policy:  Policy{Last: 2},
			backups: named("2026-11-01T08:00:00Z", "2026-11-02T08:00:00Z", "2026-11-03T08:00:00Z", "2026-11-04T08:00:00Z"),
			want:    []string{"2026-11-03T08:00:00Z", "2026-11-04T08:00:00Z"},
		},
		{
			name:    "yearly 1 keeps only the newest of the newest year",
			policy:  Policy{Yearly: 1, Location: time.UTC},
			backups: named("2025-12-31T08:00:00Z", "2026-01-01T08:00:00Z"),
			want:    []string{"2026-01-01T08:00:00Z"},
		},
		{
			name:    "daily with gaps counts days that have backups",
			policy:  Policy{Daily: 3},
			backups: named("2026-10-01T08:00:00Z", "2026-10-09T08:00:00Z", "2026-10-20T08:00:00Z", "2026-10-20T09:00:00Z", "2026-11-02T08:00:00Z"),
			want:    []string{"2026-10-09T08:00:00Z", "2026-10-20T09:00:00Z", "2026-11-02T08:00:00Z"},
		},
		{
			name:    "several per hour: the newest of each hour",
			policy:  Policy{Hourly: 2},
			backups: named("2026-11-25T10:05:00Z", "2026-11-25T10:35:00Z", "2026-11-25T11:05:00Z", "2026-11-25T11:35:00Z"),
			want:    []string{"2026-11-25T10:35:00Z", "2026-11-25T11:35:00Z"},
		},
		{
			name: "days are the configured zone's: 23:30 UTC is the next day in Berlin",
			// 2026-11-24T23:30Z is 00:30 on the 25th in Berlin, the same
			// day as 22:00Z on the 25th (23:00 local).
			policy:  Policy{Daily: 2, Location: berlin},
			backups: named("2026-11-24T20:00:00Z", "2026-11-24T23:30:00Z", "2026-11-25T22:00:00Z"),
			want:    []string{"2026-11-24T20:00:00Z", "2026-11-25T22:00:00Z"},
		},
		{
			name: "the hour that repeats when DST ends is two hours",
			// 00:30Z and 01:30Z on 2026-10-25 are both 02:30 in Berlin:
			// CEST, then CET.
			policy:  Policy{Hourly: 3, Location: berlin},
			backups: named("2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"),
			want:    []string{"2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"},
		},
		{
			name: "the hour skipped when DST starts is no bucket",
			// 00:30Z is 01:30 CET, 01:30Z is 03:30 CEST on 2026-03-29.
			policy:  Policy{Hourly: 1, Daily: 1, Location: berlin},
			backups: named("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
			want:    []string{"2026-03-29T01:30:00Z"},
		},
		{
			name:    "a backup dated in the future pushes no real one out",
			policy:  Policy{Last: 2, Daily: 2},
			backups: named("2026-12-28T08:00:00Z", "2026-12-29T08:00:00Z", "2026-12-30T08:00:00Z", "2027-03-01T08:00:00Z"),
			want:    []string{"2026-12-29T08:00:00Z", "2026-12-30T08:00:00Z", "2027-03-01T08:00:00Z"},
		},
		{
			name:    "keep_within counts back from the newest backup, not from now",
			policy:  Policy{Within: Within{Hours: 72}},
			backups: named("2026-09-01T08:00:00Z", "2026-09-25T08:00:00Z", "2026-09-27T08:00:00Z", "2026-09-28T08:00:00Z"),
			want:    []string{"2026-09-25T08:00:00Z", "2026-09-27T08:00:00Z", "2026-09-28T08:00:00Z"},
		},
		{
			name:   "pinned and the newest drilled are kept",
			policy: Policy{Last: 1},
			backups: []Candidate{
				{Name: "a", Time: at("2026-01-01T08:00:00Z"), Pinned: true},
				{Name: "b", Time: at("2026-02-01T08:00:00Z"), DrillPassed: true},
				{Name: "c", Time: at("2026-03-01T08:00:00Z"), DrillPassed: true},
				{Name: "d", Time: at("2026-04-01T08:00:00Z")},
				{Name: "e", Time: at("2026-05-01T08:00:00Z")},
			},
			want: []string{"a", "c", "e"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.now
			if n.IsZero() {
				n = now
			}
			got := kept(Apply(tt.policy, tt.backups, n))
			want := append([]string(nil), tt.want...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("kept %v, want %v", got, want)
			}
		})
	}
}

// TestTwoYearsOfDailyBackups is docs/retention.md's worked example: the default
// policy's buckets, counted by hand for 2025-01-01 … 2026-12-31.
func TestTwoYearsOfDailyBackups(t *testing.T) {
	backups := daily("2025-01-01T08:00:00Z", "2026-12-31T08:00:00Z")
	ds := Apply(Policy{Daily: 7, Weekly: 4, Monthly: 12, Yearly: 2, Location: time.UTC}, backups, at("2027-01-01T00:00:00Z"))
	want := []string{
		// daily: the last 7 days
		"20261225T080000Z", "20261226T080000Z", "20261227T080000Z", "20261228T080000Z", "20261229T080000Z", "20261230T080000Z", "20261231T080000Z",
		// weekly: W53 and W52 are in the days already; W51 and W50
		"20261213T080000Z", "20261220T080000Z",
		// monthly: the last day of each month of 2026 (December's is kept)
		"20260131T080000Z", "20260228T080000Z", "20260331T080000Z", "20260430T080000Z", "20260531T080000Z", "20260630T080000Z",
		"20260731T080000Z", "20260831T080000Z", "20260930T080000Z", "20261031T080000Z", "20261130T080000Z",
		// yearly: 2026's is kept; 2025's
		"20251231T080000Z",
	}
	slices.Sort(want)
	if got := kept(ds); !slices.Equal(got, want) {
		t.Errorf("kept %d: %v\nwant %d: %v", len(got), got, len(want), want)
	}
	for _, d := range ds {
		if d.Name == "20261220T080000Z" && !strings.HasPrefix(strings.Join(d.Reasons, ","), "weekly 2026-W51") {
			t.Errorf("20261220 is kept for %v, want weekly 2026-W51", d.Reasons)
		}
	}
}

// TestPolicyProperties: on random timelines and policies, the newest
// backup is always kept, every removed one has no reason and every kept
// one at least one, and the kept set is stable when the policy is applied
// to it again.
func TestPolicyProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	now := at("2027-01-01T00:00:00Z")
	for i := 0; i < 500; i++ {
		p := Policy{Last: rng.Intn(4), Hourly: rng.Intn(4), Daily: rng.Intn(8), Weekly: rng.Intn(5), Monthly: rng.Intn(13), Yearly: rng.Intn(3), Location: time.UTC}
		if rng.Intn(4) == 0 {
			p.Within = Within{Months: rng.Intn(3), Days: rng.Intn(30), Hours: rng.Intn(24)}
		}
		var backups []Candidate
		for j, n := 0, 1+rng.Intn(60); j < n; j++ {
			ts := now.Add(-time.Duration(rng.Int63n(int64(800 * 24 * time.Hour))))
			if rng.Intn(30) == 0 {
				ts = now.Add(time.Duration(rng.Intn(100)+1) * time.Hour) // a wrong clock
			}
			backups = append(backups, Candidate{Name: fmt.Sprintf("b%03d", j), Time: ts, Pinned: rng.Intn(40) == 0})
		}
		ds := Apply(p, backups, now)
		var newest *Decision
		for k := range ds {
			if ds[k].Keep != (len(ds[k].Reasons) > 0) {
				t.Fatalf("policy %+v: %s keep=%v with reasons %v", p, ds[k].Name, ds[k].Keep, ds[k].Reasons)
			}
			if !ds[k].Time.After(now.Add(futureSlack)) && newest == nil {
				newest = &ds[k]
			}
		}
		if newest != nil && !newest.Keep {
			t.Fatalf("policy %+v removes the newest backup %s", p, newest.Name)
		}
		var again []Candidate
		for _, b := range backups {
			for _, d := range ds {
				if d.Name == b.Name && d.Keep {
					again = append(again, b)
				}
			}
		}
		if got := kept(Apply(p, again, now)); !slices.Equal(got, kept(ds)) {
			t.Fatalf("policy %+v is not stable: kept %v, then %v", p, kept(ds), got)
		}
	}
}
