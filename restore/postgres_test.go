package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/postgres"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// pgDB is one database of pgEngine.
type pgDB struct {
	comment string
	size    int64
	tables  []string
}

// pgEngine is a PostgreSQL server faked at the engine's exec: it answers
// the client's catalog queries from its databases, applies the renames,
// comments, creates and drops of the scripts it is sent, and records them.
type pgEngine struct {
	*fakeEngine
	dbs     map[string]*pgDB
	freeKiB string // what df says; "" fails
	failOn  string // a script holding it is refused
	scripts []string
	dumps   [][]string
	rows    map[string]string // db → "schema.table\tcount" lines
}

var (
	pgStatement = regexp.MustCompile(`(?m)^(COMMENT ON DATABASE "([^"]+)" IS (NULL|'(.*)')|ALTER DATABASE "([^"]+)" RENAME TO "([^"]+)"|CREATE DATABASE "([^"]+)"|DROP DATABASE "([^"]+)");$`)
	pgInList    = regexp.MustCompile(`'([^']+)'`)
	pgFirstIn   = regexp.MustCompile(`datname IN \([^)]*\)`)
)

func newPGEngine(dbs map[string]*pgDB) *pgEngine {
	return &pgEngine{dbs: dbs, freeKiB: fmt.Sprint(10 << 20)}
}

func (f *pgEngine) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	fail := func(msg string) (*engine.ExecResult, error) { return &engine.ExecResult{ExitCode: 1, Stderr: msg}, nil }
	switch opts.Cmd[3] {
	case "dr-query":
		rows, err := f.answer(opts.Cmd[4], opts.Cmd[5])
		if err != nil {
			return fail(err.Error())
		}
		for _, r := range rows {
			fmt.Fprintln(opts.Stdout, strings.Join(r, "\t"))
		}
	case "dr-survey":
		for _, m := range pgInList.FindAllStringSubmatch(pgFirstIn.FindString(opts.Cmd[4]), -1) {
			if d := f.dbs[m[1]]; d != nil {
				fmt.Fprintf(opts.Stdout, "size\t%s\t%d\n", m[1], d.size)
			}
		}
		if f.freeKiB == "" {
			fmt.Fprintln(opts.Stdout, "free-error\tdf: not found")
		} else {
			fmt.Fprintf(opts.Stdout, "free\t%s\n", f.freeKiB)
		}
	case "dr-relations":
		for _, db := range opts.Cmd[5:] {
			for _, t := range f.dbs[db].tables {
				fmt.Fprintf(opts.Stdout, "%s\t%s\tf\n", db, t)
			}
		}
	case "dr-exec":
		b, _ := io.ReadAll(opts.Stdin)
		sql := string(b)
		f.scripts = append(f.scripts, sql)
		if f.failOn != "" && strings.Contains(sql, f.failOn) {
			return fail("ERROR:  database is being accessed by other users")
		}
		for _, m := range pgStatement.FindAllStringSubmatch(sql, -1) {
			switch {
			case m[2] != "":
				if d := f.dbs[m[2]]; d != nil {
					d.comment = strings.ReplaceAll(m[4], "''", "'")
				}
			case m[5] != "":
				f.dbs[m[6]] = f.dbs[m[5]]
				delete(f.dbs, m[5])
			case m[7] != "":
				f.dbs[m[7]] = &pgDB{size: 7 << 20}
			case m[8] != "":
				delete(f.dbs, m[8])
			}
		}
	case "dr-dump":
		f.dumps = append(f.dumps, slices.Clone(opts.Cmd[4:]))
		fmt.Fprintln(opts.Stdout, "CREATE TABLE t (a int);\n--\n"+postgres.DumpTrailer+"\n--")
	default:
		return nil, fmt.Errorf("unexpected command %q", opts.Cmd[3])
	}
	return &engine.ExecResult{}, nil
}

