package scheduler

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

func TestDrillOutcomeIsRecorded(t *testing.T) {
	clock := &fakeClock{t: day(1, 7, 0)}
	cfg := testConfig(t, "")
	cfg.Schedule.Drill = "0 9 * * *"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	want := &DrillOutcome{RTOSeconds: 12.5, BackupAgeSeconds: 60, Checks: 9, Failed: []string{"rows"}}
	d, err := New(Options{Config: cfg, Clock: clock, Jobs: map[string]JobFunc{health.KindDrill: func(context.Context, *config.Config) (JobResult, error) {
		cancel()
		return JobResult{Backup: "x", Drill: want}, errors.New("drill failed: rows")
	}}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilStopped(t, d, ctx)
	h, err := health.LoadHistory(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Last(health.KindDrill)
	if last == nil || last.Outcome != health.OutcomeFailed || last.Drill == nil || last.Drill.RTOSeconds != 12.5 || len(last.Drill.Failed) != 1 {
		t.Fatalf("recorded drill %+v (drill %+v)", last, last.Drill)
	}
	if h.LastDrillRTO() != last {
		// pointer equality: both point into h.Runs
		t.Error("LastDrillRTO should find the drill that measured an RTO")
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
			if kind == health.KindVerify {
				cancel()
				return JobResult{Backup: "b", Destinations: []DestinationOutcome{{Name: "local", Error: "sha256 mismatch"}}}, errors.New("verifying b: 1 copy damaged")
			}
			return JobResult{Backup: "b"}, nil
		}
	}
	d, err := New(Options{Config: cfg, Clock: clock, Jobs: map[string]JobFunc{health.KindBackup: job(health.KindBackup), health.KindVerify: job(health.KindVerify)}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilStopped(t, d, ctx)
	if !reflect.DeepEqual(order, []string{health.KindBackup, health.KindVerify}) {
		t.Fatalf("ran %v, want backup then verify", order)
	}
	h, err := health.LoadHistory(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	v := h.Last(health.KindVerify)
	if v == nil || v.Outcome != health.OutcomeFailed || !v.Started.Equal(day(1, 8, 0)) || v.Destinations[0].Error != "sha256 mismatch" {
		t.Fatalf("recorded verify %+v", v)
	}
}
