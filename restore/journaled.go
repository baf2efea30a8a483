package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// Unfinished returns the journal of a restore that did not finish, or nil
// when there is none: what the next restore finishes, what dr backup
// refuses over, and what a status page should show. Called while a
// restore runs (without holding the lock), it returns that run's journal.
func Unfinished(stateDir string) (*journal.Journal, error) {
	return journal.Read(stateDir)
}

// newJournal is this run's journal before anything is stopped: the
// services it will stop are those of the plan running now, and whatever an
// interrupted restore left stopped or half done is carried over, so that a
// kill -9 of this run loses none of it either.
func (x *executor) newJournal(prev *journal.Journal, started time.Time) *journal.Journal {
	j := &journal.Journal{
		Backup:    x.plan.Backup.Name,
		Project:   x.plan.Project,
		DBService: x.plan.DBService,
		Parts:     slices.Clone(x.plan.Parts),
		Command:   x.req.Command,
		PID:       os.Getpid(),
		StartedAt: started.UTC(),
	}
	if prev != nil {
		j.Stopped = slices.Clone(prev.Stopped)
		j.Unfinished = slices.Clone(prev.Unfinished)
		j.SafetyDumps = slices.Clone(prev.SafetyDumps)
		j.PacketLimit = prev.PacketLimit
	}
	if x.res.SafetyDump != "" {
		j.SafetyDumps = append(j.SafetyDumps, x.res.SafetyDump)
	}
	switch {
	case x.aside != nil:
		j.Aside = x.aside.Names()
	case prev != nil && !x.asideCleared:
		// Not this run's way back (a files-only restore, say), but still
		// the only copy of the database from before the interrupted one.
		j.Aside = slices.Clone(prev.Aside)
	}
	j.Stopped = journal.AddUnique(j.Stopped, x.stoppedByBackup...)
	j.Stopped = journal.AddUnique(j.Stopped, x.plan.runningStop()...)
	x.prev = prev
	return j
}

// removeLeftHelpers removes the volume helpers a killed run of this
// state dir left (see engine.RemoveLeftHelpers): a failure is a warning,
// a removal a step.
func (x *executor) removeLeftHelpers(ctx context.Context, step func(string)) {
	w, failed := engine.RemoveLeftHelpers(ctx, x.eng, lock.Owner(x.plan.StateDir))
	switch {
	case failed:
		x.res.Warnings = append(x.res.Warnings, w)
		x.log.Warn(w)
	case w != "":
		step(w)
		x.log.Warn(w)
	}
}

// takeOverStoppedByBackup reads the record of the services a killed
// backup left stopped; from then on they are this run's to start. A
// record of another project is left alone, with a warning: this run
// cannot start that project's services.
func (x *executor) takeOverStoppedByBackup(step func(string)) error {
	rec, err := journal.ReadStopped(x.plan.StateDir)
	if err != nil || rec == nil {
		return err
	}
	if rec.Project != x.plan.Project {
		w := rec.Describe() + "; this restore of project " + x.plan.Project + " does not start them: docker compose -p " + rec.Project + " start " + strings.Join(rec.Services, " ")
		x.res.Warnings = append(x.res.Warnings, w)
		x.log.Warn(w)
		return nil
	}
	x.stoppedByBackup = rec.Services
	step(rec.Describe() + "; this restore starts them when it ends")
	x.log.Warn("a killed backup left services stopped; this restore starts them", "services", rec.Services, "pid", rec.PID)
	return nil
}

// runningStop are the services of plan.Stop with a running container: the
// ones StopServices will stop.
func (p *Plan) runningStop() []string {
	if p.stack == nil {
		return nil
	}
	return p.stack.Running(p.Stop)
}

// inherited are the services an interrupted restore, or a killed backup,
// left stopped.
func (x *executor) inherited() []string {
	var out []string
	if x.prev != nil {
		out = slices.Clone(x.prev.Stopped)
	}
	return journal.AddUnique(out, x.stoppedByBackup...)
}

// writeJournal records the phase durably.
func (x *executor) writeJournal(phase string) error {
	x.journal.Phase = phase
	x.journal.UpdatedAt = x.now().UTC()
	return journal.Write(x.plan.StateDir, x.journal)
}

