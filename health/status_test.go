package health

import (
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
)

func day(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, time.UTC) }

func TestEvaluate(t *testing.T) {
	now := day(10, 12, 0)
	fresh := DestinationStatus{Name: "local", Newest: "appwrite-20260110T080000Z.tar.zst", Time: day(10, 8, 0), Size: 10}
	ok := Run{Kind: KindBackup, Outcome: OutcomeSuccess, Started: day(10, 8, 0)}
	for _, tc := range []struct {
		name     string
		spec     string
		runs     []Run
		dests    []DestinationStatus
		restore  string
		problems []string // substrings, one per problem; none means healthy
	}{
		{"fresh and succeeded", "0 8 * * *", []Run{ok}, []DestinationStatus{fresh}, "", nil},
		{"last backup failed", "0 8 * * *", []Run{ok, {Kind: KindBackup, Outcome: OutcomeFailed, Error: "dump exited 2", Started: day(10, 9, 0)}},
			[]DestinationStatus{fresh}, "", []string{"last backup (2026-01-10T09:00:00Z) failed: dump exited 2"}},
		{"last backup skipped", "0 8 * * *", []Run{{Kind: KindBackup, Outcome: OutcomeSkipped, Error: "lock held by pid 1"}},
			[]DestinationStatus{fresh}, "", []string{"skipped: lock held by pid 1"}},
		{"a failed drill does not fail status", "0 8 * * *", []Run{ok, {Kind: KindDrill, Outcome: OutcomeFailed}}, []DestinationStatus{fresh}, "", nil},
		{"48h is the limit of a daily schedule", "0 8 * * *", []Run{ok},
			[]DestinationStatus{{Name: "off", Newest: "x", Time: now.Add(-48 * time.Hour)}}, "", nil},
		{"older than twice the interval", "0 8 * * *", []Run{ok},
			[]DestinationStatus{fresh, {Name: "off", Newest: "old", Time: now.Add(-49 * time.Hour)}}, "", []string{"destination off: the newest backup old is 49h0m0s old"}},
		{"hourly schedule is stricter", "@hourly", []Run{ok}, []DestinationStatus{fresh}, "", []string{"more than twice the schedule's interval (2h0m0s)"}},
		{"weekdays are judged by the weekend", "0 8 * * 1-5", []Run{ok},
			[]DestinationStatus{{Name: "local", Newest: "x", Time: now.Add(-80 * time.Hour)}}, "", nil},
		{"no schedule, no age limit", "", []Run{ok}, []DestinationStatus{{Name: "local", Newest: "x", Time: day(1, 1, 0)}}, "", nil},
		{"empty destination", "0 8 * * *", nil, []DestinationStatus{{Name: "local"}}, "", []string{"holds no complete backup"}},
		{"unreachable destination", "0 8 * * *", []Run{ok}, []DestinationStatus{fresh, {Name: "s3", Error: "listing: connection refused"}}, "", []string{"destination s3: listing: connection refused"}},
		{"unfinished restore", "0 8 * * *", []Run{ok}, []DestinationStatus{fresh}, "a restore of X did not finish", []string{"did not finish"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Schedule.Backup = tc.spec
			st := Evaluate(StatusInput{Config: cfg, History: &History{Runs: tc.runs}, Destinations: tc.dests, UnfinishedRestore: tc.restore, Now: now})
			if st.Healthy != (len(tc.problems) == 0) || len(st.Problems) != len(tc.problems) {
				t.Fatalf("healthy=%v problems=%q, want %q", st.Healthy, st.Problems, tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.Contains(st.Problems[i], p) {
					t.Errorf("problem %q lacks %q", st.Problems[i], p)
				}
			}
		})
	}
}

func TestEvaluateNextRuns(t *testing.T) {
	cfg := config.Default()                                                           // backup 0 8 * * *, drill 0 9 * * 0 (Sunday), no verify
	st := Evaluate(StatusInput{Config: cfg, History: &History{}, Now: day(1, 12, 0)}) // Thursday
	if len(st.Next) != 2 || !st.Next[0].At.Equal(day(2, 8, 0)) || !st.Next[1].At.Equal(day(4, 9, 0)) {
		t.Fatalf("next runs %+v", st.Next)
	}
	cfg.Schedule.Verify = "30 12 * * *"
	verified := Run{Kind: KindVerify, Outcome: OutcomeFailed, Error: "verifying x: damaged"}
	st = Evaluate(StatusInput{Config: cfg, History: &History{Runs: []Run{verified}}, Now: day(1, 12, 0)})
	if len(st.Next) != 3 || st.Next[2].Kind != KindVerify || !st.Next[2].At.Equal(day(1, 12, 30)) {
		t.Fatalf("next runs with schedule.verify %+v", st.Next)
	}
	// A failed verify is reported, like a failed drill, without making
	// the backups unhealthy: the probe's question is whether backups run.
	if st.LastVerify == nil || st.LastVerify.Error != verified.Error || !st.Healthy {
		t.Errorf("last verify %+v, healthy %v", st.LastVerify, st.Healthy)
	}
}
