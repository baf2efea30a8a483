package scheduler

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/appwrite-dr/dr/config"
)

// drillSource is testSource(true) with two drills: one that passed with a
// measured RTO, then one that failed its archive check before the import.
func drillSource() fixedSource {
	src := testSource(true)
	drills := []Run{
		{Kind: KindDrill, Trigger: TriggerSchedule, Outcome: OutcomeSuccess, Started: day(4, 9, 0), Ended: day(4, 9, 1), Duration: time.Minute, Backup: "a",
			Drill: &DrillOutcome{RTOSeconds: 42.5, BackupAgeSeconds: 3600, Passed: true, Checks: 9}},
		{Kind: KindDrill, Trigger: TriggerSchedule, Outcome: OutcomeFailed, Started: day(10, 9, 0), Ended: day(10, 9, 0).Add(5 * time.Second),
			Duration: 5 * time.Second, Backup: "b", Error: "drill failed: archive",
			Drill: &DrillOutcome{BackupAgeSeconds: 7200, Checks: 1, Failed: []string{"archive"}}},
	}
	src.snap.History.Runs = append(src.snap.History.Runs, drills...)
	src.snap.Counts[KindDrill] = map[string]int{OutcomeSuccess: 1, OutcomeFailed: 1}
	src.st = Evaluate(StatusInput{Config: config.Default(), History: &src.snap.History, Destinations: src.snap.Destinations,
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

func TestDrillOutcomeIsRecorded(t *testing.T) {
	clock := &fakeClock{t: day(1, 7, 0)}
	cfg := testConfig(t, "")
	cfg.Schedule.Drill = "0 9 * * *"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	want := &DrillOutcome{RTOSeconds: 12.5, BackupAgeSeconds: 60, Checks: 9, Failed: []string{"rows"}}
	d, err := New(Options{Config: cfg, Clock: clock, Jobs: map[string]JobFunc{KindDrill: func(context.Context, *config.Config) (JobResult, error) {
		cancel()
		return JobResult{Backup: "x", Drill: want}, errors.New("drill failed: rows")
	}}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilStopped(t, d, ctx)
	h, err := LoadHistory(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Last(KindDrill)
	if last == nil || last.Outcome != OutcomeFailed || last.Drill == nil || last.Drill.RTOSeconds != 12.5 || len(last.Drill.Failed) != 1 {
		t.Fatalf("recorded drill %+v (drill %+v)", last, last.Drill)
	}
	if h.LastDrillRTO() != last {
		// pointer equality: both point into h.Runs
		t.Error("LastDrillRTO should find the drill that measured an RTO")
	}
}

// A history written before drills were recorded still loads, and one with
// drills round-trips.
func TestHistoryDrillFieldIsOptional(t *testing.T) {
	dir := t.TempDir()
	old := `{"version":1,"last_due":{},"runs":[{"kind":"drill","trigger":"schedule","started":"2026-01-04T09:00:00Z","ended":"2026-01-04T09:01:00Z","outcome":"success","duration_ns":60000000000}]}`
	if err := os.WriteFile(filepath.Join(dir, HistoryFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Last(KindDrill); r == nil || r.Drill != nil || h.LastDrillRTO() != nil {
		t.Fatalf("old history read as %+v", h.Runs)
	}
	h.Runs[0].Drill = &DrillOutcome{RTOSeconds: 3, Passed: true, Checks: 9}
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	again, err := LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := again.LastDrillRTO(); r == nil || !reflect.DeepEqual(*r.Drill, DrillOutcome{RTOSeconds: 3, Passed: true, Checks: 9}) {
		t.Fatalf("round trip: %+v", again.Runs)
	}
}

// schedule.verify runs its job on its own schedule, after a backup due at
// the same time, and records it under its kind.
func TestVerifyRunsOnItsSchedule(t *testing.T) {
	clock := &fakeClock{t: day(1, 7, 0)}
	cfg := testConfig(t, "0 8 * * *")
	cfg.Schedule.Verify = "0 8 * * *"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var order []string
	job := func(kind string) JobFunc {
		return func(context.Context, *config.Config) (JobResult, error) {
			order = append(order, kind)
			if kind == KindVerify {
				cancel()
				return JobResult{Backup: "b", Destinations: []DestinationOutcome{{Name: "local", Error: "sha256 mismatch"}}}, errors.New("verifying b: 1 copy damaged")
			}
			return JobResult{Backup: "b"}, nil
		}
	}
	d, err := New(Options{Config: cfg, Clock: clock, Jobs: map[string]JobFunc{KindBackup: job(KindBackup), KindVerify: job(KindVerify)}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilStopped(t, d, ctx)
	if !reflect.DeepEqual(order, []string{KindBackup, KindVerify}) {
		t.Fatalf("ran %v, want backup then verify", order)
	}
	h, err := LoadHistory(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	v := h.Last(KindVerify)
	if v == nil || v.Outcome != OutcomeFailed || !v.Started.Equal(day(1, 8, 0)) || v.Destinations[0].Error != "sha256 mismatch" || Event(*v) != EventFailure {
		t.Fatalf("recorded verify %+v", v)
	}
}
