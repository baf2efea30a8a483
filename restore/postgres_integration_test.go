package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/postgres"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// pgStack is the PostgreSQL test stack the restore tests share, started
// by the first test that needs it; each test leaves it as the seed made it.
var pgStack = teststack.NewShared(teststack.Options{Name: "restorepg", Engine: teststack.PostgreSQL})

// pgState is what a PostgreSQL restore or undo must bring back: every
// table's contents and every view, function, procedure and trigger.
type pgState struct {
	sums    map[string]string
	objects map[string][]string
}

func pgStateOf(t *testing.T, s *teststack.Stack) pgState {
	t.Helper()
	st := pgState{sums: map[string]string{}, objects: map[string][]string{}}
	for _, db := range teststack.SeedPostgresDatabases() {
		for table, sum := range s.PGChecksums(t, db) {
			st.sums[db+"."+table] = sum
		}
		st.objects[db] = s.PGObjects(t, db)
	}
	return st
}

func (a pgState) equal(b pgState) bool {
	return maps.Equal(a.sums, b.sums) && maps.EqualFunc(a.objects, b.objects, slices.Equal)
}

// pgAside lists the aside databases on the test server.
func pgAside(t *testing.T, s *teststack.Stack) []string {
	t.Helper()
	out := s.PSQL(t, "postgres", `SELECT datname FROM pg_database WHERE starts_with(datname, 'dr_aside_') ORDER BY 1`)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func dropPGAside(t *testing.T, s *teststack.Stack) {
	t.Helper()
	for _, n := range pgAside(t, s) {
		s.PSQL(t, "postgres", `DROP DATABASE "`+n+`" WITH (FORCE)`)
	}
}

// pgSetup is the start of every PostgreSQL restore test: the shared stack
// with its config (no volumes) and destinations, no aside database before
// or after, and the services running again whatever the test did.
func pgSetup(t *testing.T) (*teststack.Stack, *engine.Client, *config.Config, []*storage.Destination) {
	t.Helper()
	s := pgStack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Database.Service = teststack.PGService
	cfg.Stack.Volumes = nil
	dropPGAside(t, s)
	t.Cleanup(func() {
		s.Compose(t, "start", teststack.AppService, teststack.WorkerService)
		dropPGAside(t, s)
	})
	return s, eng, cfg, dests
}

// pgChangeSinceBackup is what happened after the backup: rows deleted and
// changed (through the table with a trigger), a view and a function of
// its own.
func pgChangeSinceBackup(t *testing.T, s *teststack.Stack) {
	t.Helper()
	s.PSQL(t, "appwrite", `DELETE FROM "_1_sessions" WHERE "_id" % 3 = 0;
UPDATE "_1_users" SET "name" = 'changed' WHERE "_id" < 5;
CREATE VIEW "dr_since" AS SELECT count(*) AS n FROM "_1_users";
CREATE FUNCTION "dr_since_fn"() RETURNS int LANGUAGE sql AS 'SELECT 1';`)
	s.PSQL(t, "appwrite_logs", `DELETE FROM "logs" WHERE "id" % 2 = 0`)
}

// pgLeaveRestored restores the backup when the test ends (with a safety
// dump, so no aside database is left), as the other tests expect the
// shared stack.
func pgLeaveRestored(t *testing.T, eng Engine, cfg *config.Config, dests []*storage.Destination, name string) {
	t.Cleanup(func() {
		c := *cfg
		c.Restore.SafetyNet = config.SafetyNetDump
		c.StateDir = t.TempDir()
		if _, err := restoreWith(t, eng, &c, dests, Request{Name: name, Parts: []string{PartDB}, Verified: true}); err != nil {
			t.Errorf("leaving the stack as the backup had it: %v", err)
		}
	})
}

// TestPostgresRestoreMovesAsideAndUndoBringsItBack: on PostgreSQL the
// restore renames each database aside, imports the backup (rows, views,
// functions, triggers equal to the backup's, what changed since gone),
// dr aside list shows the aside databases, and the undo brings back the
// pre-restore state and leaves no aside database.
func TestPostgresRestoreMovesAsideAndUndoBringsItBack(t *testing.T) {
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	pgLeaveRestored(t, eng, cfg, dests, res.Name)
	want := pgStateOf(t, s)
	if len(want.objects["appwrite"]) != len(teststack.SeedPostgresObjects()) {
		t.Fatalf("the seed's objects are %v, want %v", want.objects["appwrite"], teststack.SeedPostgresObjects())
	}
	pgChangeSinceBackup(t, s)
	before := pgStateOf(t, s)
	if before.equal(want) {
		t.Fatal("the change since the backup changed nothing")
	}

	req := Request{Name: res.Name, Parts: []string{PartDB}}
	plan, err := Prepare(context.Background(), eng, cfg, dests, req)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Kind != dbkind.PostgreSQL || !slices.Equal(plan.Databases, teststack.SeedPostgresDatabases()) || plan.Tables == 0 {
		t.Errorf("plan: kind %q databases %v tables %d", plan.Kind, plan.Databases, plan.Tables)
	}
	var steps []string
	req.Step = func(s string) { steps = append(steps, s) }
	r, err := Execute(context.Background(), eng, plan, req)
	if err != nil {
		t.Fatalf("restore: %v\nsteps: %v", err, steps)
	}
	if r.SafetyDump != "" || r.Aside == nil || len(r.Aside.Schemas) != 2 || r.TablesChecked != len(teststack.SeedPostgresRows()) {
		t.Fatalf("result: dump %q aside %+v tables checked %d; want two aside databases, %d tables; steps: %q", r.SafetyDump, r.Aside, r.TablesChecked, len(teststack.SeedPostgresRows()), steps)
	}
	if got := pgStateOf(t, s); !got.equal(want) {
		t.Errorf("after the restore the databases differ from the backup:\n got %v\nwant %v", got, want)
	}
	rows := map[string]int{}
	for _, db := range teststack.SeedPostgresDatabases() {
		maps.Copy(rows, s.PGRows(t, db))
	}
	if !maps.Equal(rows, teststack.SeedPostgresRows()) {
		t.Errorf("rows after the restore %v, want the seed's %v", rows, teststack.SeedPostgresRows())
	}
	if got := pgAside(t, s); !slices.Equal(got, r.Aside.Names()) {
		t.Errorf("aside databases on the server %v, the result names %v", got, r.Aside.Names())
	}
	l, err := ListAside(context.Background(), eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Mine) != 1 || !slices.Equal(l.Mine[0].Names(), r.Aside.Names()) || l.Mine[0].Backup != res.Name {
		t.Fatalf("dr aside list: %+v", l.Mine)
	}
	for _, a := range l.Mine[0].Schemas {
		if !a.Complete || !a.Existed || a.Held == 0 || a.Bytes == 0 {
			t.Errorf("aside database %+v: want complete, existed, with tables and a size", a)
		}
	}
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if !strings.HasPrefix(pgRunning(t, s, svc), "true") {
			t.Errorf("service %s is not running after the restore", svc)
		}
	}

	if _, err := undoNow(t, eng, cfg); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := pgStateOf(t, s); !after.equal(before) {
		t.Errorf("after the undo the databases are not as they were before the restore:\n got %v\nwant %v", after, before)
	}
	if left := pgAside(t, s); len(left) != 0 {
		t.Errorf("aside databases left after the undo: %v", left)
	}
}

