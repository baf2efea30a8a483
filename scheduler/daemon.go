// Package scheduler is dr's daemon: it runs backups (and drills and
// verifies) on cron schedules through the same lock as the CLI, catches up
// runs missed while it was down or the host slept, and keeps a job history
// in the state directory. What it records and how its health is judged is
// package health; its HTTP surface is package httpapi and its
// notifications package notify, which the caller wires to Options.OnStart
// and Options.OnRun.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/lock"
)

// Clock is the daemon's time source; tests replace it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

// Now strips the monotonic reading: comparisons against the schedule must
// use the wall clock, which keeps running while the host is suspended (the
// monotonic clock, and every Go timer, does not).
func (realClock) Now() time.Time                         { return time.Now().Round(0) }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// JobFunc runs one job with the configuration in force.
type JobFunc func(ctx context.Context, cfg *config.Config) (JobResult, error)

// JobResult is what a job reports besides its error.
type JobResult struct {
	Backup       string
	Bytes        int64
	Destinations []DestinationOutcome
	// Drill is a drill's verdict (nil for a backup).
	Drill *DrillOutcome
	// Lacks is what a committed backup could not hold (see Run.Lacks).
	Lacks []string
}

// DestinationOutcome and DrillOutcome are what a job reports in its
// JobResult; they are recorded as they are in the run's history entry.
type (
	DestinationOutcome = health.DestinationOutcome
	DrillOutcome       = health.DrillOutcome
)

// Releaser gives a held lock back.
type Releaser interface{ Release() error }

// Options configure a Daemon. Config and Jobs are required.
type Options struct {
	Config *config.Config
	// Reload loads dr.yaml again (SIGHUP).
	Reload func() (*config.Config, error)
	// Jobs by kind (health.KindBackup, KindDrill, KindVerify); a kind
	// without a func, or with an empty schedule, is not scheduled.
	Jobs map[string]JobFunc
	// Destinations lists each destination's newest complete backup, for
	// status; called at start and after each backup.
	Destinations func(ctx context.Context, cfg *config.Config) []health.DestinationStatus
	Clock        Clock
	Logger       *slog.Logger
	// Tick is how often the wall clock is compared with the schedule
	// (default 30s): the bound on how late a run starts after a suspend.
	Tick time.Duration
	// LockWait is how long a job waits for a lock held by another dr run
	// before it is recorded as skipped (default 10m); LockPoll how often it
	// tries again (default 5s).
	LockWait, LockPoll time.Duration
	// Jitter delays each scheduled run by a random duration below it, so
	// many hosts on one schedule do not hit a shared remote at once.
	Jitter time.Duration
	// RunNow starts with a backup.
	RunNow bool
	// Acquire takes the lock (default lock.Acquire).
	Acquire func(dir, what string) (Releaser, error)
	// OnStart is called when a job starts (heartbeats' /start).
	OnStart func(ctx context.Context, cfg *config.Config, kind string)
	// OnRun is called after each recorded run, with the configuration it
	// ran with (notifications).
	OnRun func(ctx context.Context, cfg *config.Config, r health.Run)
	// Rand returns a number in [0, n) (default math/rand/v2).
	Rand func(n int64) int64
}

// job is one scheduled kind and its next due time.
type job struct {
	kind    string
	spec    string
	sched   cron.Schedule
	next    time.Time
	trigger string
}

// Daemon runs jobs on their schedules, one at a time.
type Daemon struct {
	opts   Options
	clock  Clock
	log    *slog.Logger
	reload chan struct{}

	mu      sync.Mutex
	cfg     *config.Config
	hist    *health.History
	jobs    []*job
	running string
	since   time.Time
	counts  map[string]map[string]int
	dests   []health.DestinationStatus
}

