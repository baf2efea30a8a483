package restore

import (
	"context"
	"errors"
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
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// sqlEngine is a database server faked at the engine's exec: it answers
// the client's queries from a table of canned rows, reports the datadir's
// free space, records every script, and dumps a trailer.
type sqlEngine struct {
	*fakeEngine
	free      int64
	freeErr   bool
	noDefs    bool  // SHOW CREATE PROCEDURE answers NULL (no privilege)
	clash     bool  // appwrite has a table named dr_aside
	queryErr  error // information_schema cannot be read
	failOn    string
	scripts   []string
	dumps     int
	tableSize int64
}

func (f *sqlEngine) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	fail := func(msg string) (*engine.ExecResult, error) {
		return &engine.ExecResult{ExitCode: 1, Stderr: msg}, nil
	}
	switch opts.Cmd[3] {
	case "dr-inspect":
		fmt.Fprint(opts.Stdout, "mariadb-dump\nmariadb-dump from 10.11\n--dr-inspect--\nversion\t10.11.9-MariaDB\nschema\tappwrite\nschema\tmysql\n")
	case "dr-query":
		rows, err := f.answer(opts.Cmd[4])
		if err != nil {
			return fail(err.Error())
		}
		for _, r := range rows {
			fmt.Fprintln(opts.Stdout, strings.Join(r, "\t"))
		}
	case "dr-survey":
		// Each statement is one the canned table answers, with its kind
		// as the first field.
		for stmt := range strings.SplitSeq(opts.Cmd[4], ";\n") {
			rest, _ := strings.CutPrefix(stmt, "SELECT '")
			kind, rest, _ := strings.Cut(rest, "', ")
			rows, err := f.answer("SELECT " + rest)
			if err != nil {
				return fail(err.Error())
			}
			for _, r := range rows {
				fmt.Fprintln(opts.Stdout, kind+"\t"+strings.Join(r, "\t"))
			}
		}
		fmt.Fprintln(opts.Stdout, "--dr-survey--")
		if !f.freeErr {
			fmt.Fprintln(opts.Stdout, f.free)
		}
	case "dr-script":
		b, _ := io.ReadAll(opts.Stdin)
		f.scripts = append(f.scripts, string(b))
		if f.failOn != "" && strings.Contains(string(b), f.failOn) {
			return fail("ERROR 1435 (HY000): Trigger in wrong schema")
		}
	case "dr-dump":
		f.dumps++
		fmt.Fprintln(opts.Stdout, "CREATE TABLE t (a int);\n-- Dump completed on 2026-11-26")
	default:
		return nil, fmt.Errorf("unexpected command %q", opts.Cmd[3])
	}
	return &engine.ExecResult{}, nil
}

func (f *sqlEngine) answer(sql string) ([][]string, error) {
	switch {
	case strings.Contains(sql, "@@datadir"):
		return [][]string{{"/var/lib/mysql/"}}, nil
	case f.queryErr != nil && strings.Contains(sql, "information_schema.triggers"):
		return nil, f.queryErr
	case strings.HasPrefix(sql, "SELECT s.schema_name, COUNT(t.table_name)"):
		// The schemas made, holding only their meta table.
		var rows [][]string
		for _, m := range createdSchema.FindAllStringSubmatch(strings.Join(f.scripts, "\n"), -1) {
			rows = append(rows, []string{m[1], "1", "0", "1"})
		}
		return rows, nil
	case strings.Contains(sql, "HEX(body)"):
		var rows [][]string
		for _, m := range savedRow.FindAllStringSubmatch(strings.Join(f.scripts, "\n"), -1) {
			rows = append(rows, []string{"dr_aside_appwrite_20261126T080000Z", m[1], strings.ToUpper(m[2])})
		}
		return rows, nil
	case strings.HasPrefix(sql, "SELECT table_name FROM information_schema.tables WHERE table_schema ="):
		return nil, nil
	case strings.HasPrefix(sql, "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('appwrite'"):
		return [][]string{{"appwrite"}}, nil
	case strings.HasPrefix(sql, "SELECT schema_name FROM information_schema.schemata"):
		return nil, nil // no aside schema of that name yet
	case strings.Contains(sql, "FROM information_schema.tables WHERE table_schema IN"):
		rows := [][]string{
			{"appwrite", "_1_users", "BASE TABLE", fmt.Sprint(f.tableSize)},
			{"appwrite", "_1_sessions", "BASE TABLE", "0"},
			{"appwrite", "active_sessions", "VIEW", "0"},
		}
		if f.clash {
			rows = append(rows, []string{"appwrite", "dr_aside", "BASE TABLE", "0"})
		}
		return rows, nil
	case strings.Contains(sql, "information_schema.triggers"):
		return [][]string{{"appwrite", "_1_users_touch"}}, nil
	case strings.Contains(sql, "information_schema.routines"):
		return [][]string{{"appwrite", "count_sessions", "PROCEDURE"}}, nil
	case strings.Contains(sql, "information_schema.events"):
		return nil, nil
	case strings.HasPrefix(sql, "SHOW CREATE"):
		def := `CREATE DEFINER=root@localhost PROCEDURE count_sessions()\nBEGIN SELECT 1;\tSELECT 2; END`
		if f.noDefs {
			def = "NULL"
		}
		return [][]string{
			{"appwrite", "CREATE DATABASE `appwrite` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"},
			{"active_sessions", "CREATE VIEW `active_sessions` AS select 1", "utf8mb4", "utf8mb4_general_ci"},
			{"_1_users_touch", "STRICT_TRANS_TABLES", "CREATE TRIGGER _1_users_touch BEFORE UPDATE ON _1_users FOR EACH ROW SET NEW._updatedAt = NOW()", "utf8mb4", "utf8mb4_general_ci", "utf8mb4_general_ci", "2026"},
			{"count_sessions", "STRICT_TRANS_TABLES", def, "utf8mb4", "utf8mb4_general_ci", "utf8mb4_general_ci"},
		}, nil
	}
	return nil, fmt.Errorf("unexpected query %q", sql)
}

