package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/lock"
)

// fakeClock moves only when the daemon waits: After advances it by the
// wait and fires at once, so a month of schedule runs in milliseconds.
// jumps adds extra time to the next waits (a suspended host).
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	jumps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	if len(c.jumps) > 0 {
		c.t = c.t.Add(c.jumps[0])
		c.jumps = c.jumps[1:]
	}
	ch := make(chan time.Time, 1)
	ch <- c.t
	c.mu.Unlock()
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig(t *testing.T, backupSpec string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	cfg.Schedule = config.Schedule{Backup: backupSpec, Timezone: "UTC"}
	cfg.Destinations = []config.Destination{{Name: "local", Remote: t.TempDir()}}
	return cfg
}

// recorder is a fake job that records when it ran and stops the daemon
// after n runs.
type recorder struct {
	mu     sync.Mutex
	clock  Clock
	starts []time.Time
	stopAt int
	cancel context.CancelFunc
	err    error
	took   time.Duration
}

func (r *recorder) job(ctx context.Context, _ *config.Config) (JobResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, r.clock.Now())
	if fc, ok := r.clock.(*fakeClock); ok && r.took > 0 {
		fc.advance(r.took)
	}
	if len(r.starts) >= r.stopAt {
		r.cancel()
	}
	return JobResult{Backup: "b", Bytes: 100}, r.err
}

func day(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, time.UTC) }

