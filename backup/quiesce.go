package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// restartTimeout bounds starting the stopped services again. The undo
// runs on a context of its own: the run's may have ended (Ctrl-C,
// SIGTERM of the daemon), and the services must run again all the same.
const restartTimeout = 2 * time.Minute

// quiesce stops the stop_during_backup services for the volume capture.
// Before the engine is asked to stop anything, the services it may stop
// are recorded in state_dir, so that a kill -9 from then on leaves their
// names for the next run (see startLeftStopped). The undo is returned
// whatever happened, also with an error: it starts again every service the
// stop may have reached, including one whose stop was in flight when the
// run was interrupted, and then removes the record.
func quiesce(ctx context.Context, eng Engine, plan *stackPlan, log *slog.Logger) (undo func() error, err error) {
	noop := func() error { return nil }
	mayStop := plan.stack.Running(plan.quiesce)
	if len(mayStop) == 0 {
		log.Info("services of stop_during_backup are not running; nothing to stop", "services", plan.quiesce)
		return noop, nil
	}
	rec := &journal.Stopped{Project: plan.stack.Project, DBService: plan.dbContainer.Service, Services: mayStop, PID: os.Getpid(), StartedAt: time.Now().UTC()}
	if err := journal.WriteStopped(plan.stateDir, rec); err != nil {
		return noop, fmt.Errorf("%w; nothing was stopped", err)
	}
	// From here the undo is due: the record exists, and the stop below
	// may reach any of mayStop whatever it returns.
	toStart := mayStop
	undo = func() error {
		return startAgain(ctx, eng, plan.stack, plan.stateDir, toStart, log)
	}
	log.Info("stopping services for the volume capture", "services", mayStop)
	stopped, err := eng.StopServices(ctx, plan.stack, mayStop, quiesceTimeout)
	if err != nil {
		return undo, fmt.Errorf("stopping services for the volume capture: %w", err)
	}
	// Exact now: a service found already stopped by the live state (an
	// operator stopped it since the listing) stays stopped.
	toStart = stopped
	return undo, nil
}

// startAgain starts the services on a context detached from ctx, with a
// deadline of its own, and then removes the record that names them. When
// the start fails the record stays, so the next run tries again.
func startAgain(ctx context.Context, eng Engine, stack *engine.Stack, stateDir string, services []string, log *slog.Logger) error {
	if len(services) > 0 {
		startCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restartTimeout)
		defer cancel()
		if err := eng.StartServices(startCtx, stack, services); err != nil {
			return fmt.Errorf("starting %s again after the volume capture: %w; start them by hand (docker compose start %s)",
				strings.Join(services, ", "), err, strings.Join(services, " "))
		}
		log.Info("services started again", "services", services)
	}
	if err := journal.RemoveStopped(stateDir); err != nil {
		return fmt.Errorf("%w; the services run again: delete %s by hand", err, journal.StoppedPath(stateDir))
	}
	return nil
}

// startLeftStopped starts the services a killed backup left stopped, as
// its record in state_dir names them, before this run looks at the stack.
// It returns a warning for the operator when it started something. The
// caller holds the lock, so the record is a dead run's.
func startLeftStopped(ctx context.Context, eng Engine, stateDir string, log *slog.Logger) (string, error) {
	rec, err := journal.ReadStopped(stateDir)
	if err != nil || rec == nil {
		return "", err
	}
	stack, err := eng.FindStack(ctx, rec.Project, rec.DBService)
	if err != nil {
		return "", fmt.Errorf("%s; finding the stack to start them: %w", rec.Describe(), err)
	}
	present := stack.Present(rec.Services)
	if err := startAgain(ctx, eng, stack, stateDir, present, log); err != nil {
		return "", fmt.Errorf("%s: %w", rec.Describe(), err)
	}
	w := rec.Describe() + "; this backup started " + strings.Join(present, ", ") + " again"
	if len(present) == 0 {
		w = rec.Describe()
	}
	if gone := slices.DeleteFunc(slices.Clone(rec.Services), func(s string) bool { return slices.Contains(present, s) }); len(gone) > 0 {
		w += " (" + strings.Join(gone, ", ") + " no longer in the project: nothing to start)"
	}
	log.Warn(w)
	return w, nil
}

// removeLeftHelpers removes the volume helpers a killed run of this state
// dir left (see engine.RemoveLeftHelpers) and returns the warning for the
// operator, "" when there were none.
func removeLeftHelpers(ctx context.Context, eng Engine, stateDir string, log *slog.Logger) string {
	w, _ := engine.RemoveLeftHelpers(ctx, eng, lock.Owner(stateDir))
	if w != "" {
		log.Warn(w)
	}
	return w
}