var (
	createdSchema = regexp.MustCompile("CREATE DATABASE `(dr_aside_[^`]+)`")
	savedRow      = regexp.MustCompile(`\((\d+), X'([0-9a-f]+)'\)`)
)

func asideExecutor(t *testing.T, eng *sqlEngine, net string, noDump bool) (*executor, *[]string) {
	t.Helper()
	state := t.TempDir()
	eng.fakeEngine = &fakeEngine{stack: fakeStack(), stateDir: state}
	plan := &Plan{
		Backup: storage.CatalogEntry{Name: "app-20261125T080000Z.tar.zst"}, Parts: []string{PartDB}, Project: "app", DBService: "mariadb",
		DBContainer: "db1", Databases: []string{"appwrite"}, StateDir: state, SafetyDir: filepath.Join(state, "safety"),
		Manifest:  &archive.Manifest{Database: &archive.Database{DumpSize: 100 << 20}},
		SafetyNet: net, NoSafetyDump: noDump, KeepSafetyDumps: 3, KeepAside: 1,
	}
	var steps []string
	x := &executor{eng: eng, plan: plan, log: slog.New(slog.DiscardHandler), res: &Result{}, stamp: "20261126T080000Z"}
	x.journal = &journal.Journal{Backup: plan.Backup.Name}
	x.now = time.Now
	return x, &steps
}

// TestChooseTheSafetyNet is the decision between moving the tables aside
// and the safety dump, with the reason the output and log give.
func TestChooseTheSafetyNet(t *testing.T) {
	for _, tc := range []struct {
		name       string
		eng        sqlEngine
		net        string
		noDump     bool
		dbs        []string
		wantAside  bool
		wantReason string // in the fallback reason; "" for none
		wantDump   bool
	}{
		{name: "room for a second copy", eng: sqlEngine{free: 10 << 30}, wantAside: true},
		{name: "not enough free space", eng: sqlEngine{free: 150 << 20}, wantReason: "150.0 MiB free and the import needs about", wantDump: true},
		{name: "current tables larger than the dump", eng: sqlEngine{free: 500 << 20, tableSize: 1 << 30}, wantReason: "needs about 1.2 GiB", wantDump: true},
		{name: "free space cannot be measured", eng: sqlEngine{freeErr: true}, wantReason: "could not be measured", wantDump: true},
		{name: "definition hidden from the user", eng: sqlEngine{free: 10 << 30, noDefs: true}, wantReason: "procedure count_sessions cannot be read", wantDump: true},
		{name: "a table named like the meta table", eng: sqlEngine{free: 10 << 30, clash: true}, wantReason: "table named dr_aside", wantDump: true},
		{name: "triggers cannot be listed", eng: sqlEngine{free: 10 << 30, queryErr: errors.New("Access denied")}, wantReason: "could not be inspected", wantDump: true},
		{name: "backup names a system database", eng: sqlEngine{free: 10 << 30}, dbs: []string{"appwrite", "mysql"}, wantReason: "names database mysql", wantDump: true},
		{name: "safety_net dump", eng: sqlEngine{free: 10 << 30}, net: config.SafetyNetDump, wantDump: true},
		{name: "no space and --no-safety-dump", eng: sqlEngine{free: 1 << 20}, noDump: true, wantReason: "free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := tc.eng
			x, _ := asideExecutor(t, &eng, tc.net, tc.noDump)
			if tc.dbs != nil {
				x.plan.Databases = tc.dbs
			}
			var steps []string
			err := x.prepareNet(context.Background(), nil, func(s string) { steps = append(steps, s) })
			if err != nil {
				t.Fatalf("prepareNet: %v", err)
			}
			if got := x.asidePrep != nil; got != tc.wantAside {
				t.Errorf("move aside = %v, want %v (fallback %q)", got, tc.wantAside, x.res.AsideFallback)
			}
			if tc.wantReason == "" && x.res.AsideFallback != "" {
				t.Errorf("fallback %q, want none", x.res.AsideFallback)
			}
			if tc.wantReason != "" {
				if !strings.Contains(x.res.AsideFallback, tc.wantReason) {
					t.Errorf("fallback reason %q, want it to say %q", x.res.AsideFallback, tc.wantReason)
				}
				if !strings.Contains(strings.Join(steps, "\n"), "cannot move the current tables aside: "+x.res.AsideFallback) {
					t.Errorf("the operator was not told why: %q", steps)
				}
			}
			if got := x.res.SafetyDump != ""; got != tc.wantDump || (eng.dumps > 0) != tc.wantDump {
				t.Errorf("safety dump %q (%d dumps), want one: %v", x.res.SafetyDump, eng.dumps, tc.wantDump)
			}
			if tc.net == config.SafetyNetDump && len(eng.scripts) > 0 {
				t.Errorf("safety_net dump changed the server: %q", eng.scripts)
			}
			if len(eng.scripts) > 0 {
				t.Errorf("deciding changed the server: %q", eng.scripts)
			}
		})
	}
}

