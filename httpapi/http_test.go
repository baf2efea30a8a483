package httpapi

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
	"github.com/appwrite-dr/dr/health"
)

func day(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, time.UTC) }

// fixedSource is a daemon frozen at one state.
type fixedSource struct {
	st   health.Status
	snap health.Snapshot
}

func (f fixedSource) Status(context.Context) health.Status { return f.st }
func (f fixedSource) Snapshot() health.Snapshot            { return f.snap }

func testSource(healthy bool) fixedSource {
	runs := []health.Run{
		{Kind: health.KindBackup, Outcome: health.OutcomeSuccess, Started: day(9, 8, 0), Ended: day(9, 8, 2), Duration: 2 * time.Minute, Bytes: 1000, Backup: "a",
			Destinations: []health.DestinationOutcome{{Name: "local"}, {Name: "s3"}}},
		{Kind: health.KindBackup, Outcome: health.OutcomeFailed, Started: day(10, 8, 0), Ended: day(10, 8, 1), Duration: time.Minute, Error: "s3 failed",
			Destinations: []health.DestinationOutcome{{Name: "local"}, {Name: "s3", Error: "refused"}}},
	}
	if healthy {
		runs[1].Outcome, runs[1].Error, runs[1].Destinations[1].Error = health.OutcomeSuccess, "", ""
		runs[1].Bytes = 1200
	}
	dests := []health.DestinationStatus{{Name: "local", Newest: "a", Time: day(9, 8, 0), Size: 1000}}
	st := health.Evaluate(health.StatusInput{Config: config.Default(), History: &health.History{Runs: runs}, Destinations: dests,
		Next: map[string]time.Time{health.KindBackup: day(11, 8, 0)}, Now: day(10, 12, 0)})
	return fixedSource{st: st, snap: health.Snapshot{
		Config: config.Default(), History: health.History{Runs: runs}, Next: map[string]time.Time{health.KindBackup: day(11, 8, 0)},
		Counts: map[string]map[string]int{health.KindBackup: {health.OutcomeSuccess: 1, health.OutcomeFailed: 1}}, Destinations: dests,
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

// drillSource is testSource(true) with two drills: one that passed with a
// measured RTO, then one that failed its archive check before the import.
func drillSource() fixedSource {
	src := testSource(true)
	drills := []health.Run{
		{Kind: health.KindDrill, Trigger: health.TriggerSchedule, Outcome: health.OutcomeSuccess, Started: day(4, 9, 0), Ended: day(4, 9, 1), Duration: time.Minute, Backup: "a",
			Drill: &health.DrillOutcome{RTOSeconds: 42.5, BackupAgeSeconds: 3600, Passed: true, Checks: 9}},
		{Kind: health.KindDrill, Trigger: health.TriggerSchedule, Outcome: health.OutcomeFailed, Started: day(10, 9, 0), Ended: day(10, 9, 0).Add(5 * time.Second),
			Duration: 5 * time.Second, Backup: "b", Error: "drill failed: archive",
			Drill: &health.DrillOutcome{BackupAgeSeconds: 7200, Checks: 1, Failed: []string{"archive"}}},
	}
	src.snap.History.Runs = append(src.snap.History.Runs, drills...)
	src.snap.Counts[health.KindDrill] = map[string]int{health.OutcomeSuccess: 1, health.OutcomeFailed: 1}
	src.st = health.Evaluate(health.StatusInput{Config: config.Default(), History: &src.snap.History, Destinations: src.snap.Destinations,
		Next: src.snap.Next, Now: day(10, 12, 0)})
	return src
}

func TestDrillMetrics(t *testing.T) {
	srv := httptest.NewServer(Handler(drillSource(), "", "v1"))
	defer srv.Close()
	// The last drill failed before its import: status 0 and one failed
	// check, while the RTO stays the one the passing drill measured.
	expected := `
# HELP dr_job_last_status 1 if the job's last run succeeded, 0 if it failed or was skipped.
# TYPE dr_job_last_status gauge
dr_job_last_status{kind="backup"} 1
dr_job_last_status{kind="drill"} 0
# HELP dr_job_last_success_timestamp_seconds When the job last succeeded.
# TYPE dr_job_last_success_timestamp_seconds gauge
dr_job_last_success_timestamp_seconds{kind="backup"} 1.76803206e+09
dr_job_last_success_timestamp_seconds{kind="drill"} 1.76751726e+09
# HELP dr_drill_last_rto_seconds Time from the newest drill that restored its database until the database was back.
# TYPE dr_drill_last_rto_seconds gauge
dr_drill_last_rto_seconds 42.5
# HELP dr_drill_last_rto_timestamp_seconds When the drill that measured dr_drill_last_rto_seconds ended.
# TYPE dr_drill_last_rto_timestamp_seconds gauge
dr_drill_last_rto_timestamp_seconds 1.76751726e+09
# HELP dr_drill_last_backup_age_seconds Age of the backup the last drill tested, when the drill started.
# TYPE dr_drill_last_backup_age_seconds gauge
dr_drill_last_backup_age_seconds 7200
# HELP dr_drill_last_failed_checks Checks the last drill failed.
# TYPE dr_drill_last_failed_checks gauge
dr_drill_last_failed_checks 1
# HELP dr_drill_last_checks Checks the last drill ran.
# TYPE dr_drill_last_checks gauge
dr_drill_last_checks 1
# HELP dr_job_runs_total Runs since the daemon started, by result.
# TYPE dr_job_runs_total counter
dr_job_runs_total{kind="backup",result="failed"} 1
dr_job_runs_total{kind="backup",result="skipped"} 0
dr_job_runs_total{kind="backup",result="success"} 1
dr_job_runs_total{kind="drill",result="failed"} 1
dr_job_runs_total{kind="drill",result="skipped"} 0
dr_job_runs_total{kind="drill",result="success"} 1
dr_job_runs_total{kind="verify",result="failed"} 0
dr_job_runs_total{kind="verify",result="skipped"} 0
dr_job_runs_total{kind="verify",result="success"} 0
`
	names := []string{"dr_job_last_status", "dr_job_last_success_timestamp_seconds", "dr_drill_last_rto_seconds", "dr_drill_last_rto_timestamp_seconds",
		"dr_drill_last_backup_age_seconds", "dr_drill_last_failed_checks", "dr_drill_last_checks", "dr_job_runs_total"}
	if err := testutil.ScrapeAndCompare(srv.URL+"/metrics", strings.NewReader(expected), names...); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(&collector{src: drillSource(), version: "v1"}); err != nil || len(problems) > 0 {
		t.Errorf("drill metrics break Prometheus conventions: %v %+v", err, problems)
	}

	// Without any drill recorded, no drill gauge is invented.
	plain := httptest.NewServer(Handler(testSource(true), "", "v1"))
	defer plain.Close()
	_, body := get(t, plain.URL+"/metrics", "")
	if strings.Contains(body, "dr_drill_") {
		t.Errorf("drill metrics without a drill:\n%s", body)
	}
}

func TestStatusPageShowsDrills(t *testing.T) {
	srv := httptest.NewServer(Handler(drillSource(), "", "v1"))
	defer srv.Close()
	code, body := get(t, srv.URL+"/", "")
	if code != 200 {
		t.Fatalf("status page = %d", code)
	}
	_, chart, ok := strings.Cut(body, `<svg id="drill-chart"`)
	if !ok {
		t.Fatalf("no drill chart:\n%s", body)
	}
	chart, _, _ = strings.Cut(chart, "</svg>")
	// Two bars: the passing drill in the drill colour at full height, the
	// failed one in red at the minimum height.
	if strings.Count(chart, "<rect ") != 2 || !strings.Contains(chart, `height="120" fill="`+colorDrill+`"`) ||
		!strings.Contains(chart, `height="4" fill="`+colorFailed+`"`) {
		t.Errorf("drill chart:\n%s", chart)
	}
	for _, want := range []string{"max 42.5s", "<td>42.5s</td>", "<td>1h0m0s</td>", "9 passed", "failed: archive", "<td>-</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	_, plain := get(t, httptest.NewServer(Handler(testSource(true), "", "v1")).URL+"/", "")
	if strings.Contains(plain, "drill-chart") || !strings.Contains(plain, "No drill recorded yet.") {
		t.Error("a page without drills should say so, not draw an empty chart")
	}
}
