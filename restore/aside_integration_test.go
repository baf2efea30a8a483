package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// dbState is everything the undo must bring back: every table's contents,
// and the views, triggers, routines and events with their definitions.
type dbState struct {
	sums    map[string]string
	objects map[string][]string
	trigger string
}

func stateOf(t *testing.T, s *teststack.Stack) dbState {
	t.Helper()
	st := dbState{sums: dbChecksums(t, s), objects: map[string][]string{}}
	for _, db := range teststack.SeedDatabases() {
		st.objects[db] = s.Objects(t, db)
	}
	st.trigger = s.SQL(t, "SELECT action_statement FROM information_schema.triggers WHERE trigger_schema = 'appwrite' AND trigger_name = '_1_users_touch'")
	return st
}

func (a dbState) equal(b dbState) bool {
	return maps.Equal(a.sums, b.sums) && maps.EqualFunc(a.objects, b.objects, slices.Equal) && a.trigger == b.trigger
}

// asideSchemas lists the aside schemas on the test server.
func asideSchemas(t *testing.T, s *teststack.Stack) []string {
	t.Helper()
	out := s.SQL(t, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dr\_aside\_%' ORDER BY schema_name`)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func dropAllAside(t *testing.T, s *teststack.Stack) {
	t.Helper()
	for _, n := range asideSchemas(t, s) {
		s.SQL(t, "DROP DATABASE `"+n+"`")
	}
}

// asideSetup is the start of every test here: the shared stack with its
// config and destinations, no volumes, and no aside schema before or after.
func asideSetup(t *testing.T) (*teststack.Stack, *engine.Client, *config.Config, []*storage.Destination) {
	t.Helper()
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	dropAllAside(t, s)
	t.Cleanup(func() { dropAllAside(t, s) })
	return s, eng, cfg, dests
}

// changeSinceBackup is what happened after the backup: rows deleted and
// added (through the table with a trigger), a view and a procedure of
// its own.
func changeSinceBackup(t *testing.T, s *teststack.Stack) {
	t.Helper()
	t.Cleanup(func() {
		s.SQL(t, "DROP VIEW IF EXISTS appwrite.dr_since; DROP PROCEDURE IF EXISTS appwrite.dr_since_proc")
	})
	s.SQL(t, "DELETE FROM appwrite._1_sessions WHERE _id % 3 = 0; DELETE FROM appwrite_logs.logs WHERE id % 2 = 0; "+
		"UPDATE appwrite._1_users SET _id = _id WHERE _id < 5; "+
		"CREATE OR REPLACE VIEW appwrite.dr_since AS SELECT COUNT(*) AS n FROM appwrite._1_users; "+
		"CREATE OR REPLACE PROCEDURE appwrite.dr_since_proc() SELECT 1")
}

// leaveRestored restores the backup when the test ends, so the shared
// stack is left as the other tests expect it (the undo brings back the
// state the test made).
func leaveRestored(t *testing.T, eng Engine, cfg *config.Config, dests []*storage.Destination, name string) {
	t.Cleanup(func() {
		c := *cfg
		c.Restore.SafetyNet = config.SafetyNetDump
		c.StateDir = t.TempDir()
		if _, err := restoreWith(t, eng, &c, dests, Request{Name: name, Parts: []string{PartDB}, Verified: true}); err != nil {
			t.Errorf("leaving the stack as the backup had it: %v", err)
		}
	})
}

func undoNow(t *testing.T, eng Engine, cfg *config.Config) (*UndoResult, error) {
	t.Helper()
	p, err := PrepareUndo(context.Background(), eng, cfg)
	if err != nil {
		return nil, err
	}
	return ExecuteUndo(context.Background(), eng, p, nil, nil)
}

// TestRestoreMovesAsideAndUndoBringsItBack: the restore keeps the database
// it replaces by moving its tables aside (no safety dump), the database
// equals the backup, and dr restore --undo brings back the exact
// pre-restore rows, views, trigger (which cannot move between schemas)
// and routines, dropping the aside schemas.
func TestRestoreMovesAsideAndUndoBringsItBack(t *testing.T) {
	s, eng, cfg, dests := asideSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	leaveRestored(t, eng, cfg, dests, res.Name)
	restored := dbChecksums(t, s)
	changeSinceBackup(t, s)
	before := stateOf(t, s)
	if before.equal(stateOf(t, s)) && maps.Equal(before.sums, restored) {
		t.Fatal("the change since the backup changed nothing: the test would prove nothing")
	}

	var steps []string
	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}, Step: func(s string) { steps = append(steps, s) }})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if r.Aside == nil || r.SafetyDump != "" || r.AsideFallback != "" {
		t.Fatalf("aside %+v, safety dump %q, fallback %q: want the tables moved aside and no dump", r.Aside, r.SafetyDump, r.AsideFallback)
	}
	if !strings.Contains(strings.Join(steps, "\n"), UndoCommand) {
		t.Errorf("the steps do not name the undo: %q", steps)
	}
	if got := dbChecksums(t, s); !maps.Equal(got, restored) {
		t.Errorf("the database differs from the backup after the restore")
	}
	if got := s.Objects(t, "appwrite"); slices.Contains(got, "view:dr_since") || !slices.Contains(got, "trigger:_1_users_touch") {
		t.Errorf("objects after the restore: %v", got)
	}
	// The tables aside are the database as it was, row for row.
	for _, sc := range r.Aside.Schemas {
		for table, sum := range s.Checksums(t, sc.Schema) {
			if table == mariadb.AsideMetaTable {
				continue
			}
			if before.sums[sc.Origin+"."+table] != sum {
				t.Errorf("%s.%s aside differs from %s.%s before the restore", sc.Schema, table, sc.Origin, table)
			}
		}
	}
	if j, _ := Unfinished(cfg.StateDir); j != nil {
		t.Errorf("journal left after the restore: %+v", j)
	}

	u, err := undoNow(t, eng, cfg)
	if err != nil {
		t.Fatalf("undo: %v", err)
	}
	if u.Group.Backup != res.Name {
		t.Errorf("undid the restore of %q, want %q", u.Group.Backup, res.Name)
	}
	if after := stateOf(t, s); !after.equal(before) {
		t.Errorf("after the undo the database is not as before the restore:\n got %+v\nwant %+v", after, before)
	}
	putBackAndRunning(t, s, "after the undo")
	// The trigger works again on its table.
	s.SQL(t, "UPDATE appwrite._1_users SET _id = _id WHERE _id = 1")
	if _, err := undoNow(t, eng, cfg); err == nil || !strings.Contains(err.Error(), "nothing to undo") {
		t.Errorf("a second undo: %v, want nothing to undo", err)
	}
}

