package storage

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// resticTimeline is the 103-snapshot timeline of restic's policy tests
// (restic, internal/data/snapshot_policy_test.go, TestApplyPolicy;
// BSD-2-Clause, Copyright (c) 2014, Alexander Neumann), transcribed as
// times. The expected keep sets below are restic's golden results
// (testdata/policy_keep_snapshots_16, _24) or, for the mixed policy,
// worked out by restic's rules by hand.
var resticTimeline = []string{
	"2014-09-01 10:20:30", "2014-09-02 10:20:30", "2014-09-05 10:20:30", "2014-09-06 10:20:30",
	"2014-09-08 10:20:30", "2014-09-09 10:20:30", "2014-09-10 10:20:30", "2014-09-11 10:20:30",
	"2014-09-20 10:20:30", "2014-09-22 10:20:30", "2014-08-08 10:20:30", "2014-08-10 10:20:30",
	"2014-08-12 10:20:30", "2014-08-13 10:20:30", "2014-08-13 10:20:30.1", "2014-08-15 10:20:30",
	"2014-08-18 10:20:30", "2014-08-20 10:20:30", "2014-08-21 10:20:30", "2014-08-22 10:20:30",
	"2014-10-01 10:20:30", "2014-10-02 10:20:30", "2014-10-05 10:20:30", "2014-10-06 10:20:30",
	"2014-10-08 10:20:30", "2014-10-09 10:20:30", "2014-10-10 10:20:30", "2014-10-11 10:20:30",
	"2014-10-20 10:20:30", "2014-10-22 10:20:30", "2014-11-08 10:20:30", "2014-11-10 10:20:30",
	"2014-11-12 10:20:30", "2014-11-13 10:20:30", "2014-11-13 10:20:30.1", "2014-11-15 10:20:30",
	"2014-11-18 10:20:30", "2014-11-20 10:20:30", "2014-11-21 10:20:30", "2014-11-22 10:20:30",
	"2015-09-01 10:20:30", "2015-09-02 10:20:30", "2015-09-05 10:20:30", "2015-09-06 10:20:30",
	"2015-09-08 10:20:30", "2015-09-09 10:20:30", "2015-09-10 10:20:30", "2015-09-11 10:20:30",
	"2015-09-20 10:20:30", "2015-09-22 10:20:30", "2015-08-08 10:20:30", "2015-08-10 10:20:30",
	"2015-08-12 10:20:30", "2015-08-13 10:20:30", "2015-08-13 10:20:30.1", "2015-08-15 10:20:30",
	"2015-08-18 10:20:30", "2015-08-20 10:20:30", "2015-08-21 10:20:30", "2015-08-22 10:20:30",
	"2015-10-01 10:20:30", "2015-10-02 10:20:30", "2015-10-05 10:20:30", "2015-10-06 10:20:30",
	"2015-10-08 10:20:30", "2015-10-09 10:20:30", "2015-10-10 10:20:30", "2015-10-11 10:20:30",
	"2015-10-20 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30",
	"2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-11-08 10:20:30", "2015-11-10 10:20:30",
	"2015-11-12 10:20:30", "2015-11-13 10:20:30", "2015-11-13 10:20:30.1", "2015-11-15 10:20:30",
	"2015-11-18 10:20:30", "2015-11-20 10:20:30", "2015-11-21 10:20:30", "2015-11-22 10:20:30",
	"2016-01-01 01:02:03", "2016-01-01 01:03:03", "2016-01-01 07:08:03", "2016-01-03 07:02:03",
	"2016-01-04 10:23:03", "2016-01-04 11:23:03", "2016-01-04 12:23:03", "2016-01-04 12:24:03",
	"2016-01-04 12:28:03", "2016-01-04 12:30:03", "2016-01-04 16:23:03", "2016-01-05 09:02:03",
	"2016-01-06 08:02:03", "2016-01-07 10:02:03", "2016-01-08 20:02:03", "2016-01-09 21:02:03",
	"2016-01-12 21:02:03", "2016-01-12 21:08:03", "2016-01-18 12:02:03",
}

func resticCandidates(t *testing.T) []Candidate {
	t.Helper()
	out := make([]Candidate, len(resticTimeline))
	for i, s := range resticTimeline {
		ts, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		// Five snapshots share 2015-10-22 10:20:30; the index tells them
		// apart. The results compare times, so which of them is kept does
		// not matter.
		out[i] = Candidate{Name: fmt.Sprintf("%s #%03d", s, i), Time: ts}
	}
	return out
}

func keptTimes(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Keep {
			out = append(out, d.Time.UTC().Format("2006-01-02 15:04:05.9"))
		}
	}
	slices.Sort(out)
	return out
}