// mark records, before the item is changed, that it may be half done
// from now on.
func (x *executor) mark(phase, item string) error {
	if x.journal.Phase == phase && slices.Contains(x.journal.Unfinished, item) {
		return nil
	}
	x.journal.Unfinished = journal.AddUnique(x.journal.Unfinished, item)
	return x.writeJournal(phase)
}

// items are what this restore makes equal to the backup when it succeeds.
// A merge only adds missing files, so it does not finish a volume that an
// interrupted restore half replaced.
func (x *executor) items() []string {
	var items []string
	if x.plan.Has(PartDB) {
		items = append(items, journal.ItemDB)
	}
	if x.plan.Has(PartFiles) {
		items = append(items, journal.ItemFiles)
	}
	if !x.plan.Merge {
		for _, v := range x.plan.Volumes {
			items = append(items, journal.VolumeItem(v.Key))
		}
	}
	return items
}

// finish runs on every path once the journal exists: it starts what this
// run stopped and what an interrupted run left stopped, then removes the
// journal when nothing is left stopped or half done, or records what is.
// Starting comes first: a kill between the two leaves a journal naming
// services that already run, which is harmless; the other order could
// leave them stopped with no record.
func (x *executor) finish(ctx context.Context, step func(string), err error) error {
	ctx = context.WithoutCancel(ctx)
	restored := err == nil
	j := x.journal
	if !restored {
		if back := x.putBackAfterFailure(ctx, step); back != "" {
			err = fmt.Errorf("%w; %s", err, back)
		}
	}
	x.putBackPacketLimit(ctx)

	if restored {
		j.Unfinished = slices.DeleteFunc(j.Unfinished, func(it string) bool { return slices.Contains(x.items(), it) })
	}
	start := journal.AddUnique(slices.Clone(x.res.Stopped), x.inherited()...)
	if !restored && len(start) > 0 && x.databasePartlyRestored() {
		// Started now, the stack would run, and write, on a partial
		// database as if the restore had done its job. The journal keeps
		// them as stopped: the restore that finishes the job starts them.
		x.log.Warn("services left stopped: the database is partly restored", "services", start)
		err = fmt.Errorf("%w; %s were left stopped, so that nothing runs on a partly restored database: once it is whole again (dr restore again, or the database put back as said), start them: docker compose start %s (the next dr restore starts them itself)",
			err, strings.Join(start, ", "), strings.Join(start, " "))
		start = nil
	}
	if len(start) > 0 {
		// Recorded first: a kill while the services start must not leave a
		// journal that still calls the finished parts half done.
		if restored {
			if wErr := x.writeJournal(journal.PhaseStarting); wErr != nil {
				x.log.Warn("recording the finished restore in its journal", "err", wErr)
			}
		}
		step("starting " + strings.Join(start, ", ") + " again")
		started, startErr := x.start(ctx, start)
		if startErr != nil {
			err = errors.Join(err, fmt.Errorf("starting %s again: %w; start them by hand: docker compose start %s",
				strings.Join(start, ", "), startErr, strings.Join(start, " ")))
		} else {
			j.Stopped = nil
			for _, svc := range x.inherited() {
				if slices.Contains(started, svc) && !slices.Contains(x.res.Stopped, svc) {
					x.res.Inherited = append(x.res.Inherited, svc)
				}
			}
			x.log.Info("services started again", "services", started)
		}
	} else if restored || !x.databasePartlyRestored() {
		j.Stopped = nil
	}

	if restored {
		if len(j.Unfinished) > 0 && x.prev != nil {
			// What is left is the interrupted restore's job, not ours:
			// say how to finish that one.
			j.Backup, j.Parts, j.Command, j.PID, j.StartedAt = x.prev.Backup, x.prev.Parts, x.prev.Command, x.prev.PID, x.prev.StartedAt
			w := "an interrupted restore of " + x.prev.Backup + " left " + strings.Join(j.Unfinished, ", ") +
				" half restored, which this restore did not cover; finish it: " + j.FinishCommand()
			x.res.Warnings = append(x.res.Warnings, w)
			x.log.Warn(w)
		}
	}
	if len(j.Unfinished) == 0 && len(j.Stopped) == 0 {
		if rmErr := journal.Remove(x.plan.StateDir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("%w; the restore is over: delete %s by hand", rmErr, journal.Path(x.plan.StateDir)))
		}
	} else {
		phase := journal.PhaseDone
		if !restored {
			phase = journal.PhaseFailed
		}
		if wErr := x.writeJournal(phase); wErr != nil {
			err = errors.Join(err, wErr)
		}
	}

	if restored {
		keep := slices.Clone(j.SafetyDumps)
		if x.res.SafetyDump != "" {
			keep = append(keep, x.res.SafetyDump)
		}
		x.pruneAsideAfter(ctx)
		removed, pruneErr := pruneSafetyDumps(x.plan.SafetyDir, x.plan.Project, x.plan.KeepSafetyDumps, keep)
		if pruneErr != nil {
			w := fmt.Sprintf("pruning old safety dumps in %s: %v", x.plan.SafetyDir, pruneErr)
			x.res.Warnings = append(x.res.Warnings, w)
			x.log.Warn(w)
		}
		if len(removed) > 0 {
			x.log.Info("old safety dumps removed", "kept", x.plan.KeepSafetyDumps, "removed", removed)
		}
	}
	return err
}