func pgRunning(t *testing.T, s *teststack.Stack, svc string) string {
	t.Helper()
	b, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", s.ContainerID(t, svc)).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestPostgresAsideRetentionAndDrop: restore.keep_aside keeps the newest
// restores' aside databases and drops the others; dr aside drop all drops
// what is left.
func TestPostgresAsideRetentionAndDrop(t *testing.T) {
	teststack.Extended(t)
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	cfg.Restore.KeepAside = 1
	var groups [][]string
	for i := range 2 {
		at := time.Date(2026, 11, 26, 9, i, 0, 0, time.UTC)
		r, err := restoreWith(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}, Verified: true, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("restore %d: %v", i+1, err)
		}
		groups = append(groups, r.Aside.Names())
		if i == 1 && len(r.AsideDropped) != 2 {
			t.Errorf("the second restore dropped %v, want the first's %v", r.AsideDropped, groups[0])
		}
	}
	if got := pgAside(t, s); !slices.Equal(got, groups[1]) {
		t.Errorf("aside databases %v, want only the newest restore's %v", got, groups[1])
	}
	dropped, err := DropAside(context.Background(), eng, cfg, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, groups[1]) {
		t.Errorf("dropped %v, want %v", dropped, groups[1])
	}
	if got := pgAside(t, s); len(got) != 0 {
		t.Errorf("aside databases left after dropping all: %v", got)
	}
	if got := pgStateOf(t, s); len(got.sums) == 0 {
		t.Error("the restored databases are gone")
	}
}