// New loads the history in the config's state directory and checks the
// schedules.
func New(opts Options) (*Daemon, error) {
	if opts.Config == nil {
		return nil, errors.New("scheduler: no config")
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Tick <= 0 {
		opts.Tick = 30 * time.Second
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 10 * time.Minute
	}
	if opts.LockPoll <= 0 {
		opts.LockPoll = 5 * time.Second
	}
	if opts.Acquire == nil {
		opts.Acquire = func(dir, what string) (Releaser, error) {
			l, err := lock.Acquire(dir, what)
			if err != nil {
				return nil, err
			}
			return l, nil
		}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Int64N
	}
	hist, err := health.LoadHistory(opts.Config.StateDir)
	if err != nil {
		return nil, err
	}
	jobs, err := buildJobs(opts.Config, opts.Jobs)
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		opts: opts, clock: opts.Clock, log: opts.Logger, reload: make(chan struct{}, 1),
		cfg: opts.Config, hist: hist, jobs: jobs, counts: map[string]map[string]int{},
	}
	if opts.Destinations != nil {
		d.dests = notListedYet(opts.Config)
	}
	return d, nil
}

// notListedYet is the destinations' state before the daemon's first
// listing: a problem each, so that /healthz, served from start-up, never
// says healthy about backups it has not looked for.
func notListedYet(cfg *config.Config) []health.DestinationStatus {
	out := make([]health.DestinationStatus, 0, len(cfg.Destinations))
	for _, dest := range cfg.Destinations {
		out = append(out, health.DestinationStatus{Name: dest.Name, Error: "not listed yet (the daemon is starting)"})
	}
	return out
}

func buildJobs(cfg *config.Config, funcs map[string]JobFunc) ([]*job, error) {
	var jobs []*job
	for _, kind := range health.Kinds {
		spec := health.Spec(cfg, kind)
		if spec == "" || funcs[kind] == nil {
			continue
		}
		s, err := cron.ParseStandard(spec)
		if err != nil {
			return nil, fmt.Errorf("schedule.%s %q: %w", kind, spec, err)
		}
		jobs = append(jobs, &job{kind: kind, spec: spec, sched: s})
	}
	return jobs, nil
}

// Reload asks the running daemon to load dr.yaml again.
func (d *Daemon) Reload() {
	select {
	case d.reload <- struct{}{}:
	default: // one is already pending
	}
}

// Run schedules jobs until ctx is cancelled; the running job is cancelled
// with it, and Run returns once it has cleaned up. It returns nil on a
// stop by ctx: stopping is the daemon's normal end.
func (d *Daemon) Run(ctx context.Context) error {
	d.plan(d.clock.Now())
	if d.opts.Destinations != nil {
		d.refreshDestinations(ctx)
	}
	if d.opts.RunNow && d.fn(health.KindBackup) != nil {
		d.runJob(ctx, health.KindBackup, health.TriggerRunNow, d.clock.Now())
	}
	for ctx.Err() == nil {
		d.step(ctx)
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-d.reload:
			d.doReload()
		case <-d.clock.After(d.wait()):
		}
	}
	d.log.Info("daemon stopped")
	return nil
}

// plan sets each job's next run: a run missed since the persisted last
// one (daemon down, host off) is due now, once, however many were missed.
func (d *Daemon) plan(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	loc := d.cfg.Location()
	for _, j := range d.jobs {
		last, ok := d.hist.LastDue[j.kind]
		if ok {
			if due := j.sched.Next(last.In(loc)); !due.After(now) {
				j.next, j.trigger = now, health.TriggerCatchUp
				d.log.Info("missed run: running it now", "job", j.kind, "due", due, "last", last)
				continue
			}
		}
		j.next, j.trigger = d.nextAfter(j, now), health.TriggerSchedule
		d.log.Info("scheduled", "job", j.kind, "schedule", j.spec, "next", j.next)
	}
}

// nextAfter is the job's next scheduled time after t, jittered.
func (d *Daemon) nextAfter(j *job, t time.Time) time.Time {
	next := j.sched.Next(t.In(d.cfg.Location()))
	if d.opts.Jitter > 0 {
		next = next.Add(time.Duration(d.opts.Rand(int64(d.opts.Jitter))))
	}
	return next
}