func TestApplyPolicyAgreesWithRestic(t *testing.T) {
	if len(resticTimeline) != 103 {
		t.Fatalf("the timeline has %d snapshots, restic's 103", len(resticTimeline))
	}
	now := time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC)
	jan2016 := []string{
		"2016-01-01 01:02:03", "2016-01-01 01:03:03", "2016-01-01 07:08:03", "2016-01-03 07:02:03",
		"2016-01-04 10:23:03", "2016-01-04 11:23:03", "2016-01-04 12:23:03", "2016-01-04 12:24:03",
		"2016-01-04 12:28:03", "2016-01-04 12:30:03", "2016-01-04 16:23:03", "2016-01-05 09:02:03",
		"2016-01-06 08:02:03", "2016-01-07 10:02:03", "2016-01-08 20:02:03", "2016-01-09 21:02:03",
		"2016-01-12 21:02:03", "2016-01-12 21:08:03", "2016-01-18 12:02:03",
	}
	tests := []struct {
		name       string
		policy     Policy
		want       []string
		wantOldest string // the rule whose room keeps the oldest backup
	}{
		{
			// restic's policy_keep_snapshots_16: one per year, and the
			// oldest of all because nine of ten yearly places are free.
			name:       "keep_yearly 10 over three years keeps the first backup too",
			policy:     Policy{Yearly: 10},
			want:       []string{"2014-08-08 10:20:30", "2014-11-22 10:20:30", "2015-11-22 10:20:30", "2016-01-18 12:02:03"},
			wantOldest: "yearly",
		},
		{
			// restic's policy 17: daily, weekly and monthly are full; the
			// yearly rule has room, so the oldest is kept.
			name:   "daily 7, weekly 2, monthly 3, yearly 10",
			policy: Policy{Daily: 7, Weekly: 2, Monthly: 3, Yearly: 10},
			want: []string{
				"2014-08-08 10:20:30", "2014-11-22 10:20:30", "2015-10-22 10:20:30", "2015-11-22 10:20:30",
				"2016-01-05 09:02:03", "2016-01-06 08:02:03", "2016-01-07 10:02:03", "2016-01-08 20:02:03",
				"2016-01-09 21:02:03", "2016-01-12 21:08:03", "2016-01-18 12:02:03",
			},
			wantOldest: "yearly",
		},
		{
			// restic's policy_keep_snapshots_24: 1m is one month.
			name:   "keep_within 1m keeps the month before the newest",
			policy: Policy{Within: Within{Months: 1}},
			want:   jan2016,
		},
		{
			name:   "keep_daily 3: every place used, the oldest goes",
			policy: Policy{Daily: 3},
			want:   []string{"2016-01-09 21:02:03", "2016-01-12 21:08:03", "2016-01-18 12:02:03"},
		},
		{
			name:   "keep_last 10",
			policy: Policy{Last: 10},
			want:   jan2016[9:],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Apply(tt.policy, resticCandidates(t), now)
			if got := keptTimes(ds); !slices.Equal(got, tt.want) {
				t.Errorf("kept %d: %v\nwant %d: %v", len(got), got, len(tt.want), tt.want)
			}
			for _, d := range ds {
				isOldest := d.Time.Equal(time.Date(2014, 8, 8, 10, 20, 30, 0, time.UTC))
				reasons := strings.Join(d.Reasons, "; ")
				if isOldest && tt.wantOldest != "" && !strings.Contains(reasons, "oldest, while the "+tt.wantOldest+" rule has room") {
					t.Errorf("the oldest backup is kept for %q, want the %s rule's room", reasons, tt.wantOldest)
				}
				if !isOldest && strings.Contains(reasons, "oldest") {
					t.Errorf("%s is kept as %q but is not the oldest", d.Name, reasons)
				}
			}
		})
	}
}

// TestKeepWithinOneMonthNeverPrunesBackupsYoungerThanAMonth: daily
// backups for a year, keep_within 1m and nothing else; whatever day the
// newest backup falls on, every backup less than a calendar month older is
// kept, and everything older goes.
func TestKeepWithinOneMonthNeverPrunesBackupsYoungerThanAMonth(t *testing.T) {
	backups := daily("2026-01-01T08:00:00Z", "2026-12-31T08:00:00Z")
	for _, newest := range []string{"2026-03-31T08:00:00Z", "2026-03-01T08:00:00Z", "2026-07-15T08:00:00Z", "2026-12-31T08:00:00Z"} {
		t.Run(newest, func(t *testing.T) {
			end := at(newest)
			var upTo []Candidate
			for _, b := range backups {
				if !b.Time.After(end) {
					upTo = append(upTo, b)
				}
			}
			ds := Apply(Policy{Within: Within{Months: 1}, Location: time.UTC}, upTo, end.Add(time.Hour))
			monthAgo := end.AddDate(0, -1, 0)
			for _, d := range ds {
				young := !d.Time.Before(monthAgo)
				if young && !d.Keep {
					t.Errorf("%s is younger than a month before %s and was pruned", d.Name, newest)
				}
				if !young && d.Keep {
					t.Errorf("%s is older than a month before %s and was kept for %v", d.Name, newest, d.Reasons)
				}
				if young && !slices.Contains(d.Reasons, "within 1 month of the newest") {
					t.Errorf("%s is kept for %v, want \"within 1 month of the newest\"", d.Name, d.Reasons)
				}
			}
		})
	}
}