// TestAsideRetention: restore.keep_aside restores' aside schemas stay,
// older ones are dropped after a restore; --drop-aside drops by stamp and
// all; the next backup leaves the aside schemas out.
func TestAsideRetention(t *testing.T) {
	s, eng, cfg, dests := asideSetup(t)
	cfg.Restore.KeepAside = 2
	res := takeBackup(t, eng, cfg, dests)
	var stamps []string
	for i := range 3 {
		at := time.Date(2026, 11, 26, 8, i, 0, 0, time.UTC)
		r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}, Verified: true, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("restore %d: %v", i+1, err)
		}
		if r.Aside == nil {
			t.Fatalf("restore %d did not move aside (fallback: %s)", i+1, r.AsideFallback)
		}
		stamps = append(stamps, r.Aside.Stamp)
		if i == 2 && len(r.AsideDropped) != len(teststack.SeedDatabases()) {
			t.Errorf("the third restore dropped %v, want the first restore's schemas", r.AsideDropped)
		}
	}
	l, err := ListAside(context.Background(), eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range l.Mine {
		got = append(got, g.Stamp)
		if len(g.Schemas) != len(teststack.SeedDatabases()) || g.Backup != res.Name {
			t.Errorf("group %s: %d schemas, backup %q", g.Stamp, len(g.Schemas), g.Backup)
		}
	}
	if want := []string{stamps[2], stamps[1]}; !slices.Equal(got, want) {
		t.Errorf("aside groups %v, want the newest two %v", got, want)
	}

	// A backup now leaves the aside schemas out.
	b := takeBackup(t, eng, cfg, dests)
	if slices.ContainsFunc(b.Manifest.Database.Databases, func(d string) bool { return strings.HasPrefix(d, asidePrefix) }) {
		t.Errorf("the backup holds aside schemas: %v", b.Manifest.Database.Databases)
	}

	if _, err := DropAside(context.Background(), eng, cfg, []string{"20990101T000000Z"}); err == nil {
		t.Error("dropping an unknown stamp succeeded")
	}
	dropped, err := DropAside(context.Background(), eng, cfg, []string{stamps[1]})
	if err != nil || len(dropped) != len(teststack.SeedDatabases()) {
		t.Fatalf("drop %s: %v, %v", stamps[1], dropped, err)
	}
	if _, err := DropAside(context.Background(), eng, cfg, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	if left := asideSchemas(t, s); len(left) != 0 {
		t.Errorf("aside schemas left after --drop-aside all: %v", left)
	}
}

// TestKeepAsideLeavesAnotherConfigsAside: two configurations restore
// different databases of one server; with restore.keep_aside 1, the second
// one's restore keeps the first one's aside schemas (its only way back),
// --drop-aside all leaves them, and --list-aside lists them apart.
func TestKeepAsideLeavesAnotherConfigsAside(t *testing.T) {
	s, eng, cfgA, destsA := asideSetup(t)
	cfgB, destsB := setup(t, s)
	cfgB.Stack.Volumes = nil
	cfgA.Stack.Database.Databases, cfgB.Stack.Database.Databases = []string{"appwrite"}, []string{"appwrite_logs"}
	var asideA []string
	for i, c := range []struct {
		cfg   *config.Config
		dests []*storage.Destination
	}{{cfgA, destsA}, {cfgB, destsB}} {
		c.cfg.Restore.KeepAside = 1
		b := takeBackup(t, eng, c.cfg, c.dests)
		at := time.Date(2026, 11, 26, 8, i, 0, 0, time.UTC)
		r, err := restoreNow(t, eng, c.cfg, c.dests, Request{Name: b.Name, Parts: []string{PartDB}, Verified: true, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("restore %d: %v", i+1, err)
		}
		if r.Aside == nil {
			t.Fatalf("restore %d did not move aside (fallback: %s)", i+1, r.AsideFallback)
		}
		if len(r.AsideDropped) > 0 {
			t.Errorf("restore %d dropped %v, another configuration's way back", i+1, r.AsideDropped)
		}
		if i == 0 {
			asideA = r.Aside.Names()
		}
	}
	if left := asideSchemas(t, s); !slices.Contains(left, asideA[0]) {
		t.Fatalf("aside schemas after both restores: %v, want %v kept", left, asideA)
	}
	l, err := ListAside(context.Background(), eng, cfgB)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mine) != 1 || len(l.Others) != 1 || !slices.Equal(l.Others[0].Names(), asideA) {
		t.Errorf("--list-aside with the second configuration: %d of its restores, others %v", len(l.Mine), l.Others)
	}
	if _, err := DropAside(context.Background(), eng, cfgB, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	if left := asideSchemas(t, s); !slices.Equal(left, asideA) {
		t.Errorf("aside schemas after --drop-aside all of the second configuration: %v, want the first's %v", left, asideA)
	}
}

// TestKilledAsideRestore: kill -9 of a restore half way through the import
// after it moved the tables aside; the journal names the aside schemas; the
// next restore keeps them as its way back (it does not move the half
// import aside) and finishes; the undo then brings back the database as it
// was before the first, killed, restore.
func TestKilledAsideRestore(t *testing.T) {
	s, eng, cfg, dests := asideSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	leaveRestored(t, eng, cfg, dests, res.Name)
	want := dbChecksums(t, s)
	changeSinceBackup(t, s)
	before := stateOf(t, s)
	t.Cleanup(func() { s.Compose(t, "start", teststack.AppService, teststack.WorkerService) })

	killHalfWay(t, childRestore{Project: s.Project, Dir: s.Dir, StateDir: cfg.StateDir, Remote: cfg.Destinations[0].Remote, Backup: res.Name})
	j, err := Unfinished(cfg.StateDir)
	if err != nil || j == nil {
		t.Fatalf("no restore journal after the kill: %v", err)
	}
	if len(j.Aside) != len(teststack.SeedDatabases()) || len(j.SafetyDumps) != 0 || !slices.Equal(j.Unfinished, []string{journal.ItemDB}) {
		t.Fatalf("journal after the kill: %+v; want the aside schemas and the unfinished database", j)
	}
	if got := asideSchemas(t, s); !slices.Equal(got, j.Aside) {
		t.Fatalf("aside schemas on the server %v, the journal names %v", got, j.Aside)
	}

	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err != nil {
		t.Fatalf("the restore after the kill: %v", err)
	}
	if r.Aside == nil || !slices.Equal(r.Aside.Names(), j.Aside) || r.SafetyDump != "" {
		t.Errorf("the next restore's way back is %+v (dump %q); want the killed one's aside schemas %v", r.Aside, r.SafetyDump, j.Aside)
	}
	if got := dbChecksums(t, s); !maps.Equal(got, want) {
		t.Error("the database differs from the backup after the rerun")
	}
	if got := asideSchemas(t, s); !slices.Equal(got, j.Aside) {
		t.Errorf("aside schemas %v after the rerun, want only %v", got, j.Aside)
	}
	if _, err := undoNow(t, eng, cfg); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := stateOf(t, s); !after.equal(before) {
		t.Error("after the undo the database is not as it was before the killed restore")
	}
}

// TestKilledAsideRestoreIsUndone: kill -9 half way through the import,
// then dr restore --undo straight away: the database as it was, the
// services started, the journal gone.
func TestKilledAsideRestoreIsUndone(t *testing.T) {
	s, eng, cfg, dests := asideSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	leaveRestored(t, eng, cfg, dests, res.Name)
	changeSinceBackup(t, s)
	before := stateOf(t, s)
	t.Cleanup(func() { s.Compose(t, "start", teststack.AppService, teststack.WorkerService) })

	killHalfWay(t, childRestore{Project: s.Project, Dir: s.Dir, StateDir: cfg.StateDir, Remote: cfg.Destinations[0].Remote, Backup: res.Name})
	p, err := PrepareUndo(context.Background(), eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Interrupted == nil {
		t.Error("the undo plan does not name the interrupted restore")
	}
	if _, err := ExecuteUndo(context.Background(), eng, p, nil, nil); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := stateOf(t, s); !after.equal(before) {
		t.Error("after the undo the database is not as it was before the killed restore")
	}
	for svc, state := range startedAt(t, s) {
		if !strings.HasPrefix(state, "true") {
			t.Errorf("service %s is not running after the undo: %s", svc, state)
		}
	}
	if j, err := Unfinished(cfg.StateDir); j != nil || err != nil {
		t.Errorf("journal after the undo: %+v, %v", j, err)
	}
	if left := asideSchemas(t, s); len(left) != 0 {
		t.Errorf("aside schemas left after the undo: %v", left)
	}
}

// killHalfWay runs the restore in a child process and kills it with
// SIGKILL once half the dump went to the import.
func killHalfWay(t *testing.T, c childRestore) {
	t.Helper()
	spec, _ := json.Marshal(c)
	teststack.KillChildAt(t, childEnv, string(spec), importingLine)
}

// hookedEngine is the real engine with one exec rewritten: the free space
// the survey reports for the datadir, or a script the server is to refuse.
type hookedEngine struct {
	*engine.Client
	free       string // what df reports, when set
	failRename bool   // the RENAME TABLE also names a table that is not there
	failDump   bool
}

func (h *hookedEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if len(opts.Cmd) > 3 {
		switch opts.Cmd[3] {
		case "dr-survey":
			if h.free != "" {
				// The real survey, with df's answer replaced.
				var out strings.Builder
				real := opts
				real.Stdout = &out
				res, err := h.Client.Exec(ctx, id, real)
				if err != nil || res.ExitCode != 0 {
					return res, err
				}
				const sep = "--dr-survey--\n"
				rows, _, _ := strings.Cut(out.String(), sep)
				fmt.Fprint(opts.Stdout, rows+sep+h.free+"\n")
				return res, nil
			}
		case "dr-script":
			if h.failRename {
				b, err := io.ReadAll(opts.Stdin)
				if err != nil {
					return nil, err
				}
				// A real refusal of the server, after the triggers were
				// really dropped: the whole RENAME fails, nothing moves.
				opts.Stdin = strings.NewReader(strings.Replace(string(b), "RENAME TABLE ", "RENAME TABLE `appwrite`.`dr_not_there` TO `appwrite`.`dr_not_there2`, ", 1))
			}
		case "dr-dump":
			if h.failDump {
				return &engine.ExecResult{ExitCode: 2, Stderr: "mariadb-dump: Got error: 1146: Table 'appwrite.x' doesn't exist"}, nil
			}
		}
	}
	return h.Client.Exec(ctx, id, opts)
}

func restoreWith(t *testing.T, eng Engine, cfg *config.Config, dests []*storage.Destination, req Request) (*Result, error) {
	t.Helper()
	plan, err := Prepare(context.Background(), eng, cfg, dests, req)
	if err != nil {
		return nil, err
	}
	return Execute(context.Background(), eng, plan, req)
}

// TestAsideFallsBackToTheSafetyDump: where the tables cannot be moved
// aside, the restore takes the safety dump instead and says why; when the
// server refuses the rename, what was done before it (the trigger dropped,
// the aside schemas made) is put back, so that a restore refused for want
// of any way back leaves the database exactly as it was.
func TestAsideFallsBackToTheSafetyDump(t *testing.T) {
	s, real, cfg, dests := asideSetup(t)
	res := takeBackup(t, real, cfg, dests)
	leaveRestored(t, real, cfg, dests, res.Name)
	restored := dbChecksums(t, s)

	for _, tc := range []struct {
		name   string
		eng    *hookedEngine
		reason string
	}{
		{"no room for a second copy", &hookedEngine{Client: real, free: "1048576"}, "1.0 MiB free and the import needs about"},
		{"rename refused", &hookedEngine{Client: real, failRename: true}, "dr_not_there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changeSinceBackup(t, s)
			r, err := restoreWith(t, tc.eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if r.Aside != nil || r.SafetyDump == "" || !strings.Contains(r.AsideFallback, tc.reason) {
				t.Errorf("aside %+v, safety dump %q, fallback %q; want the safety dump because %q", r.Aside, r.SafetyDump, r.AsideFallback, tc.reason)
			}
			if got := dbChecksums(t, s); !maps.Equal(got, restored) {
				t.Error("the database differs from the backup")
			}
			if left := asideSchemas(t, s); len(left) != 0 {
				t.Errorf("aside schemas left: %v", left)
			}
		})
	}

	t.Run("rename refused and no dump either", func(t *testing.T) {
		changeSinceBackup(t, s)
		before := stateOf(t, s)
		eng := &hookedEngine{Client: real, failRename: true, failDump: true}
		_, err := restoreWith(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
		var sd *SafetyDumpError
		if !errors.As(err, &sd) {
			t.Fatalf("got %v, want the restore refused for want of a safety net", err)
		}
		if after := stateOf(t, s); !after.equal(before) {
			t.Errorf("the refused restore changed the database (the trigger not put back?):\n got %+v\nwant %+v", after, before)
		}
		putBackAndRunning(t, s, "after the refused restore")
	})
}

// TestAsidePutBackWhenTheImportNeverStarted: the tables were moved aside,
// then the archive could not be read: the restore fails, and the database
// is put back as it was instead of leaving the services on an empty one.
func TestAsidePutBackWhenTheImportNeverStarted(t *testing.T) {
	s, eng, cfg, dests := asideSetup(t)
	seed := takeBackup(t, eng, cfg, dests)
	leaveRestored(t, eng, cfg, dests, seed.Name)
	res := takeBackup(t, eng, cfg, dests)
	changeSinceBackup(t, s)
	before := stateOf(t, s)

	req := Request{Name: res.Name, Parts: []string{PartDB}, Verified: true}
	plan, err := Prepare(context.Background(), eng, cfg, dests, req)
	if err != nil {
		t.Fatal(err)
	}
	// Gone between the plan and the stream.
	if err := os.Remove(filepath.Join(cfg.Destinations[0].Remote, res.Name)); err != nil {
		t.Fatal(err)
	}
	var steps []string
	req.Step = func(s string) { steps = append(steps, s) }
	r, err := Execute(context.Background(), eng, plan, req)
	if err == nil {
		t.Fatal("the restore of a missing archive succeeded")
	}
	if !strings.Contains(strings.Join(steps, "\n"), "moving the current tables aside") || r.Aside != nil {
		t.Errorf("steps %q, aside %+v: want the tables moved aside, then put back", steps, r.Aside)
	}
	if after := stateOf(t, s); !after.equal(before) {
		t.Error("the database is not as it was after the failed restore")
	}
	if left := asideSchemas(t, s); len(left) != 0 {
		t.Errorf("aside schemas left: %v", left)
	}
	if j, err := Unfinished(cfg.StateDir); j != nil || err != nil {
		t.Errorf("journal after the put back: %+v, %v", j, err)
	}
	for svc, state := range startedAt(t, s) {
		if !strings.HasPrefix(state, "true") {
			t.Errorf("service %s is not running: %s", svc, state)
		}
	}
}

// TestKilledBeforeTheRename: a restore died after it made the aside
// schemas and dropped the trigger, before the RENAME: the next restore
// puts that back (the trigger made again, the schemas dropped), moves the
// tables aside afresh and restores; the undo then gives the database as
// it was, trigger included.
func TestKilledBeforeTheRename(t *testing.T) {
	s, eng, cfg, dests := asideSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	leaveRestored(t, eng, cfg, dests, res.Name)
	want := dbChecksums(t, s)
	changeSinceBackup(t, s)
	before := stateOf(t, s)

	// The dead run's work, up to its death: the real first half of a move.
	ctx := context.Background()
	srv := mariadb.New(&hookedEngine{Client: eng, failRename: true}, s.ContainerID(t, teststack.DBService))
	prep, err := inspectAside(ctx, srv, teststack.SeedDatabases(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	const stamp = "20261126T070000Z"
	if _, err := moveAside(ctx, srv, prep, stamp, res.Name); err == nil {
		t.Fatal("the staged move did not stop before the rename")
	}
	if got := s.Objects(t, "appwrite"); slices.Contains(got, "trigger:_1_users_touch") {
		t.Fatal("the staged move did not drop the trigger")
	}
	var names []string
	for _, db := range teststack.SeedDatabases() {
		names = append(names, asideName(db, stamp))
	}
	if err := journal.Write(cfg.StateDir, &journal.Journal{Backup: res.Name, Project: s.Project, Parts: []string{PartDB},
		Phase: journal.PhaseAside, Aside: names, Unfinished: []string{journal.ItemDB}}); err != nil {
		t.Fatal(err)
	}

	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err != nil {
		t.Fatalf("the restore after the kill: %v", err)
	}
	if r.Aside == nil || slices.Equal(r.Aside.Names(), names) {
		t.Errorf("aside %+v: want a fresh move, not the dead run's empty schemas", r.Aside)
	}
	if got := dbChecksums(t, s); !maps.Equal(got, want) {
		t.Error("the database differs from the backup")
	}
	if got := asideSchemas(t, s); !slices.Equal(got, r.Aside.Names()) {
		t.Errorf("aside schemas %v, want only the fresh ones %v", got, r.Aside.Names())
	}
	if _, err := undoNow(t, eng, cfg); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := stateOf(t, s); !after.equal(before) {
		t.Errorf("after the undo the database is not as it was before the killed restore:\n got %+v\nwant %+v", after, before)
	}
}

// putBackAndRunning checks what every way back ends with: no aside schema
// left on the server and every service of the stack running; after names
// the moment in the messages ("after the undo"), or is empty.
func putBackAndRunning(t *testing.T, s *teststack.Stack, after string) {
	t.Helper()
	if after != "" {
		after = " " + after
	}
	if left := asideSchemas(t, s); len(left) != 0 {
		t.Errorf("aside schemas left%s: %v", after, left)
	}
	for svc, state := range startedAt(t, s) {
		if !strings.HasPrefix(state, "true") {
			t.Errorf("service %s is not running%s: %s", svc, after, state)
		}
	}
}
