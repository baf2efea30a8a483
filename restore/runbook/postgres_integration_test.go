package runbook

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/storage"
)

// pgStack is the PostgreSQL stack shared by the runbooks that recover a
// stack in place; server-lost and upgrade-failed make their own.
var pgStack = teststack.NewShared(teststack.Options{Name: "runbookpg", Engine: teststack.PostgreSQL})

// pgSetup is setup for a PostgreSQL stack.
func pgSetup(t *testing.T, s *teststack.Stack) (*config.Config, []*storage.Destination) {
	t.Helper()
	cfg, dests := setup(t, s)
	cfg.Stack.Database.Service = teststack.PGService
	return cfg, dests
}

// pgTake is take for a PostgreSQL stack: every table's md5 of its rows,
// every view, function, procedure and trigger, the volumes and files.
func pgTake(t *testing.T, s *teststack.Stack) snapshot {
	t.Helper()
	snap := snapshot{checksums: map[string]map[string]string{}, objects: map[string][]string{}, volumes: map[string]map[string]string{}, files: map[string]string{}, seedObjects: len(teststack.SeedPostgresObjects())}
	for _, db := range teststack.SeedPostgresDatabases() {
		snap.checksums[db] = s.PGChecksums(t, db)
		snap.objects[db] = s.PGObjects(t, db)
	}
	takeFiles(t, s, &snap)
	return snap
}

// dropPGAside drops the aside databases a test's restores left.
func dropPGAside(t *testing.T, s *teststack.Stack) {
	t.Helper()
	for _, n := range pgAsideNames(t, s) {
		s.PSQL(t, "postgres", `DROP DATABASE "`+n+`" WITH (FORCE)`)
	}
}

func pgAsideNames(t *testing.T, s *teststack.Stack) []string {
	t.Helper()
	return strings.Fields(s.PSQL(t, "postgres", `SELECT datname FROM pg_database WHERE starts_with(datname, 'dr_aside_') ORDER BY 1`))
}

func TestPostgresServerLost(t *testing.T) {
	s := teststack.Up(t, teststack.Options{Name: "lostpg", Engine: teststack.PostgreSQL})
	eng := teststack.Engine(t)
	cfg, dests := pgSetup(t, s)
	want := pgTake(t, s)
	name := backupAt(t, eng, cfg, dests, nextTime())

	// The crisis: the stack and its data are gone, and so is its directory.
	s.Compose(t, "down", "-v")
	if err := os.RemoveAll(s.Dir); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	log := runRunbook(t, "server-lost", runbookEnv(eng, cfg, dests, &out))
	if !strings.Contains(log, name) {
		t.Errorf("the log does not name the backup %s:\n%s", name, log)
	}
	assertRecovered(t, want, pgTake(t, s))
	servicesOf(t, s, teststack.PGService)
}

func TestPostgresDBCorrupted(t *testing.T) {
	s := pgStack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := pgSetup(t, s)
	want := pgTake(t, s)
	backupAt(t, eng, cfg, dests, nextTime())
	t.Cleanup(func() { dropPGAside(t, s) })

	// The crisis: a table dropped, rows garbled and deleted.
	s.PSQL(t, "appwrite", `DROP TABLE "_1_sessions_perms"`)
	s.PSQL(t, "appwrite", `UPDATE "_1_users" SET "name" = 'garbage', "prefs" = NULL WHERE "_id" % 3 = 0`)
	s.PSQL(t, "appwrite_logs", `DELETE FROM "logs" WHERE "id" % 2 = 0`)

	var out bytes.Buffer
	runRunbook(t, "db-corrupted", runbookEnv(eng, cfg, dests, &out))
	assertRecovered(t, want, pgTake(t, s))
	servicesOf(t, s, teststack.PGService)
	// The broken state was renamed aside, not dumped: dr restore --undo
	// could bring it back for a post-mortem.
	if safety, _ := filepath.Glob(filepath.Join(cfg.StateDir, "safety", "*.before-restore.sql.zst")); len(safety) != 0 {
		t.Errorf("safety dumps %v, want the databases renamed aside instead", safety)
	}
	var aside string
	for _, n := range pgAsideNames(t, s) {
		if strings.HasPrefix(n, "dr_aside_appwrite_2") {
			aside = n
		}
	}
	if aside == "" {
		t.Fatalf("no aside database of appwrite: %v", pgAsideNames(t, s))
	}
	if n := s.PSQL(t, aside, `SELECT count(*) FROM "_1_users" WHERE "name" = 'garbage'`); n == "0" {
		t.Error("the aside appwrite database is not the broken one")
	}
	if n := s.PSQL(t, aside, `SELECT count(*) FROM pg_tables WHERE tablename = '_1_sessions_perms'`); n != "0" {
		t.Errorf("the table dropped in the crisis is in the aside database: %s", n)
	}
}