func (f *pgEngine) names() []string {
	var out []string
	for n := range f.dbs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (f *pgEngine) answer(db, sql string) ([][]string, error) {
	var rows [][]string
	switch {
	case strings.HasPrefix(sql, "SELECT datname FROM pg_database WHERE datname IN ("):
		for _, m := range pgInList.FindAllStringSubmatch(sql, -1) {
			if f.dbs[m[1]] != nil {
				rows = append(rows, []string{m[1]})
			}
		}
		slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	case strings.HasPrefix(sql, "SELECT 1 FROM pg_database WHERE datname = "):
		if f.dbs[pgInList.FindStringSubmatch(sql)[1]] != nil {
			rows = append(rows, []string{"1"})
		}
	case strings.HasPrefix(sql, "SELECT datname FROM pg_database WHERE NOT datallowconn"):
		// Every database of the fake takes connections.
	case strings.HasPrefix(sql, "SELECT datname FROM pg_database WHERE datallowconn"):
		for _, n := range f.names() {
			rows = append(rows, []string{n})
		}
	case strings.HasPrefix(sql, "SELECT datname, coalesce(shobj_description"):
		for _, n := range f.names() {
			if strings.HasPrefix(n, postgres.AsidePrefix) {
				rows = append(rows, []string{n, f.dbs[n].comment, fmt.Sprint(f.dbs[n].size)})
			}
		}
	case strings.Contains(sql, "c.relkind IN ('r', 'p', 'v', 'm')"):
		for _, t := range f.dbs[db].tables {
			rows = append(rows, []string{t, "f"})
		}
	case strings.HasPrefix(sql, "SELECT count(*) FROM pg_class"):
		rows = append(rows, []string{fmt.Sprint(len(f.dbs[db].tables))})
	case strings.Contains(sql, "count(*) AS n FROM ONLY"):
		for line := range strings.SplitSeq(f.rows[db], "\n") {
			if line != "" {
				rows = append(rows, strings.Split(line, "\t"))
			}
		}
	default:
		return nil, fmt.Errorf("unexpected query %q", sql)
	}
	return rows, nil
}

// pgExecutor is an executor of a PostgreSQL database restore on eng.
func pgExecutor(t *testing.T, eng *pgEngine, net string, noDump bool) *executor {
	t.Helper()
	state := t.TempDir()
	eng.fakeEngine = &fakeEngine{stack: fakeStack(), stateDir: state}
	plan := &Plan{
		Backup: storage.CatalogEntry{Name: "app-20261125T080000Z.tar.zst"}, Parts: []string{PartDB}, Project: "app", DBService: "postgresql",
		DBContainer: "db1", Kind: dbkind.PostgreSQL, Databases: []string{"appwrite", "appwrite_logs"}, StateDir: state, SafetyDir: filepath.Join(state, "safety"),
		Manifest:  &archive.Manifest{Database: &archive.Database{Kind: dbkind.PostgreSQL, DumpSize: 100 << 20}},
		SafetyNet: net, NoSafetyDump: noDump, KeepSafetyDumps: 3, KeepAside: 1,
	}
	x := &executor{eng: eng, plan: plan, log: slog.New(slog.DiscardHandler), res: &Result{}, stamp: "20261126T080000Z", now: time.Now}
	x.journal = &journal.Journal{Backup: plan.Backup.Name}
	return x
}

func appwriteOnly() map[string]*pgDB {
	return map[string]*pgDB{"appwrite": {size: 50 << 20, tables: []string{"public._1_users", "public._1_sessions"}}}
}

// TestPostgresChooseTheSafetyNet is the decision between renaming the
// databases aside and the safety dump on PostgreSQL, with the reason the
// operator is told; deciding changes nothing on the server.
func TestPostgresChooseTheSafetyNet(t *testing.T) {
	for _, tc := range []struct {
		name       string
		freeKiB    string
		net        string
		noDump     bool
		dbs        []string
		wantAside  bool
		wantReason string
		wantDump   bool
	}{
		{name: "room for a second copy", freeKiB: fmt.Sprint(10 << 20), wantAside: true},
		{name: "not enough free space", freeKiB: fmt.Sprint(150 << 10), wantReason: "150.0 MiB free and the import needs about", wantDump: true},
		{name: "free space cannot be measured", wantReason: "could not be measured", wantDump: true},
		{name: "backup names the server's own database", freeKiB: fmt.Sprint(10 << 20), dbs: []string{"appwrite", "postgres"}, wantReason: "names database postgres", wantDump: true},
		{name: "backup names an aside database", freeKiB: fmt.Sprint(10 << 20), dbs: []string{"dr_aside_x_20261126T080000Z"}, wantReason: "which dr does not move aside", wantDump: true},
		{name: "safety_net dump", freeKiB: fmt.Sprint(10 << 20), net: config.SafetyNetDump, wantDump: true},
		{name: "no space and --no-safety-dump", freeKiB: "1024", noDump: true, wantReason: "free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := newPGEngine(appwriteOnly())
			eng.freeKiB = tc.freeKiB
			x := pgExecutor(t, eng, tc.net, tc.noDump)
			if tc.dbs != nil {
				x.plan.Databases = tc.dbs
			}
			var steps []string
			if err := x.prepareNet(context.Background(), nil, func(s string) { steps = append(steps, s) }); err != nil {
				t.Fatalf("prepareNet: %v", err)
			}
			if got := x.asidePrep != nil; got != tc.wantAside {
				t.Errorf("move aside = %v, want %v (fallback %q)", got, tc.wantAside, x.res.AsideFallback)
			}
			if tc.wantAside {
				got := x.asidePrep.Databases
				if len(got) != 2 || got[0].Name != "appwrite" || !got[0].Existed || len(got[0].Tables) != 2 || got[1].Name != "appwrite_logs" || got[1].Existed {
					t.Errorf("databases to move aside: %+v; want appwrite (with its 2 tables) and appwrite_logs, which the server lacks", got)
				}
			}
			if tc.wantReason == "" && x.res.AsideFallback != "" {
				t.Errorf("fallback %q, want none", x.res.AsideFallback)
			}
			if tc.wantReason != "" {
				if !strings.Contains(x.res.AsideFallback, tc.wantReason) {
					t.Errorf("fallback reason %q, want it to say %q", x.res.AsideFallback, tc.wantReason)
				}
				if !strings.Contains(strings.Join(steps, "\n"), "cannot move the current databases aside: "+x.res.AsideFallback) {
					t.Errorf("the operator was not told why: %q", steps)
				}
			}
			if got := x.res.SafetyDump != ""; got != tc.wantDump || (len(eng.dumps) > 0) != tc.wantDump {
				t.Errorf("safety dump %q (%d dumps), want one: %v", x.res.SafetyDump, len(eng.dumps), tc.wantDump)
			}
			if tc.wantDump && !slices.Equal(eng.dumps[0], []string{"appwrite"}) {
				t.Errorf("the safety dump saved %v, want the server's stack database, appwrite", eng.dumps[0])
			}
			if len(eng.scripts) > 0 {
				t.Errorf("deciding changed the server: %q", eng.scripts)
			}
		})
	}
}

