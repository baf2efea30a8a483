package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore/journal"
)

// UndoCommand is what an operator runs to swap the tables moved aside
// back.
const UndoCommand = "dr restore --undo"

// prepareNet decides, before anything is stopped, how the database the
// restore replaces is kept: the tables an interrupted restore moved aside
// (still the database as it was before), moving the tables aside (done
// once the writers are stopped), or the safety dump, written now. A safety
// dump that cannot be written refuses the restore with nothing changed.
func (x *executor) prepareNet(ctx context.Context, prev *journal.Journal, step func(string)) error {
	srv := x.server()
	if prev != nil && len(prev.Aside) > 0 {
		g, err := srv.loadAside(ctx, prev.Aside)
		if err != nil {
			return fmt.Errorf("reading what the interrupted restore moved aside: %w; nothing was stopped or changed", err)
		}
		if len(g.Schemas) > 0 && g.inPlace() {
			x.aside, x.res.Aside = g, g
			step("the database as it was before the interrupted restore is still aside in " + strings.Join(g.Names(), ", ") + "; it stays this restore's way back (" + UndoCommand + ")")
			return nil
		}
		x.asideCleared = true
		if len(g.Schemas) > 0 {
			step("putting back what the interrupted restore had begun to move aside")
			if err := srv.putBack(ctx, g, false); err != nil {
				return fmt.Errorf("putting back what the interrupted restore had begun to move aside: %w; nothing else was stopped or changed: run %s", err, UndoCommand)
			}
		}
	}
	if x.plan.SafetyNet != config.SafetyNetDump {
		reason := ""
		var prep *asidePrep
		var err error
		if x.survey != nil && !x.asideCleared {
			prep, err = x.survey.result()
		} else {
			// None begun, or begun before an interrupted restore's
			// aside databases were put back: they are the server's
			// again, and the survey's.
			prep, err = srv.inspectAside(ctx, x.plan.Databases, x.dumpSize())
		}
		if err != nil {
			reason = fmt.Sprintf("the database could not be inspected (%v)", err)
		} else {
			reason = chooseAside(prep)
		}
		if reason == "" {
			x.asidePrep = prep
			x.log.Info("the current "+srv.asideWhat()+" will be moved aside", "free", prep.Free, "need", prep.Need)
			return nil
		}
		x.fallBack(reason, step)
	}
	return x.dumpNet(ctx, step)
}

// pendingSurvey is a survey of the databases to move aside running in the
// background.
type pendingSurvey struct {
	done chan struct{}
	prep *asidePrep
	err  error
}

// startSurvey begins the survey of the databases the import replaces,
// when the restore would move them aside; nil when it would not.
func (x *executor) startSurvey(ctx context.Context) *pendingSurvey {
	if !x.plan.Has(PartDB) || x.plan.SafetyNet == config.SafetyNetDump || x.plan.DBContainer == "" {
		return nil
	}
	srv := x.server()
	p := &pendingSurvey{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.prep, p.err = srv.inspectAside(ctx, x.plan.Databases, x.dumpSize())
	}()
	return p
}

// result waits for the survey; nil, nil without one.
func (p *pendingSurvey) result() (*asidePrep, error) {
	if p == nil {
		return nil, nil
	}
	<-p.done
	return p.prep, p.err
}

// wait lets the survey end, so that it never outlives the restore.
func (p *pendingSurvey) wait() { _, _ = p.result() }

func (x *executor) dumpSize() int64 {
	if x.plan.Manifest.Database == nil {
		return 0
	}
	return x.plan.Manifest.Database.DumpSize
}

// fallBack records and says why the tables are not moved aside.
func (x *executor) fallBack(reason string, step func(string)) {
	x.res.AsideFallback = reason
	instead := "saving a safety dump instead"
	if x.plan.NoSafetyDump {
		instead = "and --no-safety-dump was given"
	}
	what := x.server().asideWhat()
	step("cannot move the current " + what + " aside: " + reason + "; " + instead)
	x.log.Warn("the current "+what+" cannot be moved aside; falling back to the safety dump", "reason", reason, "no_safety_dump", x.plan.NoSafetyDump)
}

// dumpNet is the safety dump, or the warning that there is none.
func (x *executor) dumpNet(ctx context.Context, step func(string)) error {
	if x.plan.NoSafetyDump {
		w := "no safety dump of the current database: --no-safety-dump was given, so the import cannot be undone"
		x.res.Warnings = append(x.res.Warnings, w)
		x.log.Warn(w)
		return nil
	}
	step("saving the current database to " + x.plan.SafetyDir)
	path, err := x.safetyDump(ctx)
	if err != nil {
		return &SafetyDumpError{Dir: x.plan.SafetyDir, Err: err}
	}
	if path == "" {
		step("the server holds no database of the stack; there is nothing to save")
		return nil
	}
	x.res.SafetyDump = path
	x.log.Info("safety dump written", "path", path)
	return nil
}