// failingImportEngine lets the import through until it has sent half the
// dump, then feeds it a statement the server refuses.
type failingImportEngine struct {
	*engine.Client
	half int64
}

func (f *failingImportEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if len(opts.Cmd) > 3 && opts.Cmd[3] == "dr-import" {
		opts.Stdin = io.MultiReader(io.LimitReader(opts.Stdin, f.half), strings.NewReader("\n;\nSELECT dr_no_such_function();\n"))
	}
	return f.Client.Exec(ctx, id, opts)
}

// TestPostgresFailedImportPutsTheAsideBack: an import that fails half way
// drops the half-imported databases and renames the aside ones back: the
// databases are as they were, no aside is left, the services run, and the
// journal is gone.
func TestPostgresFailedImportPutsTheAsideBack(t *testing.T) {
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	pgLeaveRestored(t, eng, cfg, dests, res.Name)
	pgChangeSinceBackup(t, s)
	before := pgStateOf(t, s)

	failing := &failingImportEngine{Client: eng, half: res.Manifest.Database.DumpSize / 2}
	_, err := restoreWith(t, failing, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err == nil {
		t.Fatal("the restore succeeded with a failing import")
	}
	if !strings.Contains(err.Error(), "put back") {
		t.Errorf("the error does not say the databases were put back: %v", err)
	}
	if after := pgStateOf(t, s); !after.equal(before) {
		t.Errorf("after the failed import the databases are not as they were:\n got %v\nwant %v", after, before)
	}
	if left := pgAside(t, s); len(left) != 0 {
		t.Errorf("aside databases left after the failed import: %v", left)
	}
	if j, err := Unfinished(cfg.StateDir); j != nil || err != nil {
		t.Errorf("journal after the failed import: %+v, %v", j, err)
	}
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if !strings.HasPrefix(pgRunning(t, s, svc), "true") {
			t.Errorf("service %s is not running after the failed restore", svc)
		}
	}
}

// TestPostgresKilledRestore: kill -9 of a restore half way through the
// import after it renamed the databases aside: the journal names them and
// the database unfinished, the services stay stopped, dr backup refuses;
// the next restore keeps the aside databases as its way back, finishes,
// and starts the services; the undo then brings back the databases as
// they were before the killed restore.
func TestPostgresKilledRestore(t *testing.T) {
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	pgLeaveRestored(t, eng, cfg, dests, res.Name)
	want := pgStateOf(t, s)
	pgChangeSinceBackup(t, s)
	before := pgStateOf(t, s)

	killHalfWay(t, childRestore{Project: s.Project, Dir: s.Dir, StateDir: cfg.StateDir, Remote: cfg.Destinations[0].Remote, Backup: res.Name, DBService: teststack.PGService})
	j, err := Unfinished(cfg.StateDir)
	if err != nil || j == nil {
		t.Fatalf("no restore journal after the kill: %v", err)
	}
	if len(j.Aside) != 2 || len(j.SafetyDumps) != 0 || !slices.Equal(j.Unfinished, []string{journal.ItemDB}) || len(j.Stopped) == 0 {
		t.Fatalf("journal after the kill: %+v; want the aside databases, the unfinished database and the stopped services", j)
	}
	if got := pgAside(t, s); !slices.Equal(got, j.Aside) {
		t.Fatalf("aside databases on the server %v, the journal names %v", got, j.Aside)
	}
	if _, err := journal.CheckBackup(cfg.StateDir); err == nil {
		t.Error("a backup would run over the half-restored database")
	}

	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err != nil {
		t.Fatalf("the restore after the kill: %v", err)
	}
	if r.Aside == nil || !slices.Equal(r.Aside.Names(), j.Aside) || r.Interrupted == nil {
		t.Errorf("the next restore's way back is %+v, interrupted %v; want the killed one's aside databases %v", r.Aside, r.Interrupted, j.Aside)
	}
	if got := pgStateOf(t, s); !got.equal(want) {
		t.Error("the databases differ from the backup after the rerun")
	}
	if got := pgAside(t, s); !slices.Equal(got, j.Aside) {
		t.Errorf("aside databases %v after the rerun, want only %v", got, j.Aside)
	}
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if !strings.HasPrefix(pgRunning(t, s, svc), "true") {
			t.Errorf("service %s is not running after the rerun", svc)
		}
	}
	if j, err := Unfinished(cfg.StateDir); j != nil || err != nil {
		t.Errorf("journal after the rerun: %+v, %v", j, err)
	}
	if _, err := undoNow(t, eng, cfg); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := pgStateOf(t, s); !after.equal(before) {
		t.Error("after the undo the databases are not as they were before the killed restore")
	}
}