// step runs every job that is due, one after the other.
func (d *Daemon) step(ctx context.Context) {
	for _, kind := range d.dueKinds() {
		if ctx.Err() != nil {
			return
		}
		d.mu.Lock()
		j := d.find(kind)
		if j == nil { // removed by a reload
			d.mu.Unlock()
			continue
		}
		trigger, due := j.trigger, j.next
		d.mu.Unlock()
		now := d.clock.Now()
		// A run found long past its time was slept through (suspend) or
		// delayed by another job: say so in the history.
		if trigger == health.TriggerSchedule && now.Sub(due) > 2*d.opts.Tick {
			trigger = health.TriggerCatchUp
		}
		d.runJob(ctx, kind, trigger, now)
	}
}

func (d *Daemon) dueKinds() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	var due []string
	for _, j := range d.jobs {
		if !now.Before(j.next) {
			due = append(due, j.kind)
		}
	}
	return due
}

func (d *Daemon) find(kind string) *job {
	for _, j := range d.jobs {
		if j.kind == kind {
			return j
		}
	}
	return nil
}

func (d *Daemon) fn(kind string) JobFunc { return d.opts.Jobs[kind] }

// wait is how long to sleep: until the next due run, at most a tick.
func (d *Daemon) wait() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := d.opts.Tick
	now := d.clock.Now()
	for _, j := range d.jobs {
		if until := j.next.Sub(now); until < w {
			w = max(until, 0)
		}
	}
	return w
}

// doReload swaps in a new configuration; an invalid one is refused and
// the running one kept.
func (d *Daemon) doReload() {
	if d.opts.Reload == nil {
		return
	}
	cfg, err := d.opts.Reload()
	if err == nil && cfg.StateDir != d.config().StateDir {
		err = fmt.Errorf("state_dir changed from %s to %s: restart the daemon for that", d.config().StateDir, cfg.StateDir)
	}
	var jobs []*job
	if err == nil {
		jobs, err = buildJobs(cfg, d.opts.Jobs)
	}
	if err != nil {
		d.log.Error("reload refused; keeping the running configuration", "err", redact.Error(err))
		return
	}
	d.mu.Lock()
	d.cfg, d.jobs = cfg, jobs
	d.mu.Unlock()
	d.log.Info("configuration reloaded")
	d.plan(d.clock.Now())
}

func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// runJob runs one job under the lock and records it. now is the time the
// run was taken as due: the next run is scheduled after it.
func (d *Daemon) runJob(ctx context.Context, kind, trigger string, now time.Time) {
	cfg := d.config()
	r := health.Run{Kind: kind, Trigger: trigger, Started: d.clock.Now()}
	d.mu.Lock()
	d.running, d.since = kind, r.Started
	d.mu.Unlock()
	d.log.Info("job started", "job", kind, "trigger", trigger)
	if d.opts.OnStart != nil {
		d.opts.OnStart(ctx, cfg, kind)
	}

	held, err := d.acquire(ctx, cfg.StateDir, kind)
	var heldErr *lock.HeldError
	switch {
	case errors.As(err, &heldErr):
		r.Outcome, r.Error = health.OutcomeSkipped, "lock held by "+orUnknown(heldErr.Holder)+" for longer than "+d.opts.LockWait.String()
	case err != nil && ctx.Err() != nil:
		r.Outcome, r.Error = health.OutcomeSkipped, "daemon stopping"
	case err != nil:
		r.Outcome, r.Error = health.OutcomeFailed, err.Error()
	default:
		res, jerr := d.fn(kind)(ctx, cfg)
		if rerr := held.Release(); rerr != nil && jerr == nil {
			jerr = rerr
		}
		r.Backup, r.Bytes, r.Destinations, r.Drill, r.Lacks = res.Backup, res.Bytes, res.Destinations, res.Drill, res.Lacks
		r.Outcome = health.OutcomeSuccess
		if jerr != nil {
			r.Outcome, r.Error = health.OutcomeFailed, jerr.Error()
			if ctx.Err() != nil {
				r.Error = "interrupted (daemon stopping): " + r.Error
			}
		}
	}
	// The history is on disk and served over HTTP: no credential in it.
	r.Error = redact.String(r.Error)
	for i := range r.Destinations {
		r.Destinations[i].Error = redact.String(r.Destinations[i].Error)
	}
	r.Ended = d.clock.Now()
	r.Duration = r.Ended.Sub(r.Started)
	// The destinations are listed again before the run is recorded, so
	// that whoever sees "job finished" (a log reader, /healthz) also sees
	// the backup it made on them.
	if kind == health.KindBackup && d.opts.Destinations != nil && ctx.Err() == nil {
		d.refreshDestinations(ctx)
	}
	d.record(r, now)
	if d.opts.OnRun != nil {
		d.opts.OnRun(ctx, cfg, r)
	}
}

