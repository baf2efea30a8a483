package runbook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// stack is shared by the runbooks that recover a stack in place; the
// server-lost test makes and destroys its own.
var stack = teststack.NewShared(teststack.Options{Name: "runbook"})

func TestMain(m *testing.M) { os.Exit(teststack.RunShared(m, stack, pgStack)) }

var appVolumes = []string{"appwrite-uploads", "appwrite-functions", "appwrite-builds", "appwrite-certificates", "appwrite-config"}

func setup(t *testing.T, s *teststack.Stack) (*config.Config, []*storage.Destination) {
	t.Helper()
	cfg := config.Default()
	cfg.Stack.Project = s.Project
	cfg.Stack.Dir = s.Dir
	cfg.Stack.Volumes = appVolumes
	cfg.StateDir = t.TempDir()
	cfg.Archive.ChunkSize = 1 << 20
	cfg.Destinations = []config.Destination{{Name: "local", Remote: t.TempDir(), Retention: config.DefaultRetention()}}
	dests, err := backup.OpenReachable(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dests
}

var clock atomic.Int64

// backupAt backs the stack up with the clock pinned, so backups have
// names (and times) the test chooses.
func backupAt(t *testing.T, eng *engine.Client, cfg *config.Config, dests []*storage.Destination, at time.Time) string {
	t.Helper()
	res, err := backup.Run(context.Background(), eng, cfg, dests, backup.Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	uploadedAt(t, cfg, res.Name, at)
	return res.Name
}

func nextTime() time.Time {
	return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC).Add(time.Duration(clock.Add(1)) * time.Hour)
}

// snapshot is everything a recovery must bring back as it was.
type snapshot struct {
	checksums map[string]map[string]string // db → table → CHECKSUM TABLE
	objects   map[string][]string          // db → views, triggers, routines, events
	volumes   map[string]map[string]string // volume → path → type, mode, owner, hash
	files     map[string]string            // stack file → sha256
	// seedObjects is how many views, triggers and routines the seed
	// made in appwrite: a snapshot with fewer missed them.
	seedObjects int
}

func take(t *testing.T, s *teststack.Stack) snapshot {
	t.Helper()
	snap := snapshot{checksums: map[string]map[string]string{}, objects: map[string][]string{}, volumes: map[string]map[string]string{}, files: map[string]string{}, seedObjects: len(teststack.SeedObjects())}
	for _, db := range teststack.SeedDatabases() {
		snap.checksums[db] = s.Checksums(t, db)
		snap.objects[db] = s.Objects(t, db)
	}
	takeFiles(t, s, &snap)
	return snap
}

// takeFiles adds the volumes and stack files to a snapshot.
func takeFiles(t *testing.T, s *teststack.Stack, snap *snapshot) {
	t.Helper()
	snap.volumes = s.VolumeTrees(t, appVolumes...)
	for _, f := range []string{"docker-compose.yml", ".env"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		snap.files[f] = hex.EncodeToString(sum[:])
	}
}

func assertRecovered(t *testing.T, want, got snapshot) {
	t.Helper()
	for db, sums := range want.checksums {
		if !maps.Equal(sums, got.checksums[db]) {
			t.Errorf("database %s: CHECKSUM TABLE differs from the backup:\n got %v\nwant %v", db, got.checksums[db], sums)
		}
		if !slices.Equal(want.objects[db], got.objects[db]) {
			t.Errorf("database %s: views, triggers, routines, events are %v, want %v", db, got.objects[db], want.objects[db])
		}
	}
	if len(want.objects["appwrite"]) < want.seedObjects {
		t.Errorf("the snapshot lacks the seed's objects: %v", want.objects["appwrite"])
	}
	for v, tree := range want.volumes {
		if !maps.Equal(tree, got.volumes[v]) {
			t.Errorf("volume %s differs from the backup:\n got %v\nwant %v", v, got.volumes[v], tree)
		}
	}
	if !maps.Equal(want.files, got.files) {
		t.Errorf("stack files differ: got %v, want %v", got.files, want.files)
	}
}

func runbookEnv(eng *engine.Client, cfg *config.Config, dests []*storage.Destination, out *bytes.Buffer) *Env {
	return &Env{Engine: eng, Config: cfg, Destinations: dests, Compose: CLICompose{}, Out: out, WaitTimeout: 4 * time.Minute}
}

func runRunbook(t *testing.T, id string, env *Env) string {
	t.Helper()
	rb, err := Find(id)
	if err != nil {
		t.Fatal(err)
	}
	out := env.Out.(*bytes.Buffer)
	if err := Run(context.Background(), rb, env); err != nil {
		t.Fatalf("runbook %s: %v\n%s", id, err, out)
	}
	for i := range rb.Steps {
		if !strings.Contains(out.String(), fmt.Sprintf("[%d/%d] done", i+1, len(rb.Steps))) {
			t.Errorf("the log lacks step %d:\n%s", i+1, out)
		}
	}
	return out.String()
}

func servicesRunning(t *testing.T, s *teststack.Stack) {
	t.Helper()
	servicesOf(t, s, teststack.DBService)
}

// servicesOf checks that the database service and Appwrite's run.
func servicesOf(t *testing.T, s *teststack.Stack, dbService string) {
	t.Helper()
	for _, svc := range []string{dbService, teststack.AppService, teststack.WorkerService} {
		out, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}}", s.ContainerID(t, svc)).Output()
		if err != nil || strings.TrimSpace(string(out)) != "true" {
			t.Errorf("service %s is not running after the runbook (%s, %v)", svc, out, err)
		}
	}
}