// TestPostgresKilledRestoreIsUndone: kill -9 half way through the import,
// then dr restore --undo straight away: the databases as they were, the
// services started, the journal gone, no aside database left.
func TestPostgresKilledRestoreIsUndone(t *testing.T) {
	teststack.Extended(t)
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	pgLeaveRestored(t, eng, cfg, dests, res.Name)
	pgChangeSinceBackup(t, s)
	before := pgStateOf(t, s)

	killHalfWay(t, childRestore{Project: s.Project, Dir: s.Dir, StateDir: cfg.StateDir, Remote: cfg.Destinations[0].Remote, Backup: res.Name, DBService: teststack.PGService})
	p, err := PrepareUndo(context.Background(), eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Interrupted == nil || p.Kind != dbkind.PostgreSQL {
		t.Errorf("the undo plan: interrupted %v, kind %q", p.Interrupted, p.Kind)
	}
	if _, err := ExecuteUndo(context.Background(), eng, p, nil, nil); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := pgStateOf(t, s); !after.equal(before) {
		t.Error("after the undo the databases are not as they were before the killed restore")
	}
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if !strings.HasPrefix(pgRunning(t, s, svc), "true") {
			t.Errorf("service %s is not running after the undo", svc)
		}
	}
	if j, err := Unfinished(cfg.StateDir); j != nil || err != nil {
		t.Errorf("journal after the undo: %+v, %v", j, err)
	}
	if left := pgAside(t, s); len(left) != 0 {
		t.Errorf("aside databases left after the undo: %v", left)
	}
}

// TestPostgresSafetyDumpNet: with restore.safety_net: dump the restore
// saves the current databases first (a dump that drops and recreates
// them), replaces them with the backup's, and the safety dump imported by
// hand brings back the state before the restore.
func TestPostgresSafetyDumpNet(t *testing.T) {
	teststack.Extended(t)
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	pgLeaveRestored(t, eng, cfg, dests, res.Name)
	want := pgStateOf(t, s)
	pgChangeSinceBackup(t, s)
	before := pgStateOf(t, s)

	cfg.Restore.SafetyNet = config.SafetyNetDump
	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if r.SafetyDump == "" || r.Aside != nil {
		t.Fatalf("result: safety dump %q, aside %+v; want the dump only", r.SafetyDump, r.Aside)
	}
	if got := pgStateOf(t, s); !got.equal(want) {
		t.Error("after the restore the databases differ from the backup")
	}
	if left := pgAside(t, s); len(left) != 0 {
		t.Errorf("aside databases with safety_net dump: %v", left)
	}

	// The by-hand import the error messages name, with the writers
	// stopped as a restore stops them.
	s.Compose(t, "stop", teststack.AppService, teststack.WorkerService)
	f, err := os.Open(r.SafetyDump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	cmd := exec.Command("docker", "exec", "-i", s.ContainerID(t, teststack.PGService), "sh", "-c", `psql -X -q -v ON_ERROR_STOP=1 -U "${POSTGRES_USER:-postgres}" -d postgres`)
	cmd.Stdin = zr
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("importing the safety dump by hand: %v: %s", err, out)
	}
	if got := pgStateOf(t, s); !got.equal(before) {
		t.Error("the safety dump does not bring back the databases as they were before the restore")
	}
}

