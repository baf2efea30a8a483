package scheduler

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/appwrite-dr/dr/config"
)

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

// fixedSource is a daemon frozen at one state.
type fixedSource struct {
	st   Status
	snap Snapshot
}

func (f fixedSource) Status(context.Context) Status { return f.st }
func (f fixedSource) Snapshot() Snapshot            { return f.snap }

func testSource(healthy bool) fixedSource {
	runs := []Run{
		{Kind: KindBackup, Outcome: OutcomeSuccess, Started: day(9, 8, 0), Ended: day(9, 8, 2), Duration: 2 * time.Minute, Bytes: 1000, Backup: "a",
			Destinations: []DestinationOutcome{{Name: "local"}, {Name: "s3"}}},
		{Kind: KindBackup, Outcome: OutcomeFailed, Started: day(10, 8, 0), Ended: day(10, 8, 1), Duration: time.Minute, Error: "s3 failed",
			Destinations: []DestinationOutcome{{Name: "local"}, {Name: "s3", Error: "refused"}}},
	}
	if healthy {
		runs[1].Outcome, runs[1].Error, runs[1].Destinations[1].Error = OutcomeSuccess, "", ""
		runs[1].Bytes = 1200
	}
	dests := []DestinationStatus{{Name: "local", Newest: "a", Time: day(9, 8, 0), Size: 1000}}
	st := Evaluate(StatusInput{Config: config.Default(), History: &History{Runs: runs}, Destinations: dests,
		Next: map[string]time.Time{KindBackup: day(11, 8, 0)}, Now: day(10, 12, 0)})
	return fixedSource{st: st, snap: Snapshot{
		Config: config.Default(), History: History{Runs: runs}, Next: map[string]time.Time{KindBackup: day(11, 8, 0)},
		Counts: map[string]map[string]int{KindBackup: {OutcomeSuccess: 1, OutcomeFailed: 1}}, Destinations: dests,
	}}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestEndpointsAndToken(t *testing.T) {
	for _, healthy := range []bool{true, false} {
		srv := httptest.NewServer(Handler(testSource(healthy), "s3cret", "v1.2.3"))
		want := map[bool]int{true: 200, false: 503}[healthy]
		if code, _ := get(t, srv.URL+"/healthz", ""); code != want {
			t.Errorf("healthy=%v: /healthz without a token = %d, want %d", healthy, code, want)
		}
		for _, path := range []string{"/metrics", "/status", "/"} {
			if code, body := get(t, srv.URL+path, ""); code != 401 || strings.TrimSpace(body) != "unauthorized" {
				t.Errorf("%s without a token = %d %q, want a bare 401", path, code, body)
			}
			if code, _ := get(t, srv.URL+path, "wrong"); code != 401 {
				t.Errorf("%s with a wrong token = %d, want 401", path, code)
			}
			if code, _ := get(t, srv.URL+path, "s3cret"); code != 200 {
				t.Errorf("%s with the token = %d, want 200", path, code)
			}
		}
		srv.Close()
	}
	srv := httptest.NewServer(Handler(testSource(false), "", "v1"))
	defer srv.Close()
	if code, body := get(t, srv.URL+"/status", ""); code != 200 || !strings.Contains(body, `"healthy": false`) || !strings.Contains(body, "s3 failed") {
		t.Errorf("/status without a token configured = %d %s", code, body)
	}
	if code, body := get(t, srv.URL+"/", ""); code != 200 || !strings.Contains(body, `<svg id="size-chart"`) || strings.Count(body, "<rect ") != 4 {
		t.Errorf("status page = %d, want two charts of two bars:\n%s", code, body)
	}
}

func TestMetrics(t *testing.T) {
	srv := httptest.NewServer(Handler(testSource(false), "", "v1.2.3"))
	defer srv.Close()
	expected := `
# HELP dr_job_last_status 1 if the job's last run succeeded, 0 if it failed or was skipped.
# TYPE dr_job_last_status gauge
dr_job_last_status{kind="backup"} 0
# HELP dr_job_last_success_timestamp_seconds When the job last succeeded.
# TYPE dr_job_last_success_timestamp_seconds gauge
dr_job_last_success_timestamp_seconds{kind="backup"} 1.76794572e+09
# HELP dr_job_runs_total Runs since the daemon started, by result.
# TYPE dr_job_runs_total counter
dr_job_runs_total{kind="backup",result="failed"} 1
dr_job_runs_total{kind="backup",result="skipped"} 0
dr_job_runs_total{kind="backup",result="success"} 1
dr_job_runs_total{kind="drill",result="failed"} 0
dr_job_runs_total{kind="drill",result="skipped"} 0
dr_job_runs_total{kind="drill",result="success"} 0
dr_job_runs_total{kind="verify",result="failed"} 0
dr_job_runs_total{kind="verify",result="skipped"} 0
dr_job_runs_total{kind="verify",result="success"} 0
# HELP dr_backup_last_size_bytes Archive size of the last successful backup.
# TYPE dr_backup_last_size_bytes gauge
dr_backup_last_size_bytes 1000
# HELP dr_backup_destination_last_status 1 if the last backup committed on the destination.
# TYPE dr_backup_destination_last_status gauge
dr_backup_destination_last_status{destination="local"} 1
dr_backup_destination_last_status{destination="s3"} 0
# HELP dr_destination_newest_backup_age_seconds Age of the destination's newest complete backup.
# TYPE dr_destination_newest_backup_age_seconds gauge
dr_destination_newest_backup_age_seconds{destination="local"} 100800
# HELP dr_healthy 1 when dr status would exit 0.
# TYPE dr_healthy gauge
dr_healthy 0
# HELP dr_job_next_run_timestamp_seconds When the job runs next.
# TYPE dr_job_next_run_timestamp_seconds gauge
dr_job_next_run_timestamp_seconds{kind="backup"} 1.7681184e+09
`
	names := []string{"dr_job_last_status", "dr_job_last_success_timestamp_seconds", "dr_job_runs_total", "dr_backup_last_size_bytes",
		"dr_backup_destination_last_status", "dr_destination_newest_backup_age_seconds", "dr_healthy", "dr_job_next_run_timestamp_seconds"}
	if err := testutil.ScrapeAndCompare(srv.URL+"/metrics", strings.NewReader(expected), names...); err != nil {
		t.Error(err)
	}
	c := &collector{src: testSource(true), version: "v1"}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("metrics break Prometheus conventions: %v %+v", err, problems)
	}
}