func TestServerLost(t *testing.T) {
	s := teststack.Up(t, teststack.Options{Name: "lost"})
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	want := take(t, s)
	name := backupAt(t, eng, cfg, dests, nextTime())

	// The crisis: the stack and its data are gone, and so is its directory.
	s.Compose(t, "down", "-v")
	if err := os.RemoveAll(s.Dir); err != nil {
		t.Fatal(err)
	}

	// And the off-site destination is down too: the runbook works from
	// the local one. (A WebDAV remote at its root opens without a call;
	// listing it is what fails.)
	down := remotetest.WebDAV(t, t.TempDir(), false)
	down.Stop()
	offsite, err := storage.Open(context.Background(), remote.Options{Name: "offsite", Remote: down.Remote, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dests = append([]*storage.Destination{offsite}, dests...)

	var out bytes.Buffer
	log := runRunbook(t, "server-lost", runbookEnv(eng, cfg, dests, &out))
	if !strings.Contains(log, name) || !strings.Contains(log, "verified on local") {
		t.Errorf("the log does not name the backup %s verified on local:\n%s", name, log)
	}
	st, err := os.Stat(filepath.Join(s.Dir, ".env"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf(".env restored with %v (%v), want mode 0600", st.Mode(), err)
	}
	assertRecovered(t, want, take(t, s))
	servicesRunning(t, s)
}

func TestHacked(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	want := take(t, s)
	clean := nextTime()
	cleanName := backupAt(t, eng, cfg, dests, clean)

	// The attacker writes rows and drops a web shell into the uploads, and
	// a later backup takes them in.
	s.SQL(t, "INSERT INTO appwrite._1_users (_uid, _createdAt, _updatedAt, _permissions, name, email, status) VALUES ('attacker1', NOW(3), NOW(3), '[]', 'mallory', 'mallory@example.invalid', 1), ('attacker2', NOW(3), NOW(3), '[]', 'trudy', 'trudy@example.invalid', 1)")
	s.Exec(t, teststack.AppService, "echo '<?php system($_GET[c]);' > /storage/uploads/app-console/shell.php")
	backupAt(t, eng, cfg, dests, nextTime())

	var out bytes.Buffer
	env := runbookEnv(eng, cfg, dests, &out)
	env.Before = clean.Add(30 * time.Minute)
	log := runRunbook(t, "hacked", env)
	if !strings.Contains(log, cleanName) || !strings.Contains(log, "auth.log") {
		t.Errorf("the log does not name the clean backup %s or end with the checklist:\n%s", cleanName, log)
	}
	if n := s.SQL(t, "SELECT COUNT(*) FROM appwrite._1_users WHERE _uid LIKE 'attacker%'"); n != "0" {
		t.Errorf("%s attacker rows survived", n)
	}
	if n := s.SQL(t, "SELECT COUNT(*) FROM appwrite._1_users"); n != fmt.Sprint(teststack.SeedRows()["appwrite._1_users"]) {
		t.Errorf("%s users after the recovery, want the %d from before the breach", n, teststack.SeedRows()["appwrite._1_users"])
	}
	assertRecovered(t, want, take(t, s))
	servicesRunning(t, s)
}

func TestDBCorrupted(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	want := take(t, s)
	backupAt(t, eng, cfg, dests, nextTime())

	// The crisis: a table dropped, rows garbled and deleted.
	s.SQL(t, "DROP TABLE appwrite._1_sessions_perms")
	s.SQL(t, "UPDATE appwrite._1_users SET name = 'garbage', prefs = NULL WHERE _id % 3 = 0")
	s.SQL(t, "DELETE FROM appwrite_logs.logs WHERE id % 2 = 0")

	var out bytes.Buffer
	runRunbook(t, "db-corrupted", runbookEnv(eng, cfg, dests, &out))
	assertRecovered(t, want, take(t, s))
	servicesRunning(t, s)
	// The broken state was moved aside, not dumped: dr restore --undo
	// could bring it back for a post-mortem.
	if safety, _ := filepath.Glob(filepath.Join(cfg.StateDir, "safety", "*.before-restore.sql.zst")); len(safety) != 0 {
		t.Errorf("safety dumps %v, want the tables moved aside instead", safety)
	}
	aside := `table_schema LIKE 'dr\_aside\_appwrite\_2%'`
	t.Cleanup(func() {
		for _, n := range strings.Fields(s.SQL(t, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dr\_aside\_%'`)) {
			s.SQL(t, "DROP DATABASE `"+n+"`")
		}
	})
	if n := s.SQL(t, "SELECT COUNT(*) FROM information_schema.tables WHERE "+aside+" AND table_name = '_1_sessions_perms'"); n != "0" {
		t.Errorf("the table dropped in the crisis is aside: %s", n)
	}
	if n := s.SQL(t, "SELECT COUNT(*) FROM information_schema.tables WHERE "+aside+" AND table_name = '_1_users'"); n != "1" {
		t.Errorf("the broken _1_users is not aside (%s)", n)
	}
}

func TestVolumesMissing(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	want := take(t, s)
	backupAt(t, eng, cfg, dests, nextTime())

	// The crisis: files deleted from one volume, another volume gone.
	s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/app-console /storage/certificates/localhost")
	s.Compose(t, "rm", "-s", "-f", teststack.AppService)
	if out, err := exec.Command("docker", "volume", "rm", s.Volume("appwrite-functions")).CombinedOutput(); err != nil {
		t.Fatalf("removing a volume: %v: %s", err, out)
	}

	var out bytes.Buffer
	runRunbook(t, "volumes-missing", runbookEnv(eng, cfg, dests, &out))
	s.Compose(t, "up", "-d", teststack.AppService)
	assertRecovered(t, want, take(t, s))
	servicesRunning(t, s)
}