// TestFailedMoveIsPutBackAndDumped: the server refuses the RENAME (a
// corrupted table, another engine, no privilege): the triggers dropped
// before it are made again, the new schemas dropped, the journal forgets
// them, and the safety dump is taken instead.
func TestFailedMoveIsPutBackAndDumped(t *testing.T) {
	eng := &sqlEngine{free: 10 << 30, failOn: "RENAME TABLE"}
	x, _ := asideExecutor(t, eng, "", false)
	if err := x.prepareNet(context.Background(), nil, func(string) {}); err != nil || x.asidePrep == nil {
		t.Fatalf("prepareNet: %v, aside %v", err, x.asidePrep != nil)
	}
	// After the move failed, the schemas exist but hold no table yet.
	var steps []string
	err := x.moveAside(context.Background(), func(s string) { steps = append(steps, s) })
	if err != nil {
		t.Fatalf("moveAside: %v", err)
	}
	if x.aside != nil || x.res.SafetyDump == "" || !strings.Contains(x.res.AsideFallback, "Trigger in wrong schema") {
		t.Errorf("aside %v, dump %q, fallback %q: want the safety dump, saying why", x.aside, x.res.SafetyDump, x.res.AsideFallback)
	}
	all := strings.Join(eng.scripts, "\n----\n")
	for _, want := range []string{"CREATE DATABASE `dr_aside_appwrite_20261126T080000Z`", "DROP TRIGGER `appwrite`.`_1_users_touch`",
		"DROP TRIGGER IF EXISTS `_1_users_touch`", "CREATE TRIGGER _1_users_touch", "DROP DATABASE IF EXISTS `dr_aside_appwrite_20261126T080000Z`"} {
		if !strings.Contains(all, want) {
			t.Errorf("the scripts lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "DROP DATABASE IF EXISTS `appwrite`") {
		t.Errorf("putting back a failed move dropped the database itself:\n%s", all)
	}
	j, err := journal.Read(x.plan.StateDir)
	if err != nil || j == nil || len(j.Aside) != 0 || len(j.SafetyDumps) != 1 || slices.Contains(j.Unfinished, journal.ItemDB) {
		t.Errorf("journal after the fallback: %+v, %v; want no aside schemas, the safety dump, the database untouched", j, err)
	}
}

func TestAsideName(t *testing.T) {
	const stamp = "20261126T080000Z"
	if got := asideName("appwrite", stamp); got != "dr_aside_appwrite_20261126T080000Z" {
		t.Errorf("got %s", got)
	}
	long := strings.Repeat("x", 64)
	a, b := asideName(long, stamp), asideName(long[:63]+"y", stamp)
	if len(a) > 64 || a == b || !asideNameRE.MatchString(a) {
		t.Errorf("long names: %s (%d), %s", a, len(a), b)
	}
}

func TestInPlace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		schemas []AsideSchema
		want    bool
	}{
		{"tables aside", []AsideSchema{{Complete: true, Tables: 3, Held: 3}}, true},
		{"nothing to move", []AsideSchema{{Complete: true}}, true},
		{"killed before the rename", []AsideSchema{{Complete: true, Tables: 3}}, false},
		{"killed while the schemas were made", []AsideSchema{{Complete: true, Tables: 3, Held: 3}, {}}, false},
	} {
		if got := (&AsideGroup{Schemas: tc.schemas}).inPlace(); got != tc.want {
			t.Errorf("%s: inPlace %v, want %v", tc.name, got, tc.want)
		}
	}
}

var _ asideServer = (*mariadb.Server)(nil)

func TestNewestSafetyDump(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"app-20261126T080000Z" + safetySuffix, "app-20261126T090000Z" + safetySuffix, "app-20261126T090000Z-2" + safetySuffix,
		"app-20261126T100000Z" + safetySuffix + partialSuffix, "other-20261127T000000Z" + safetySuffix} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path, stamp := newestSafetyDump(dir, "app")
	if stamp != "20261126T090000Z" || !strings.HasPrefix(filepath.Base(path), "app-20261126T090000Z") {
		t.Errorf("got %s, %s", path, stamp)
	}
	if _, stamp := newestSafetyDump(filepath.Join(dir, "none"), "app"); stamp != "" {
		t.Errorf("no dir: %s", stamp)
	}
}
