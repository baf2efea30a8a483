package restore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/restore/journal"
)

// UndoPlan is what dr restore --undo will do: swap the tables the last
// restore moved aside back in place of the restored ones.
type UndoPlan struct {
	Group       *AsideGroup
	Project     string
	DBService   string
	DBContainer string
	// Kind is the kind of the database server (dbkind).
	Kind string
	// Stop are the services stopped during the swap, started after.
	Stop []string
	// Interrupted is the journal of a restore (or undo) that did not
	// finish: the undo ends it and starts what it left stopped.
	Interrupted *journal.Journal
	StateDir    string
	stack       *engine.Stack
}

// UndoResult is what an undo did.
type UndoResult struct {
	Group    *AsideGroup
	Stopped  []string
	Duration time.Duration
}

// asideTarget finds the running database container of the configured
// stack, and its kind.
func asideTarget(ctx context.Context, eng Engine, cfg *config.Config) (*engine.Stack, engine.Container, string, error) {
	stack, err := eng.FindStack(ctx, cfg.Stack.Project, cfg.Stack.Database.Service)
	if err != nil {
		return nil, engine.Container{}, "", fmt.Errorf("finding the stack: %w", err)
	}
	db, ok := stack.Service(cfg.Stack.Database.Service)
	if !ok || !db.Running {
		return nil, engine.Container{}, "", fmt.Errorf("the database service %q of project %s is not running; start it (docker compose up -d %s) and try again", cfg.Stack.Database.Service, stack.Project, cfg.Stack.Database.Service)
	}
	kind, err := ServerKind(ctx, eng, cfg, db)
	if err != nil {
		return nil, engine.Container{}, "", err
	}
	return stack, db, kind, nil
}