// start starts the services that the stack still has, and returns them.
// When the plan found no stack (a files-only restore), the stack is looked
// up: an interrupted restore may have left its services stopped.
func (x *executor) start(ctx context.Context, services []string) ([]string, error) {
	stack := x.plan.stack
	if stack == nil {
		var err error
		if stack, err = x.eng.FindStack(ctx, x.plan.Project, x.plan.DBService); err != nil {
			return nil, fmt.Errorf("finding the stack: %w", err)
		}
	}
	present := stack.Present(services)
	for _, svc := range services {
		if !slices.Contains(present, svc) {
			w := fmt.Sprintf("service %s, stopped by an earlier restore, is no longer in project %s; nothing to start", svc, stack.Project)
			x.res.Warnings = append(x.res.Warnings, w)
			x.log.Warn(w)
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	if err := x.eng.StartServices(ctx, stack, present); err != nil {
		return nil, err
	}
	return present, nil
}

// databasePartlyRestored says, after a failure and the put back of the
// tables aside, whether this run's database part may have left a partial
// database: the journal still counts it unfinished, and the import did not
// both finish and pass the row check (after which only a later part, a
// volume say, failed).
func (x *executor) databasePartlyRestored() bool {
	if !x.plan.Has(PartDB) || !slices.Contains(x.journal.Unfinished, journal.ItemDB) {
		return false
	}
	return x.imp == nil || !x.imp.Finished() || x.rowsWrong
}

// notePacketLimit records in the journal, before the import raises it,
// the server's max_allowed_packet to put back afterwards. A value an
// interrupted restore recorded is kept: the server holds the raised one
// now. Unreadable, it is left out; the import then warns the same way.
func (x *executor) notePacketLimit(ctx context.Context) {
	m, ok := x.server().(mariaServer)
	if !ok || x.journal.PacketLimit > 0 {
		return // PostgreSQL's import changes no server setting
	}
	srv := m.Server
	limit, err := srv.PacketLimit(ctx)
	if err != nil {
		x.log.Warn("could not read the server's max_allowed_packet before the import", "error", err)
		return
	}
	x.journal.PacketLimit = limit
}

// putBackPacketLimit puts back the max_allowed_packet the journal
// recorded, once the import is over: the import puts back the value it
// found, which after a kill -9 is the raised one (see
// mariadb.PutBackPacketLimit). A failure is a warning: a restarted server
// has its configured value again.
func (x *executor) putBackPacketLimit(ctx context.Context) {
	original := x.journal.PacketLimit
	if original == 0 || x.plan.DBContainer == "" {
		return
	}
	m, ok := x.server().(mariaServer)
	if !ok {
		return
	}
	if _, err := m.PutBackPacketLimit(ctx, original); err != nil {
		w := fmt.Sprintf("%v; set it by hand: SET GLOBAL max_allowed_packet = %d", err, original)
		x.res.Warnings = append(x.res.Warnings, w)
		x.log.Warn(w)
		return
	}
	x.journal.PacketLimit = 0
}