func (d *Daemon) record(r health.Run, due time.Time) {
	d.mu.Lock()
	d.hist.Add(r)
	d.hist.LastDue[r.Kind] = due
	if j := d.find(r.Kind); j != nil {
		after := due
		if r.Ended.After(after) {
			after = r.Ended
		}
		j.next, j.trigger = d.nextAfter(j, after), health.TriggerSchedule
	}
	if d.counts[r.Kind] == nil {
		d.counts[r.Kind] = map[string]int{}
	}
	d.counts[r.Kind][r.Outcome]++
	d.running = ""
	err := d.hist.Save(d.cfg.StateDir)
	d.mu.Unlock()

	attrs := []any{"job", r.Kind, "trigger", r.Trigger, "outcome", r.Outcome, "duration", r.Duration.Round(time.Millisecond).String()}
	if r.Backup != "" {
		attrs = append(attrs, "backup", r.Backup, "bytes", r.Bytes)
	}
	switch r.Outcome {
	case health.OutcomeSuccess:
		d.log.Info("job finished", attrs...)
	default:
		d.log.Error("job "+r.Outcome, append(attrs, "err", r.Error)...)
	}
	if err != nil {
		d.log.Error("job history not saved", "err", err)
	}
}

// acquire takes the lock, waiting up to LockWait for another run to end.
func (d *Daemon) acquire(ctx context.Context, dir, kind string) (Releaser, error) {
	deadline := d.clock.Now().Add(d.opts.LockWait)
	logged := false
	for {
		l, err := d.opts.Acquire(dir, "daemon "+kind)
		if err == nil {
			return l, nil
		}
		var held *lock.HeldError
		if !errors.As(err, &held) || !d.clock.Now().Before(deadline) {
			return nil, err
		}
		if !logged {
			d.log.Warn("lock held by another dr run; waiting", "job", kind, "holder", held.Holder, "max_wait", d.opts.LockWait.String())
			logged = true
		}
		// The last try is at the deadline, however long the poll.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.clock.After(min(d.opts.LockPoll, deadline.Sub(d.clock.Now()))):
		}
	}
}

func (d *Daemon) refreshDestinations(ctx context.Context) {
	dests := d.opts.Destinations(ctx, d.config())
	d.mu.Lock()
	d.dests = dests
	d.mu.Unlock()
}

// Snapshot copies the daemon's state.
func (d *Daemon) Snapshot() health.Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := health.Snapshot{
		Config:       d.cfg,
		History:      health.History{Version: d.hist.Version, LastDue: map[string]time.Time{}, Runs: slices.Clone(d.hist.Runs)},
		Next:         map[string]time.Time{},
		Running:      d.running,
		RunningSince: d.since,
		Counts:       map[string]map[string]int{},
		Destinations: slices.Clone(d.dests),
	}
	for k, v := range d.hist.LastDue {
		s.History.LastDue[k] = v
	}
	for _, j := range d.jobs {
		s.Next[j.kind] = j.next
	}
	for k, m := range d.counts {
		s.Counts[k] = map[string]int{}
		for o, n := range m {
			s.Counts[k][o] = n
		}
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "another dr run"
	}
	return s
}