// PrepareUndo finds what the last restore moved aside (the one an
// unfinished restore's journal names, else the newest group on the
// server) and what to stop meanwhile. It changes nothing.
func PrepareUndo(ctx context.Context, eng Engine, cfg *config.Config) (*UndoPlan, error) {
	stack, db, kind, err := asideTarget(ctx, eng, cfg)
	if err != nil {
		return nil, err
	}
	p := &UndoPlan{Project: stack.Project, DBService: cfg.Stack.Database.Service, DBContainer: db.ID, Kind: kind, StateDir: cfg.StateDir, stack: stack}
	if p.Interrupted, err = journal.Read(cfg.StateDir); err != nil {
		return nil, err
	}
	srv := newDBServer(eng, kind, db.ID, nil)
	if j := p.Interrupted; j != nil && len(j.Aside) > 0 {
		if p.Group, err = srv.loadAside(ctx, j.Aside); err != nil {
			return nil, err
		}
		if len(p.Group.Schemas) == 0 {
			return nil, fmt.Errorf("%s; it names the aside schemas %s, which the server no longer has, so there is nothing to swap back: finish it with %s", j.Describe(), strings.Join(j.Aside, ", "), j.FinishCommand())
		}
	} else {
		if j != nil && j.HalfDone() && slices.Contains(j.Unfinished, journal.ItemDB) {
			msg := j.Describe() + " and did not move the tables aside, so there is nothing to swap back; finish it with " + j.FinishCommand()
			if len(j.SafetyDumps) > 0 {
				msg += ", or go back to the database as it was with its safety dump: zstd -dc " + j.SafetyDumps[0] + " | " + srv.byHandImport(db.Name)
			}
			return nil, errors.New(msg)
		}
		groups, err := srv.listAside(ctx, true)
		if err != nil {
			return nil, err
		}
		if len(groups) == 0 {
			return nil, errors.New("no restore left tables aside on this server, so there is nothing to undo (a restore that fell back to a safety dump names it in its output)")
		}
		mine := groupsOfDatabases(groups, cfg.Stack.Database.Databases)
		if len(mine) == 0 {
			g := groups[0]
			return nil, fmt.Errorf("no restore of %s left tables aside on this server, so there is nothing to undo with this configuration; the newest aside schemas, %s, hold %s from the restore of %s, which stack.database.databases does not name: undo that restore with the configuration that made it (dr aside list lists them all)",
				strings.Join(cfg.Stack.Database.Databases, ", "), strings.Join(g.Names(), ", "), strings.Join(groupOrigins(g), ", "), g.Backup)
		}
		p.Group = mine[0]
		// A later restore that fell back to a safety dump replaced the
		// database after this group was moved aside: swapping it back
		// would skip over that restore without a word.
		if dump, stamp := newestSafetyDump(cfg.StateDir+"/safety", stack.Project); stamp > p.Group.Stamp {
			return nil, fmt.Errorf("the last restore (at %s) took a safety dump instead of moving the tables aside, so --undo would go back past it to the restore at %s; to go back to the database as it was before the last restore: zstd -dc %s | %s (dr aside drop %s drops the older aside schemas)",
				stamp, p.Group.Stamp, dump, srv.byHandImport(db.Name), p.Group.Stamp)
		}
	}
	p.Stop, err = writersOf(cfg, stack, p.DBService)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// groupsOfDatabases are the groups, in their order, whose restore
// replaced only databases the configuration names (all of them when it
// names none): another configuration's restore on the same server, of
// other databases, is not this one's to undo, nor for restore.keep_aside
// or --drop-aside all to drop. A schema a killed restore
// left before it recorded its origin says nothing and does not exclude
// its group.
func groupsOfDatabases(groups []*AsideGroup, databases []string) []*AsideGroup {
	if len(databases) == 0 {
		return groups
	}
	var out []*AsideGroup
	for _, g := range groups {
		if !slices.ContainsFunc(g.Schemas, func(s AsideSchema) bool { return s.Origin != "" && !slices.Contains(databases, s.Origin) }) {
			out = append(out, g)
		}
	}
	return out
}

// groupOrigins are the databases a group's schemas came from.
func groupOrigins(g *AsideGroup) []string {
	var out []string
	for _, s := range g.Schemas {
		if s.Origin != "" {
			out = append(out, s.Origin)
		}
	}
	return out
}

// writersOf are the services that write to the database: stack.writers,
// or every service but the database.
func writersOf(cfg *config.Config, stack *engine.Stack, dbService string) ([]string, error) {
	writers := cfg.Stack.Writers
	if len(writers) == 0 {
		for _, svc := range stack.Services() {
			if svc != dbService {
				writers = append(writers, svc)
			}
		}
	}
	for _, w := range writers {
		if w == dbService {
			return nil, fmt.Errorf("stack.writers names the database service %q; the import needs it running", w)
		}
		if len(stack.ServiceContainers(w)) == 0 {
			return nil, fmt.Errorf("stack.writers names %q, which project %s has no container for (it has: %s)", w, stack.Project, strings.Join(stack.Services(), ", "))
		}
	}
	return writers, nil
}

// ExecuteUndo swaps the plan's group back: it writes a journal (so a kill
// leaves a record that the next --undo finishes), stops the writers, drops
// the restored databases, renames the tables back, recreates the saved
// views, triggers, routines and events, drops the aside schemas, and starts
// the writers again (and what an interrupted restore left stopped) on
// every path. The caller holds the lock.
func ExecuteUndo(ctx context.Context, eng Engine, p *UndoPlan, log *slog.Logger, step func(string)) (res *UndoResult, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if step == nil {
		step = func(string) {}
	}
	started := time.Now()
	res = &UndoResult{Group: p.Group}
	prev, err := journal.Read(p.StateDir)
	if err != nil {
		return res, err
	}
	j := &journal.Journal{
		Backup: p.Group.Backup, Project: p.Project, DBService: p.DBService, Parts: []string{PartDB},
		Command: UndoCommand + " --yes", PID: os.Getpid(), StartedAt: started.UTC(),
		Aside: p.Group.Names(), Unfinished: []string{journal.ItemDB},
	}
	var inherited []string
	if prev != nil {
		inherited = prev.Stopped
		j.Stopped = slices.Clone(prev.Stopped)
		j.SafetyDumps = slices.Clone(prev.SafetyDumps)
		j.PacketLimit = prev.PacketLimit
		j.Unfinished = journal.AddUnique(slices.Clone(prev.Unfinished), journal.ItemDB)
	}
	for _, svc := range p.Stop {
		for _, c := range p.stack.ServiceContainers(svc) {
			if c.Running {
				j.Stopped = journal.AddUnique(j.Stopped, svc)
			}
		}
	}
	write := func(phase string) error {
		j.Phase, j.UpdatedAt = phase, time.Now().UTC()
		return journal.Write(p.StateDir, j)
	}
	if err := write(journal.PhaseStopping); err != nil {
		return res, fmt.Errorf("%w; nothing was stopped or changed", err)
	}
	defer func() {
		ctx := context.WithoutCancel(ctx)
		start := journal.AddUnique(slices.Clone(res.Stopped), inherited...)
		startErr := error(nil)
		if len(start) > 0 {
			step("starting " + strings.Join(start, ", ") + " again")
			if startErr = eng.StartServices(ctx, p.stack, p.stack.Present(start)); startErr != nil {
				err = errors.Join(err, fmt.Errorf("starting %s again: %w; start them by hand: docker compose start %s", strings.Join(start, ", "), startErr, strings.Join(start, " ")))
			}
		}
		if startErr == nil {
			j.Stopped = nil
		}
		if err == nil {
			j.Unfinished = slices.DeleteFunc(j.Unfinished, func(it string) bool { return it == journal.ItemDB })
		}
		if len(j.Stopped) == 0 && len(j.Unfinished) == 0 {
			err = errors.Join(err, journal.Remove(p.StateDir))
		} else if wErr := write(journal.PhaseFailed); wErr != nil {
			err = errors.Join(err, wErr)
		}
		res.Duration = time.Since(started)
	}()

	if len(p.Stop) > 0 {
		step("stopping " + strings.Join(p.Stop, ", "))
		stopped, err := eng.StopServices(ctx, p.stack, p.Stop, stopTimeout)
		res.Stopped = stopped
		if err != nil {
			return res, fmt.Errorf("stopping services before the undo: %w", err)
		}
	}
	if err := write(journal.PhaseAside); err != nil {
		return res, err
	}
	step("swapping back the tables moved aside into " + strings.Join(p.Group.Names(), ", "))
	srv := newDBServer(eng, p.Kind, p.DBContainer, log)
	if err := srv.putBack(ctx, p.Group, true); err != nil {
		return res, fmt.Errorf("undoing the restore: %w; run %s --yes again to finish", err, UndoCommand)
	}
	log.Info("restore undone", "schemas", p.Group.Names(), "backup", p.Group.Backup)
	if m, ok := srv.(mariaServer); ok && j.PacketLimit > 0 {
		// The killed restore this undoes left the import's raised limit.
		if _, err := m.PutBackPacketLimit(ctx, j.PacketLimit); err != nil {
			log.Warn("the restore is undone, but the server keeps the raised max_allowed_packet; set it by hand: SET GLOBAL max_allowed_packet = "+strconv.FormatInt(j.PacketLimit, 10), "error", err)
		}
	}
	return res, nil
}

// AsideList is the aside schemas on a database server, grouped by
// restore, newest first.
type AsideList struct {
	// Mine are the restores of the configuration's databases: those
	// --undo, restore.keep_aside and --drop-aside all consider.
	Mine []*AsideGroup
	// Others are restores of databases the configuration does not name,
	// another configuration's on the same server.
	Others []*AsideGroup
}

// ListAside lists the aside schemas on the stack's database server.
func ListAside(ctx context.Context, eng Engine, cfg *config.Config) (*AsideList, error) {
	_, db, kind, err := asideTarget(ctx, eng, cfg)
	if err != nil {
		return nil, err
	}
	groups, err := newDBServer(eng, kind, db.ID, nil).listAside(ctx, true)
	if err != nil {
		return nil, err
	}
	l := &AsideList{Mine: groupsOfDatabases(groups, cfg.Stack.Database.Databases)}
	for _, g := range groups {
		if !slices.Contains(l.Mine, g) {
			l.Others = append(l.Others, g)
		}
	}
	return l, nil
}

// DropAside drops the named aside schemas: each name is a schema, the
// stamp of a restore (all its schemas), or "all": every restore of the
// configuration's databases (as --undo sees them), never another
// configuration's, whose aside schemas are its way back; named, those are
// dropped. The schemas an unfinished restore's journal names are its way
// back and are refused. The caller holds the lock.
func DropAside(ctx context.Context, eng Engine, cfg *config.Config, which []string) ([]string, error) {
	_, db, kind, err := asideTarget(ctx, eng, cfg)
	if err != nil {
		return nil, err
	}
	srv := newDBServer(eng, kind, db.ID, nil)
	groups, err := srv.listAside(ctx, true)
	if err != nil {
		return nil, err
	}
	j, err := journal.Read(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	mine := groupsOfDatabases(groups, cfg.Stack.Database.Databases)
	var names []string
	for _, w := range which {
		found := false
		for _, g := range groups {
			all := w == "all" && slices.Contains(mine, g)
			for _, s := range g.Schemas {
				if all || w == g.Stamp || w == s.Schema {
					names = journal.AddUnique(names, s.Schema)
					found = true
				}
			}
		}
		if !found && w != "all" {
			return nil, fmt.Errorf("dropping %q: no aside schema or restore stamp of that name (dr aside list lists them); nothing was dropped", w)
		}
	}
	if j != nil {
		for _, n := range names {
			if slices.Contains(j.Aside, n) {
				return nil, fmt.Errorf("aside schema %s is the way back of a restore that did not finish (%s); finish it (%s) or undo it (%s) first; nothing was dropped", n, journal.Path(cfg.StateDir), j.FinishCommand(), UndoCommand)
			}
		}
	}
	return names, srv.dropAside(ctx, names)
}

// newestSafetyDump is the newest safety dump of the project in dir and the
// stamp in its name, or "" when there is none.
func newestSafetyDump(dir, project string) (path, stamp string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", ""
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(project) + `-(\d{8}T\d{6}Z)(-\d+)?` + regexp.QuoteMeta(safetySuffix) + `$`)
	for _, e := range entries {
		if m := re.FindStringSubmatch(e.Name()); m != nil && m[1] >= stamp {
			path, stamp = filepath.Join(dir, e.Name()), m[1]
		}
	}
	return path, stamp
}