// TestPostgresMoveAside: the journal names the aside databases before
// anything is renamed; appwrite is renamed aside with its origin in its
// comment (written before the rename), appwrite_logs, which the server
// lacks, gets an empty marker saying so; the undo (putBack) drops what
// the import made and renames appwrite back.
func TestPostgresMoveAside(t *testing.T) {
	eng := newPGEngine(appwriteOnly())
	x := pgExecutor(t, eng, "", false)
	if err := x.prepareNet(context.Background(), nil, func(string) {}); err != nil || x.asidePrep == nil {
		t.Fatalf("prepareNet: %v, aside %v", err, x.asidePrep != nil)
	}
	if err := x.moveAside(context.Background(), func(string) {}); err != nil {
		t.Fatalf("moveAside: %v", err)
	}
	want := []string{"dr_aside_appwrite_20261126T080000Z", "dr_aside_appwrite_logs_20261126T080000Z"}
	if x.aside == nil || !slices.Equal(x.aside.Names(), want) || !x.movedHere {
		t.Fatalf("aside %+v, want %v", x.aside, want)
	}
	j, err := journal.Read(x.plan.StateDir)
	if err != nil || j == nil || !slices.Equal(j.Aside, want) || !slices.Contains(j.Unfinished, journal.ItemDB) {
		t.Errorf("journal: %+v, %v; want the aside databases and the database unfinished", j, err)
	}
	if !slices.Equal(eng.names(), want) {
		t.Errorf("databases on the server %v, want only %v", eng.names(), want)
	}
	move := eng.scripts[0]
	if c, r := strings.Index(move, "COMMENT ON DATABASE \"appwrite\""), strings.Index(move, "RENAME TO"); c < 0 || r < 0 || c > r {
		t.Errorf("the origin is not recorded before the rename:\n%s", move)
	}
	var meta postgres.AsideMeta
	if err := json.Unmarshal([]byte(strings.TrimPrefix(eng.dbs[want[1]].comment, "dr aside ")), &meta); err != nil || !meta.Absent || meta.Origin != "appwrite_logs" {
		t.Errorf("the marker of appwrite_logs says %q (%v)", eng.dbs[want[1]].comment, err)
	}

	// What the undo and dr aside list see.
	srv := x.server()
	groups, err := srv.listAside(context.Background(), true)
	if err != nil || len(groups) != 1 || groups[0].Backup != x.plan.Backup.Name || !groups[0].inPlace() {
		t.Fatalf("listAside: %+v, %v", groups, err)
	}
	// What the prune sees: the same groups, without counting tables.
	uncounted, err := srv.listAside(context.Background(), false)
	if err != nil || len(uncounted) != 1 || !slices.Equal(uncounted[0].Names(), groups[0].Names()) || uncounted[0].Schemas[0].Held != 0 {
		t.Fatalf("listAside uncounted: %+v, %v; want %v without tables", uncounted, err, groups[0].Names())
	}
	if s := groups[0].Schemas; s[0].Origin != "appwrite" || !s[0].Existed || s[0].Held != 2 || s[1].Origin != "appwrite_logs" || s[1].Existed {
		t.Errorf("aside databases read back: %+v", s)
	}
	// The import made both databases.
	eng.dbs["appwrite"], eng.dbs["appwrite_logs"] = &pgDB{}, &pgDB{}
	if err := srv.putBack(context.Background(), groups[0], true); err != nil {
		t.Fatal(err)
	}
	if got := eng.names(); !slices.Equal(got, []string{"appwrite"}) || len(eng.dbs["appwrite"].tables) != 2 {
		t.Errorf("after putting back: databases %v; want only the old appwrite with its tables", got)
	}
}

