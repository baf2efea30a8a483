package restore

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/forensics"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/mariadb"
)

// identifierDatabases are the databases dumpsplit's
// testdata/identifiers.setup.sql makes: tables, a view and a trigger
// whose names hold a newline, a backtick, quotes, a backslash, unicode,
// spaces, "--", "/*", ";", a dot, a tab, a carriage return, and 64
// characters.
var identifierDatabases = []string{"app", "d\nb", "d.b"}

// TestEveryIdentifierRoundTrips: such names go through a backup, a
// parallel restore over three connections (where a newline in a name
// once ran a table into the section before it), and dr diff's live
// snapshot, which finds the restored stack equal to the backup.
func TestEveryIdentifierRoundTrips(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	ctx := context.Background()
	setupSQL, err := os.ReadFile("dumpsplit/testdata/identifiers.setup.sql")
	if err != nil {
		t.Fatal(err)
	}
	dbID := s.ContainerID(t, teststack.DBService)
	cmd := exec.Command("docker", "exec", "-i", dbID, "sh", "-c",
		`MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}" exec mariadb -uroot --binary-mode --default-character-set=utf8mb4`)
	cmd.Stdin = bytes.NewReader(setupSQL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the databases: %v: %s", err, out)
	}
	t.Cleanup(func() {
		for _, db := range identifierDatabases {
			s.SQL(t, "DROP DATABASE IF EXISTS "+mariadb.QuoteIdent(db))
		}
	})
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Stack.Database.Databases = identifierDatabases
	srv := mariadb.New(eng, dbID)
	// The aside schema of "d\nb" holds a newline, which dropAllAside's
	// reading of the client's output does not unescape.
	t.Cleanup(func() {
		rows, err := srv.Query(ctx, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dr\_aside\_%'`)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			s.SQL(t, "DROP DATABASE "+mariadb.QuoteIdent(r[0]))
		}
	})
	live := func() (*forensics.Snapshot, map[string]uint64) {
		t.Helper()
		snap, err := forensics.Live(ctx, eng, nil, forensics.LiveOptions{
			Project: s.Project, DBService: cfg.Stack.Database.Service, Dir: cfg.Stack.Dir, Databases: identifierDatabases,
		})
		if err != nil {
			t.Fatalf("reading the live stack: %v", err)
		}
		var refs []mariadb.TableRef
		for _, key := range slices.Sorted(maps.Keys(snap.Tables)) {
			if !snap.Tables[key].View {
				db, name, _ := strings.Cut(key, ".")
				refs = append(refs, mariadb.TableRef{Database: db, Name: name})
			}
		}
		sums, err := srv.Checksums(ctx, refs)
		if err != nil {
			t.Fatalf("checksumming: %v", err)
		}
		return snap, sums
	}
	want, wantSums := live()
	for _, key := range []string{"app.a\nb", "app.back`tick", "app.tick`.dot", "app.c\rr", "app.v\niew", "d\nb.t\n1"} {
		if _, ok := want.Tables[key]; !ok {
			t.Fatalf("the live snapshot lacks %q: %q", key, slices.Sorted(maps.Keys(want.Tables)))
		}
	}
	if rows := want.Tables["app.a\nb"].Rows; rows != 2 {
		t.Fatalf("live rows of `a\\nb`: %d, want 2", rows)
	}
	if len(wantSums) != 18 || !slices.Contains(want.Objects, "trigger app.tr\ng") {
		t.Fatalf("checksums of %d tables (want 18), objects %q", len(wantSums), want.Objects)
	}

	res := takeBackup(t, eng, cfg, dests)
	if r := forensics.Compare(forensics.FromManifest(res.Manifest), want); len(r.Tables) > 0 || len(r.Objects) > 0 {
		t.Fatalf("the backup's manifest differs from the stack it was taken of: tables %+v, objects %+v", r.Tables, r.Objects)
	}
	// The crisis: a table gone, rows changed, the view dropped.
	s.SQL(t, "DROP TABLE app.`a\nb`; DELETE FROM app.`back``tick`; UPDATE `d\nb`.`t\n1` SET id = 6; DROP VIEW app.`v\niew`")
	cfg.Restore.ImportConnections = 3
	if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}}); err != nil {
		t.Fatalf("restore over 3 connections: %v", err)
	}
	got, gotSums := live()
	if !maps.Equal(gotSums, wantSums) {
		t.Errorf("after the restore, checksums %v, want %v", gotSums, wantSums)
	}
	if r := forensics.Compare(forensics.FromManifest(res.Manifest), got); len(r.Tables) > 0 || len(r.Objects) > 0 {
		t.Errorf("dr diff --live after the restore: tables %+v, objects %+v", r.Tables, r.Objects)
	}
}