func newTestDaemon(t *testing.T, cfg *config.Config, clock Clock, stopAt int, mutate func(*Options)) (*Daemon, *recorder, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rec := &recorder{clock: clock, stopAt: stopAt, cancel: cancel}
	opts := Options{Config: cfg, Clock: clock, Jobs: map[string]JobFunc{health.KindBackup: rec.job}, Tick: 30 * time.Second}
	if mutate != nil {
		mutate(&opts)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, rec, ctx
}

func runUntilStopped(t *testing.T, d *Daemon, ctx context.Context) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

func TestRunsAtTheCronTimesInTheZone(t *testing.T) {
	for _, tc := range []struct {
		name, spec, zone string
		start            time.Time
		want             []time.Time
	}{
		{"daily at 8 UTC", "0 8 * * *", "UTC", day(1, 7, 0), []time.Time{day(1, 8, 0), day(2, 8, 0), day(3, 8, 0)}},
		{"started after today's run", "0 8 * * *", "UTC", day(1, 9, 0), []time.Time{day(2, 8, 0), day(3, 8, 0)}},
		{"hourly", "@hourly", "UTC", day(1, 7, 59), []time.Time{day(1, 8, 0), day(1, 9, 0)}},
		// From mid-minute the first run is at the next boundary, not a
		// minute after the start.
		{"every minute, started mid-minute", "* * * * *", "UTC", day(1, 7, 0).Add(40 * time.Second), []time.Time{day(1, 7, 1), day(1, 7, 2), day(1, 7, 3)}},
		{"8 in Berlin is 7 UTC in winter", "0 8 * * *", "Europe/Berlin", day(1, 0, 0), []time.Time{day(1, 7, 0), day(2, 7, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, tc.spec)
			cfg.Schedule.Timezone = tc.zone
			clock := &fakeClock{t: tc.start}
			d, rec, ctx := newTestDaemon(t, cfg, clock, len(tc.want), nil)
			runUntilStopped(t, d, ctx)
			if !equalTimes(rec.starts, tc.want) {
				t.Errorf("ran at %v, want %v", rec.starts, tc.want)
			}
			for _, r := range d.Snapshot().History.Runs {
				if r.Trigger != health.TriggerSchedule || r.Outcome != health.OutcomeSuccess {
					t.Errorf("run %+v: want a scheduled success", r)
				}
			}
		})
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestMissedRunsAreCaughtUpOnce(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	// The daemon last ran the 1st at 8 and was down until the 4th at noon:
	// three runs missed, one catch-up, then the schedule again.
	h := &health.History{LastDue: map[string]time.Time{health.KindBackup: day(1, 8, 0)}}
	if err := h.Save(cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: day(4, 12, 0)}
	d, rec, ctx := newTestDaemon(t, cfg, clock, 2, nil)
	runUntilStopped(t, d, ctx)
	if want := []time.Time{day(4, 12, 0), day(5, 8, 0)}; !equalTimes(rec.starts, want) {
		t.Fatalf("ran at %v, want %v", rec.starts, want)
	}
	runs := d.Snapshot().History.Runs
	if runs[0].Trigger != health.TriggerCatchUp || runs[1].Trigger != health.TriggerSchedule {
		t.Errorf("triggers %s, %s; want catch-up, schedule", runs[0].Trigger, runs[1].Trigger)
	}
}

func TestNoCatchUpWhenNothingWasMissed(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	h := &health.History{LastDue: map[string]time.Time{health.KindBackup: day(4, 8, 0)}}
	if err := h.Save(cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: day(4, 12, 0)}
	d, rec, ctx := newTestDaemon(t, cfg, clock, 1, nil)
	runUntilStopped(t, d, ctx)
	if want := []time.Time{day(5, 8, 0)}; !equalTimes(rec.starts, want) {
		t.Fatalf("ran at %v, want %v", rec.starts, want)
	}
}

func TestSuspendedHostRunsOnWakeUp(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	// The host sleeps at 7:00 and wakes at 17:00: the daemon's first wait
	// returns ten hours late by the wall clock.
	clock := &fakeClock{t: day(1, 7, 0), jumps: []time.Duration{10 * time.Hour}}
	d, rec, ctx := newTestDaemon(t, cfg, clock, 2, nil)
	runUntilStopped(t, d, ctx)
	if want := []time.Time{day(1, 17, 0).Add(30 * time.Second), day(2, 8, 0)}; !equalTimes(rec.starts, want) {
		t.Fatalf("ran at %v, want %v", rec.starts, want)
	}
	if tr := d.Snapshot().History.Runs[0].Trigger; tr != health.TriggerCatchUp {
		t.Errorf("the run after wake-up has trigger %s, want catch-up", tr)
	}
}

func TestJitterDelaysWithinBound(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	clock := &fakeClock{t: day(1, 7, 0)}
	d, rec, ctx := newTestDaemon(t, cfg, clock, 2, func(o *Options) {
		o.Jitter = 10 * time.Minute
		o.Rand = func(n int64) int64 { return n - 1 } // the longest delay
	})
	runUntilStopped(t, d, ctx)
	want := []time.Time{day(1, 8, 10).Add(-time.Nanosecond), day(2, 8, 10).Add(-time.Nanosecond)}
	if !equalTimes(rec.starts, want) {
		t.Fatalf("ran at %v, want %v", rec.starts, want)
	}
}

func TestRunNowStartsWithABackup(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	clock := &fakeClock{t: day(1, 12, 0)}
	d, rec, ctx := newTestDaemon(t, cfg, clock, 2, func(o *Options) { o.RunNow = true })
	runUntilStopped(t, d, ctx)
	if want := []time.Time{day(1, 12, 0), day(2, 8, 0)}; !equalTimes(rec.starts, want) {
		t.Fatalf("ran at %v, want %v", rec.starts, want)
	}
	if tr := d.Snapshot().History.Runs[0].Trigger; tr != health.TriggerRunNow {
		t.Errorf("trigger %s, want run-now", tr)
	}
}

type fakeLock struct {
	mu       sync.Mutex
	heldFor  int // calls that find it held
	calls    int
	released int
}

func (f *fakeLock) acquire(dir, what string) (Releaser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.heldFor {
		return nil, &lock.HeldError{Path: filepath.Join(dir, lock.FileName), Holder: "pid 4242 (restore) since 2026-01-01T07:59:00Z"}
	}
	return f, nil
}

func (f *fakeLock) Release() error {
	f.mu.Lock()
	f.released++
	f.mu.Unlock()
	return nil
}

func TestLockHeldByAnotherRun(t *testing.T) {
	t.Run("held past the bounded wait: skipped, job never run", func(t *testing.T) {
		cfg := testConfig(t, "0 8 * * *")
		clock := &fakeClock{t: day(1, 7, 0)}
		fl := &fakeLock{heldFor: 1 << 30}
		var got []health.Run
		d, rec, ctx := newTestDaemon(t, cfg, clock, 1, func(o *Options) {
			o.Acquire, o.LockWait, o.LockPoll = fl.acquire, 10*time.Minute, 5*time.Second
		})
		ctx, cancel := context.WithCancel(ctx)
		d.opts.OnRun = func(_ context.Context, _ *config.Config, r health.Run) { got = append(got, r); cancel() }
		runUntilStopped(t, d, ctx)
		if len(rec.starts) != 0 {
			t.Fatalf("the job ran %d times with the lock held", len(rec.starts))
		}
		if len(got) != 1 || got[0].Outcome != health.OutcomeSkipped || !strings.Contains(got[0].Error, "pid 4242 (restore)") {
			t.Fatalf("runs %+v: want one skipped run naming the holder", got)
		}
		if got[0].Duration != 10*time.Minute {
			t.Errorf("waited %s, want the 10m bound", got[0].Duration)
		}
		if fl.calls != 121 {
			t.Errorf("tried %d times, want every 5s for 10m and once more (121)", fl.calls)
		}
	})
	t.Run("a wait shorter than the poll still ends at the bound", func(t *testing.T) {
		cfg := testConfig(t, "0 8 * * *")
		clock := &fakeClock{t: day(1, 7, 0)}
		fl := &fakeLock{heldFor: 1 << 30}
		d, _, ctx := newTestDaemon(t, cfg, clock, 1, func(o *Options) {
			o.Acquire, o.LockWait, o.LockPoll = fl.acquire, 3*time.Second, 5*time.Second
		})
		ctx, cancel := context.WithCancel(ctx)
		var got []health.Run
		d.opts.OnRun = func(_ context.Context, _ *config.Config, r health.Run) { got = append(got, r); cancel() }
		runUntilStopped(t, d, ctx)
		if len(got) != 1 || got[0].Outcome != health.OutcomeSkipped || got[0].Duration != 3*time.Second || fl.calls != 2 {
			t.Fatalf("runs %+v after %d tries: want one skipped after 3s and 2 tries", got, fl.calls)
		}
	})
	t.Run("freed within the wait: runs once, lock released", func(t *testing.T) {
		cfg := testConfig(t, "0 8 * * *")
		clock := &fakeClock{t: day(1, 7, 0)}
		fl := &fakeLock{heldFor: 3}
		d, rec, ctx := newTestDaemon(t, cfg, clock, 1, func(o *Options) { o.Acquire = fl.acquire })
		runUntilStopped(t, d, ctx)
		if len(rec.starts) != 1 || !rec.starts[0].Equal(day(1, 8, 0).Add(15*time.Second)) {
			t.Fatalf("ran at %v, want once at 8:00:15", rec.starts)
		}
		if fl.released != 1 {
			t.Errorf("lock released %d times, want 1", fl.released)
		}
	})
}

func TestFailedJobIsRecordedRedacted(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	clock := &fakeClock{t: day(1, 7, 0)}
	d, rec, ctx := newTestDaemon(t, cfg, clock, 1, nil)
	rec.err = errors.New(`uploading to :webdav,url='http://bob:hunter2@127.0.0.1:1/',pass=OBSCURED:dst: refused`)
	runUntilStopped(t, d, ctx)
	h, err := health.LoadHistory(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Last(health.KindBackup)
	if last == nil || last.Outcome != health.OutcomeFailed || !strings.Contains(last.Error, "refused") {
		t.Fatalf("history %+v: want the failed run", h.Runs)
	}
	raw, _ := os.ReadFile(filepath.Join(cfg.StateDir, health.HistoryFile))
	for _, secret := range []string{"hunter2", "OBSCURED"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the history on disk holds %q", secret)
		}
	}
}

func TestReload(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	clock := &fakeClock{t: day(1, 7, 0)}
	next := cfg
	var reloadErr error
	d, _, _ := newTestDaemon(t, cfg, clock, 1, func(o *Options) {
		o.Reload = func() (*config.Config, error) { return next, reloadErr }
	})
	d.plan(clock.Now())

	reloadErr = errors.New("dr.yaml:3: schedule.backup: not a cron expression")
	d.doReload()
	if got := d.Snapshot().Next[health.KindBackup]; !got.Equal(day(1, 8, 0)) {
		t.Fatalf("after a refused reload next = %v, want the old schedule's 8:00", got)
	}

	reloadErr = nil
	moved := *cfg
	moved.Schedule.Backup = "30 9 * * *"
	next = &moved
	d.doReload()
	if got := d.Snapshot().Next[health.KindBackup]; !got.Equal(day(1, 9, 30)) {
		t.Fatalf("after a good reload next = %v, want 9:30", got)
	}

	other := moved
	other.StateDir = t.TempDir()
	next = &other
	d.doReload()
	if got := d.Snapshot().Config.StateDir; got != cfg.StateDir {
		t.Errorf("a reload moved the state directory to %s", got)
	}
}

func TestStopCancelsTheRunningJob(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := New(Options{Config: cfg, RunNow: true, Jobs: map[string]JobFunc{health.KindBackup: func(ctx context.Context, _ *config.Config) (JobResult, error) {
		close(started)
		<-ctx.Done()
		return JobResult{}, ctx.Err()
	}}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-started
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a stop is not an error: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the stop")
	}
	snap := d.Snapshot()
	last := snap.History.Last(health.KindBackup)
	if last == nil || last.Outcome != health.OutcomeFailed || !strings.Contains(last.Error, "daemon stopping") {
		t.Fatalf("last run %+v: want the interrupted backup recorded", last)
	}
}

// TestFinishedRunSeesItsBackupListed: whoever sees a backup run recorded
// (the "job finished" log line, /healthz) must also see the destinations
// listed after it, or a good backup reads as "no backup yet".
func TestFinishedRunSeesItsBackupListed(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	clock := &fakeClock{t: day(1, 12, 0)}
	var d *Daemon
	listings := 0
	var recordedBeforeListing []int
	d, _, ctx := newTestDaemon(t, cfg, clock, 2, func(o *Options) {
		o.RunNow = true
		o.Destinations = func(context.Context, *config.Config) []health.DestinationStatus {
			listings++
			recordedBeforeListing = append(recordedBeforeListing, len(d.Snapshot().History.Runs))
			return []health.DestinationStatus{{Name: "local", Newest: fmt.Sprintf("listing-%d", listings)}}
		}
	})
	runUntilStopped(t, d, ctx)
	// Listing 1 at start-up, listing 2 after the run-now backup; the
	// second run cancels the daemon, so nothing lists after it.
	if want := []int{0, 0}; !slices.Equal(recordedBeforeListing, want) {
		t.Fatalf("runs already recorded at each listing = %v, want %v", recordedBeforeListing, want)
	}
	if got := d.Snapshot().Destinations[0].Newest; got != "listing-2" {
		t.Errorf("destinations after the run = %s, want listing-2", got)
	}
}

// TestHealthyOnlyOnceListed: the HTTP server answers before Run's first
// listing; until then every destination is a problem, not an empty list.
func TestHealthyOnlyOnceListed(t *testing.T) {
	cfg := testConfig(t, "0 8 * * *")
	d, _, _ := newTestDaemon(t, cfg, &fakeClock{t: day(1, 12, 0)}, 1, func(o *Options) {
		o.Destinations = func(context.Context, *config.Config) []health.DestinationStatus { return nil }
	})
	snap := d.Snapshot()
	st := health.Evaluate(health.StatusInput{Config: cfg, History: &snap.History, Destinations: snap.Destinations, Now: day(1, 12, 0)})
	if st.Healthy || len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "destination local: not listed yet") {
		t.Fatalf("before the first listing: healthy=%v problems=%q", st.Healthy, st.Problems)
	}
}