// TestPostgresFailedMoveIsPutBackAndDumped: the server refuses the second
// rename: the first is renamed back, the journal forgets the aside
// databases, and the safety dump is taken instead.
func TestPostgresFailedMoveIsPutBackAndDumped(t *testing.T) {
	dbs := appwriteOnly()
	dbs["appwrite_logs"] = &pgDB{size: 1 << 20, tables: []string{"public.logs"}}
	eng := newPGEngine(dbs)
	eng.failOn = `RENAME TO "dr_aside_appwrite_logs`
	x := pgExecutor(t, eng, "", false)
	if err := x.prepareNet(context.Background(), nil, func(string) {}); err != nil || x.asidePrep == nil {
		t.Fatalf("prepareNet: %v", err)
	}
	if err := x.moveAside(context.Background(), func(string) {}); err != nil {
		t.Fatalf("moveAside: %v", err)
	}
	if x.aside != nil || x.res.SafetyDump == "" || !strings.Contains(x.res.AsideFallback, "being accessed") {
		t.Errorf("aside %v, dump %q, fallback %q: want the safety dump, saying why", x.aside, x.res.SafetyDump, x.res.AsideFallback)
	}
	if got := eng.names(); !slices.Equal(got, []string{"appwrite", "appwrite_logs"}) {
		t.Errorf("databases after the failed move: %v, want both back under their names", got)
	}
	if !strings.Contains(strings.Join(eng.scripts, "\n"), `ALTER DATABASE "appwrite_logs" WITH ALLOW_CONNECTIONS true`) {
		t.Errorf("the database whose rename failed was not opened again: %q", eng.scripts)
	}
	j, err := journal.Read(x.plan.StateDir)
	if err != nil || j == nil || len(j.Aside) != 0 || len(j.SafetyDumps) != 1 || slices.Contains(j.Unfinished, journal.ItemDB) {
		t.Errorf("journal after the fallback: %+v, %v", j, err)
	}
}