// TestPostgresRestoreRefusesAnotherKind: a backup of a PostgreSQL stack
// is not imported into a MariaDB server, nor the other way round, and
// nothing is stopped.
func TestPostgresRestoreRefusesAnotherKind(t *testing.T) {
	_, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	other := *cfg
	other.Stack.Database.Kind = dbkind.MariaDB
	_, err := Prepare(context.Background(), eng, &other, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err == nil || !strings.Contains(err.Error(), "same kind") {
		t.Errorf("restoring a PostgreSQL backup into a server configured as MariaDB: %v", err)
	}
	var nc *NoCopyError
	if errors.As(err, &nc) {
		t.Errorf("refused for the wrong reason: %v", err)
	}
}

// TestPostgresRestoreMakesTheRolesItNeeds: a table owned by a role the
// server no longer has (a fresh server, a role dropped since) is restored
// with its owner: the restore creates the roles the manifest names that
// the server lacks, without login, before the import's OWNER TO; with
// include_grants the dump's own roles section does, idempotently, over
// roles the server has.
func TestPostgresRestoreMakesTheRolesItNeeds(t *testing.T) {
	teststack.Extended(t)
	for _, grants := range []bool{false, true} {
		t.Run(map[bool]string{false: "without grants", true: "with include_grants"}[grants], func(t *testing.T) {
			s, eng, cfg, dests := pgSetup(t)
			cfg.Stack.Database.IncludeGrants = grants
			s.PSQL(t, "postgres", `CREATE ROLE "dr_owner" NOLOGIN`)
			s.PSQL(t, "appwrite", `ALTER TABLE "_1_abuse" OWNER TO "dr_owner"`)
			dropOwner := func() {
				for _, db := range teststack.SeedPostgresDatabases() {
					s.PSQL(t, db, `REASSIGN OWNED BY "dr_owner" TO CURRENT_USER; DROP OWNED BY "dr_owner"`)
				}
				s.PSQL(t, "postgres", `DROP ROLE IF EXISTS "dr_owner"`)
			}
			t.Cleanup(func() {
				dropPGAside(t, s)
				if s.PSQL(t, "postgres", `SELECT count(*) FROM pg_roles WHERE rolname = 'dr_owner'`) == "1" {
					dropOwner()
				}
			})
			res := takeBackup(t, eng, cfg, dests)
			if !slices.Contains(res.Manifest.Database.Users, "dr_owner") {
				t.Fatalf("the manifest's roles %v lack dr_owner", res.Manifest.Database.Users)
			}
			dropOwner()
			if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}}); err != nil {
				t.Fatalf("restore: %v", err)
			}
			if got := s.PSQL(t, "appwrite", `SELECT tableowner FROM pg_tables WHERE tablename = '_1_abuse'`); got != "dr_owner" {
				t.Errorf("_1_abuse is owned by %q after the restore, want dr_owner", got)
			}
		})
	}
}

// TestPostgresRestoreAfterAKillInsideTheRename: a run killed inside the
// rename (after it closed the database to connections and wrote its
// comment, before the ALTER DATABASE … RENAME) left appwrite closed under
// its own name; the next restore opens it, keeps it as its way back, and
// the undo brings it back whole.
func TestPostgresRestoreAfterAKillInsideTheRename(t *testing.T) {
	teststack.Extended(t)
	s, eng, cfg, dests := pgSetup(t)
	res := takeBackup(t, eng, cfg, dests)
	pgLeaveRestored(t, eng, cfg, dests, res.Name)
	pgChangeSinceBackup(t, s)
	before := pgStateOf(t, s)
	s.PSQL(t, "postgres", `COMMENT ON DATABASE "appwrite" IS 'dr aside {"origin":"appwrite","at":"20261101T000000Z"}'; ALTER DATABASE "appwrite" WITH ALLOW_CONNECTIONS false`)
	t.Cleanup(func() { s.PSQL(t, "postgres", `ALTER DATABASE "appwrite" WITH ALLOW_CONNECTIONS true`) })

	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if r.Aside == nil || len(r.Aside.Schemas) != 2 {
		t.Fatalf("the restore's way back: %+v (fallback %q)", r.Aside, r.AsideFallback)
	}
	if _, err := undoNow(t, eng, cfg); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if after := pgStateOf(t, s); !after.equal(before) {
		t.Error("after the undo the databases are not as they were before the restore")
	}
}