func TestPostgresHacked(t *testing.T) {
	s := pgStack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := pgSetup(t, s)
	want := pgTake(t, s)
	clean := nextTime()
	cleanName := backupAt(t, eng, cfg, dests, clean)
	t.Cleanup(func() { dropPGAside(t, s) })

	// The attacker writes rows and drops a web shell into the uploads, and
	// a later backup takes them in.
	s.PSQL(t, "appwrite", `INSERT INTO "_1_users" ("_uid", "_createdAt", "_updatedAt", "_permissions", "name", "email", "status") VALUES ('attacker1', now(), now(), '[]', 'mallory', 'mallory@example.invalid', true), ('attacker2', now(), now(), '[]', 'trudy', 'trudy@example.invalid', true)`)
	s.Exec(t, teststack.AppService, "echo '<?php system($_GET[c]);' > /storage/uploads/app-console/shell.php")
	backupAt(t, eng, cfg, dests, nextTime())

	var out bytes.Buffer
	env := runbookEnv(eng, cfg, dests, &out)
	env.Before = clean.Add(30 * time.Minute)
	log := runRunbook(t, "hacked", env)
	if !strings.Contains(log, cleanName) {
		t.Errorf("the log does not name the clean backup %s:\n%s", cleanName, log)
	}
	if n := s.PSQL(t, "appwrite", `SELECT count(*) FROM "_1_users" WHERE "_uid" LIKE 'attacker%'`); n != "0" {
		t.Errorf("%s attacker rows survived", n)
	}
	if n := s.PSQL(t, "appwrite", `SELECT count(*) FROM "_1_users"`); n != fmt.Sprint(teststack.SeedPostgresRows()["appwrite.public._1_users"]) {
		t.Errorf("%s users after the recovery, want the seed's", n)
	}
	assertRecovered(t, want, pgTake(t, s))
	servicesOf(t, s, teststack.PGService)
}

func TestPostgresVolumesMissing(t *testing.T) {
	s := pgStack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := pgSetup(t, s)
	want := pgTake(t, s)
	backupAt(t, eng, cfg, dests, nextTime())

	s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/app-console /storage/certificates/localhost")
	s.Compose(t, "rm", "-s", "-f", teststack.AppService)
	if out, err := exec.Command("docker", "volume", "rm", s.Volume("appwrite-functions")).CombinedOutput(); err != nil {
		t.Fatalf("removing a volume: %v: %s", err, out)
	}

	var out bytes.Buffer
	runRunbook(t, "volumes-missing", runbookEnv(eng, cfg, dests, &out))
	s.Compose(t, "up", "-d", teststack.AppService)
	assertRecovered(t, want, pgTake(t, s))
	servicesOf(t, s, teststack.PGService)
}