// TestPostgresInterruptedRestoreDecides is what a restore does with the
// journal of a killed one on PostgreSQL: aside databases still there are
// its way back (nothing is moved again); aside databases gone (an undo
// finished them, or the kill came before the rename) are forgotten and
// the current databases are moved aside anew.
func TestPostgresInterruptedRestoreDecides(t *testing.T) {
	aside := []string{"dr_aside_appwrite_20261125T080000Z", "dr_aside_appwrite_logs_20261125T080000Z"}
	prev := &journal.Journal{Backup: "old", Phase: journal.PhaseDB, Unfinished: []string{journal.ItemDB}, Aside: aside, Stopped: []string{"appwrite"}}
	comment := func(origin string, absent bool) string {
		b, _ := json.Marshal(postgres.AsideMeta{Origin: origin, Backup: "old", At: "20261125T080000Z", Absent: absent})
		return "dr aside " + string(b)
	}
	t.Run("still aside", func(t *testing.T) {
		eng := newPGEngine(map[string]*pgDB{
			"appwrite":                        {tables: []string{"public._1_users"}}, // the half import
			aside[0]:                          {comment: comment("appwrite", false), tables: []string{"public._1_users", "public._1_sessions"}},
			aside[1]:                          {comment: comment("appwrite_logs", true)},
			"dr_aside_other_20261101T000000Z": {comment: comment("other", false)},
		})
		x := pgExecutor(t, eng, "", false)
		var steps []string
		if err := x.prepareNet(context.Background(), prev, func(s string) { steps = append(steps, s) }); err != nil {
			t.Fatal(err)
		}
		if x.aside == nil || !slices.Equal(x.aside.Names(), aside) || x.asidePrep != nil || x.asideCleared {
			t.Errorf("aside %+v, prep %v, cleared %v: want the killed run's aside databases as the way back", x.aside, x.asidePrep != nil, x.asideCleared)
		}
		if x.res.SafetyDump != "" || len(eng.dumps) > 0 {
			t.Error("a safety dump was taken over a half import")
		}
		x.journal = x.newJournal(prev, time.Now())
		if !slices.Equal(x.journal.Aside, aside) || !slices.Contains(x.journal.Unfinished, journal.ItemDB) {
			t.Errorf("this run's journal: %+v", x.journal)
		}
		if len(eng.scripts) > 0 {
			t.Errorf("deciding changed the server: %q", eng.scripts)
		}
	})
	t.Run("gone", func(t *testing.T) {
		eng := newPGEngine(appwriteOnly())
		x := pgExecutor(t, eng, "", false)
		if err := x.prepareNet(context.Background(), prev, func(string) {}); err != nil {
			t.Fatal(err)
		}
		if x.aside != nil || !x.asideCleared || x.asidePrep == nil {
			t.Errorf("aside %+v, cleared %v, prep %v: want the current databases moved aside anew", x.aside, x.asideCleared, x.asidePrep != nil)
		}
		x.journal = x.newJournal(prev, time.Now())
		if len(x.journal.Aside) != 0 {
			t.Errorf("this run's journal still names the gone aside databases: %v", x.journal.Aside)
		}
	})
}