// cutReader gives the rows, waits for psql to have sent them on, then
// fails as a damaged chunk or a cancelled restore would.
type cutReader struct {
	rows   io.Reader
	cancel context.CancelFunc // nil: fail the read instead
}

var errCutInput = errors.New("the dump chunk failed its sha256")

func (c *cutReader) Read(p []byte) (int, error) {
	if n, err := c.rows.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	time.Sleep(time.Second)
	if c.cancel != nil {
		c.cancel()
		time.Sleep(time.Second)
	}
	return 0, errCutInput
}

// An import stopped in the middle of a COPY, by its input failing or by a
// cancel, stores none of the COPY's rows: psql is ended before its input
// is, never handed a clean end of input that would commit half a table
// (the import reads through cat, which must not die first).
func TestPostgresImportCutMidCopyStoresNoRow(t *testing.T) {
	s := pgStack.Get(t)
	eng := teststack.Engine(t)
	srv := postgres.New(eng, s.ContainerID(t, teststack.PGService))
	s.PSQL(t, "postgres", `DROP DATABASE IF EXISTS "dr_cut" WITH (FORCE)`)
	s.PSQL(t, "postgres", `CREATE DATABASE "dr_cut"`)
	t.Cleanup(func() { s.PSQL(t, "postgres", `DROP DATABASE IF EXISTS "dr_cut" WITH (FORCE)`) })
	s.PSQL(t, "dr_cut", `CREATE TABLE "t" ("id" int)`)
	var rows strings.Builder
	rows.WriteString("\\connect dr_cut\nCOPY \"public\".\"t\" (\"id\") FROM stdin;\n")
	for i := range 20000 {
		fmt.Fprintf(&rows, "%d\n", i)
	}
	// The control: the same rows, ended, are stored, so that none after a
	// cut means the cut, not a COPY that never loaded.
	if copied, err := srv.Import(context.Background(), strings.NewReader(rows.String()+"\\.\n")); err != nil || !slices.Equal(copied, []int64{20000}) {
		t.Fatalf("the whole COPY: tags %v, %v; want [20000]", copied, err)
	}
	if n := s.PSQL(t, "dr_cut", `SELECT count(*) FROM "t"`); n != "20000" {
		t.Fatalf("the whole COPY stored %s rows, want 20000", n)
	}
	s.PSQL(t, "dr_cut", `TRUNCATE "t"`)
	for _, cancelled := range []bool{false, true} {
		t.Run(map[bool]string{false: "input fails", true: "cancelled"}[cancelled], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &cutReader{rows: strings.NewReader(rows.String())}
			if cancelled {
				r.cancel = cancel
			}
			_, err := srv.Import(ctx, r)
			if err == nil {
				t.Fatal("an import whose input was cut mid-COPY succeeded")
			}
			if cancelled && !errors.Is(err, context.Canceled) || !cancelled && !errors.Is(err, errCutInput) {
				t.Errorf("Import = %v, want the cut's own error", err)
			}
			// The COPY's session gone, its rows are committed or never.
			deadline := time.Now().Add(30 * time.Second)
			for s.PSQL(t, "postgres", `SELECT count(*) FROM pg_stat_activity WHERE datname = 'dr_cut'`) != "0" {
				if time.Now().After(deadline) {
					t.Fatal("the import's session still runs")
				}
				time.Sleep(100 * time.Millisecond)
			}
			if n := s.PSQL(t, "dr_cut", `SELECT count(*) FROM "t"`); n != "0" {
				t.Errorf("table t holds %s rows after the cut import, want 0", n)
			}
		})
	}
}