// TestPostgresUpgradeFailed is upgrade-failed on a PostgreSQL stack of its
// own: "1.8.0" runs, a pinned backup, the upgrade (new image tags, a new
// service, a migrated schema, a file in a volume), newer backups; the
// runbook brings 1.8.0 back identical, rows and schema included.
func TestPostgresUpgradeFailed(t *testing.T) {
	teststack.Skip(t)
	oldImage, newImage := versionImagesOf(t, teststack.PostgresImage(t))
	s := teststack.Up(t, teststack.Options{Name: "upgradepg", Engine: teststack.PostgreSQL})
	eng := teststack.Engine(t)
	ctx := context.Background()

	compose := readFile(t, s.ComposeFile())
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		from := "  " + svc + ":\n    image: ${DR_TEST_PG_IMAGE:-dr-test/postgres:15}\n"
		if !strings.Contains(compose, from) {
			t.Fatalf("the test stack's compose file no longer has %q", from)
		}
		compose = strings.Replace(compose, from, "  "+svc+":\n    image: "+oldImage+"\n", 1)
	}
	writeFile(t, s.ComposeFile(), compose)
	s.Compose(t, "up", "-d")
	waitSeeded(t, s)

	cfg, dests := pgSetup(t, s)
	want := pgTake(t, s)
	wantSchema := pgSchema(t, s)

	at := nextTime()
	res, err := backup.Run(ctx, eng, cfg, dests, backup.Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dests {
		if _, err := d.PinWithNote(ctx, res.Name, at, "before 1.8.1"); err != nil {
			t.Fatal(err)
		}
	}
	pinned := res.Name

	upgraded := strings.ReplaceAll(compose, oldImage, newImage)
	upgraded = strings.Replace(upgraded, "\nvolumes:\n", `
  worker-migrations:
    image: `+newImage+`
    network_mode: none
    entrypoint: ["sh", "-c", "trap 'exit 0' TERM INT; sleep infinity & wait"]

volumes:
`, 1)
	writeFile(t, s.ComposeFile(), upgraded)
	writeFile(t, s.EnvFile(), readFile(t, s.EnvFile())+"_APP_MIGRATIONS_WORKER=enabled\n")
	s.Compose(t, "up", "-d")
	if got := imageOf(t, s, teststack.AppService); got != newImage {
		t.Fatalf("after the upgrade appwrite runs %s, want %s", got, newImage)
	}
	s.PSQL(t, "appwrite", `ALTER TABLE "_1_users" ADD COLUMN "mfa" smallint NOT NULL DEFAULT 0;
CREATE TABLE "_1_challenges" ("_id" serial PRIMARY KEY, "userId" varchar(255), "token" varchar(255));
INSERT INTO "_1_challenges" ("userId", "token") VALUES ('u1', 't1'), ('u2', 't2');
UPDATE "_1_users" SET "name" = "name" || ' (1.8.1)', "mfa" = 1;`)
	s.Exec(t, teststack.AppService, "echo '{\"version\":\"1.8.1\"}' > /storage/config/upgrade.json && rm -f /storage/config/traefik.yml")
	if pgSchema(t, s) == wantSchema {
		t.Fatal("the migration did not change the schema: the test proves nothing")
	}
	backupAt(t, eng, cfg, dests, nextTime())
	newest := backupAt(t, eng, cfg, dests, nextTime())

	var out bytes.Buffer
	log := runRunbook(t, "upgrade-failed", runbookEnv(eng, cfg, dests, &out))
	if !strings.Contains(log, pinned) || strings.Contains(log, newest) {
		t.Errorf("the log does not name the pinned backup %s (or names the newest, %s):\n%s", pinned, newest, log)
	}
	assertRecovered(t, want, pgTake(t, s))
	if got := pgSchema(t, s); got != wantSchema {
		t.Errorf("the schema differs from the pinned backup's:\n got %s\nwant %s", got, wantSchema)
	}
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if got := imageOf(t, s, svc); got != oldImage {
			t.Errorf("%s runs %s after the runbook, want the old version's %s", svc, got, oldImage)
		}
	}
	servicesOf(t, s, teststack.PGService)
}

// pgSchema is every column of the appwrite database's tables with its
// type, default and nullability, in order: what a migration changes.
func pgSchema(t *testing.T, s *teststack.Stack) string {
	t.Helper()
	return s.PSQL(t, "appwrite", `SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '-')
FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)
}