// TestPostgresRowCheck: rows compared per database, keyed
// database.schema.table as the manifest names them; a table missing, or
// a database missing, is named.
func TestPostgresRowCheck(t *testing.T) {
	eng := newPGEngine(map[string]*pgDB{"appwrite": {tables: []string{"public._1_users", "public._1_sessions"}}})
	eng.fakeEngine = &fakeEngine{}
	eng.rows = map[string]string{"appwrite": "public._1_users\t10\npublic._1_sessions\t4\n"}
	db := &archive.Database{Kind: dbkind.PostgreSQL, Tables: []archive.Table{
		{Database: "appwrite", Name: "public._1_users", Rows: 10},
		{Database: "appwrite", Name: "public._1_sessions", Rows: 5},
		{Database: "appwrite", Name: "public.active_sessions", View: true},
		{Database: "appwrite_logs", Name: "public.logs", Rows: 800},
	}}
	wrong, checked, err := CompareServerRows(context.Background(), eng, dbkind.PostgreSQL, "db1", db)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"appwrite.public._1_sessions has 4 rows, the backup 5", "appwrite_logs.public.logs is missing"}
	if checked != 3 || !slices.Equal(wrong, want) {
		t.Errorf("checked %d, wrong %q; want 3 and %q", checked, wrong, want)
	}
}

func TestPGAsideName(t *testing.T) {
	stamp := "20261126T080000Z"
	if got := pgAsideName("appwrite", stamp); got != "dr_aside_appwrite_"+stamp {
		t.Errorf("pgAsideName = %q", got)
	}
	long := strings.Repeat("d", 63)
	a, b := pgAsideName(long, stamp), pgAsideName(long[:62]+"e", stamp)
	if len(a) > 63 || a == b || !asideNameRE.MatchString(a) {
		t.Errorf("long names: %q (%d bytes), %q", a, len(a), b)
	}
}

// TestSameFamily: a backup's dump is imported only into a server of its
// family.
func TestSameFamily(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{dbkind.MariaDB, dbkind.MySQL, true},
		{dbkind.PostgreSQL, dbkind.PostgreSQL, true},
		{dbkind.PostgreSQL, dbkind.MariaDB, false},
		{dbkind.MariaDB, dbkind.PostgreSQL, false},
	} {
		if got := sameFamily(tc.from, tc.to); got != tc.want {
			t.Errorf("sameFamily(%s, %s) = %v", tc.from, tc.to, got)
		}
	}
}

// TestServerKind: the kind of the server restored into comes from
// stack.database.kind, else from the container's image, else from the
// stack's _APP_DB_ADAPTER (its name only is read from .env).
func TestServerKind(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("_APP_DB_PASS=secret\n_APP_DB_ADAPTER=postgresql\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		configured, image, dir, want string
	}{
		{"auto", "postgres:17", "", dbkind.PostgreSQL},
		{"auto", "mariadb:10.11", dir, dbkind.MariaDB},
		{"auto", "registry.local/db:1", dir, dbkind.PostgreSQL},
		{"auto", "registry.local/db:1", "", dbkind.MariaDB},
		{"postgresql", "registry.local/db:1", "", dbkind.PostgreSQL},
	} {
		cfg := config.Default()
		cfg.Stack.Database.Kind, cfg.Stack.Dir = tc.configured, tc.dir
		got, err := ServerKind(context.Background(), &fakeEngine{}, cfg, engine.Container{ID: "db1", Image: tc.image})
		if err != nil || got != tc.want {
			t.Errorf("ServerKind(%s, %s, .env %v) = %q, %v; want %q", tc.configured, tc.image, tc.dir != "", got, err, tc.want)
		}
	}
}