// moveAside moves the current tables aside once the writers are stopped,
// the journal naming the schemas first. When the move fails, what it did
// is put back and the safety dump taken instead; when even putting back
// fails, the journal keeps the schemas and the database counted as
// touched, and the error says how to finish.
func (x *executor) moveAside(ctx context.Context, step func(string)) error {
	prep := x.asidePrep
	x.asidePrep = nil
	srv := x.server()
	var names []string
	for _, d := range prep.Databases {
		names = append(names, srv.asideName(d.Name, x.stamp))
	}
	x.journal.Aside = names
	if err := x.mark(journal.PhaseAside, journal.ItemDB); err != nil {
		return err
	}
	step("moving the current " + srv.asideWhat() + " aside into " + strings.Join(names, ", "))
	g, err := srv.moveAside(ctx, prep, x.stamp, x.plan.Backup.Name)
	if err == nil {
		x.aside, x.res.Aside, x.movedHere = g, g, true
		x.log.Info("current "+srv.asideWhat()+" moved aside", "schemas", names, "tables", tablesOf(g))
		step("moved; " + UndoCommand + " swaps them back")
		return nil
	}
	var me *asideMoveError
	if errors.As(err, &me) && !me.Clean {
		if rbErr := srv.rollbackAside(ctx, g); rbErr != nil {
			return fmt.Errorf("%w; %w", err, rbErr)
		}
	}
	// Nothing is changed: the journal says so before the dump.
	x.journal.Aside = nil
	x.journal.Unfinished = slices.DeleteFunc(x.journal.Unfinished, func(it string) bool { return it == journal.ItemDB && !x.prevUnfinished(it) })
	if err := x.writeJournal(journal.PhaseStopping); err != nil {
		return err
	}
	x.fallBack(err.Error(), step)
	if err := x.dumpNet(ctx, step); err != nil {
		return err
	}
	x.journal.SafetyDumps = journal.AddUnique(x.journal.SafetyDumps, x.res.SafetyDump)
	return x.writeJournal(journal.PhaseStopping)
}

func (x *executor) prevUnfinished(item string) bool {
	return x.prev != nil && slices.Contains(x.prev.Unfinished, item)
}

func tablesOf(g *AsideGroup) int {
	n := 0
	for _, s := range g.Schemas {
		n += s.Tables
	}
	return n
}

// pruneAsideAfter applies restore.keep_aside once a restore succeeded.
func (x *executor) pruneAsideAfter(ctx context.Context) {
	if !x.plan.Has(PartDB) || x.plan.DBContainer == "" {
		return
	}
	protect := slices.Clone(x.journal.Aside)
	if x.aside != nil {
		protect = append(protect, x.aside.Names()...)
	}
	dropped, err := pruneAside(ctx, x.server(), x.plan.KeepAside, protect, x.plan.ConfiguredDatabases)
	if err != nil {
		w := fmt.Sprintf("dropping aside schemas beyond restore.keep_aside (%d): %v; see dr aside list", x.plan.KeepAside, err)
		x.res.Warnings = append(x.res.Warnings, w)
		x.log.Warn(w)
	}
	if len(dropped) > 0 {
		x.res.AsideDropped = dropped
		x.log.Info("old aside schemas dropped", "kept", x.plan.KeepAside, "dropped", dropped)
	}
}

// putBackAfterFailure runs when the restore failed while the database
// it replaces is aside: unless the import finished and the row check did
// not find it wrong (a later part failed, a volume say), the database is
// put back as it was before, so the services start again on their data,
// never on an empty or partly imported database. It returns the sentence
// the error ends with: what became of the database.
func (x *executor) putBackAfterFailure(ctx context.Context, step func(string)) string {
	if x.aside == nil {
		return ""
	}
	touched := x.imp != nil && x.imp.Touched()
	if touched && x.imp.Finished() && !x.rowsWrong {
		return ""
	}
	what := x.server().asideWhat()
	if touched {
		step("the restore failed with the database partly imported: swapping the " + what + " moved aside back")
	} else {
		step("the import did not start: putting the " + what + " moved aside back")
	}
	if err := x.server().putBack(ctx, x.aside, true); err != nil {
		x.log.Warn("putting back the "+what+" moved aside after the failure", "error", err, "schemas", x.aside.Names())
		return fmt.Sprintf("the database may be partly restored, and putting back the %s moved aside failed (%v): run %s", what, err, UndoCommand)
	}
	x.log.Info(what+" moved aside put back after the failed restore", "schemas", x.aside.Names(), "import_started", touched)
	// Tables this run moved aside over a database an interrupted restore
	// had half imported are that half import: the database stays
	// unfinished. Tables an interrupted run moved aside are the database
	// as it was before either.
	halfBefore := x.movedHere && x.prevUnfinished(journal.ItemDB)
	x.aside, x.res.Aside, x.movedHere = nil, nil, false
	x.journal.Aside = nil
	if !halfBefore {
		x.journal.Unfinished = slices.DeleteFunc(x.journal.Unfinished, func(it string) bool { return it == journal.ItemDB })
	}
	if !touched {
		return "the import did not start, and the " + what + " moved aside were put back: the database is as it was"
	}
	return "the " + what + " moved aside were put back: the database is as it was before this restore"
}
