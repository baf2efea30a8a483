package backup

import (
	"context"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// pgStack is the PostgreSQL test stack, started by the first test that
// needs it; tests that change it put it back.
var pgStack = teststack.NewShared(teststack.Options{Name: "backuppg", Engine: teststack.PostgreSQL})

func TestPostgresBackupRecordsEveryTableAndVerifies(t *testing.T) {
	s := pgStack.Get(t)
	eng := newEngine(t)
	for _, grants := range []bool{false, true} {
		cfg := testConfig(t, s, map[string]string{"local": t.TempDir()})
		cfg.Stack.Database.Service = teststack.PGService
		cfg.Stack.Database.IncludeGrants = grants
		dests := openAll(t, cfg)
		res, err := backupAt(t, eng, cfg, dests, nextTime())
		if err != nil {
			t.Fatalf("backup (include_grants %v): %v", grants, err)
		}
		db := res.Manifest.Database
		if db.Kind != dbkind.PostgreSQL || !strings.HasPrefix(db.ServerVersion, "15") || db.Client != "pg_dump" || db.ClientVersion == "" {
			t.Errorf("manifest database: kind %q server %q client %q %q", db.Kind, db.ServerVersion, db.Client, db.ClientVersion)
		}
		if !slices.Equal(db.Databases, teststack.SeedPostgresDatabases()) {
			t.Errorf("databases %v, want %v", db.Databases, teststack.SeedPostgresDatabases())
		}
		rows := map[string]int{}
		for _, tb := range db.Tables {
			if !tb.View {
				rows[tb.Database+"."+tb.Name] = int(tb.Rows)
			}
		}
		if want := teststack.SeedPostgresRows(); !maps.Equal(rows, want) {
			t.Errorf("manifest rows %v\nwant %v", rows, want)
		}
		var objects []string
		for _, o := range db.Objects {
			if o.Database == "appwrite" {
				objects = append(objects, o.Kind+":"+o.Name)
			}
		}
		for _, tb := range db.Tables {
			if tb.View && tb.Database == "appwrite" {
				objects = append(objects, "view:"+tb.Name)
			}
		}
		slices.Sort(objects)
		if !slices.Equal(objects, teststack.SeedPostgresObjects()) {
			t.Errorf("objects %v, want %v", objects, teststack.SeedPostgresObjects())
		}
		if !slices.Contains(db.Users, "user") {
			t.Errorf("roles %v: want the stack's role, user", db.Users)
		}
		if grants != slices.Contains(db.DumpOptions, "pg_dumpall --globals-only") {
			t.Errorf("include_grants %v, dump options %v", grants, db.DumpOptions)
		}
		entries, err := storage.Catalog(context.Background(), dests)
		if err != nil {
			t.Fatal(err)
		}
		entry, err := storage.Choose(entries, storage.Query{Name: res.Name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := restore.Verify(context.Background(), dests, entry, nil); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
}

// TestPostgresDumpKilledHalfWayIsNeverCommitted: the server killed
// mid-dump fails the backup, commits nothing, and leaves the earlier
// backup as it was.
func TestPostgresDumpKilledHalfWayIsNeverCommitted(t *testing.T) {
	s := pgStack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local})
	cfg.Stack.Database.Service = teststack.PGService
	dests := openAll(t, cfg)
	good, err := backupAt(t, eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatal(err)
	}
	// A dump larger than what the pipes between pg_dump and dr hold, so
	// that pg_dump is still writing when the container is killed (the
	// seed's few MiB could all be on their way before the kill lands).
	s.PSQL(t, "appwrite", `CREATE TABLE public.dr_bulk AS SELECT g, repeat(md5(g::text), 30) AS pad FROM generate_series(1, 40000) g`)
	t.Cleanup(func() { s.PSQL(t, "appwrite", `DROP TABLE IF EXISTS public.dr_bulk`) })
	db := s.ContainerID(t, teststack.PGService)
	k := &killingEngine{Client: eng, after: 64 << 10, kill: func() {
		_ = exec.Command("docker", "kill", db).Run()
	}}
	t.Cleanup(func() {
		_ = exec.Command("docker", "wait", db).Run()
		s.Compose(t, "start", teststack.PGService)
		ping := []string{"sh", "-c", `exec pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER"`}
		if err := eng.WaitExec(context.Background(), s.ContainerID(t, teststack.PGService), ping, 2*time.Minute); err != nil {
			t.Fatalf("the database did not come back: %v", err)
		}
	})
	if _, err := backupAt(t, k, cfg, dests, nextTime()); err == nil {
		t.Fatal("backup succeeded although the database died mid-dump")
	} else if !strings.Contains(err.Error(), "docker logs") {
		t.Errorf("error %q does not say where to look", err)
	}
	assertNothingLeft(t, local, "", dests, good.Name)
}
