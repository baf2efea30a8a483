package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// testConfig is a dr.yaml for the shared stack with the given remotes.
func testConfig(t *testing.T, s *teststack.Stack, remotes map[string]string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Stack.Project = s.Project
	cfg.Stack.Dir = s.Dir
	cfg.Stack.Volumes = nil
	cfg.StateDir = t.TempDir()
	cfg.Archive.ChunkSize = 1 << 20 // several chunks even for the small seed
	names := make([]string, 0, len(remotes))
	for name := range remotes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		cfg.Destinations = append(cfg.Destinations, config.Destination{Name: name, Remote: remotes[name], Retention: config.DefaultRetention()})
	}
	return cfg
}

func openAll(t *testing.T, cfg *config.Config) []*storage.Destination {
	t.Helper()
	dests, err := OpenReachable(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dests
}

// backupAt runs a backup with the clock pinned, so that names differ
// between backups made within one second.
func backupAt(t *testing.T, eng Engine, cfg *config.Config, dests []*storage.Destination, at time.Time) (*Result, error) {
	t.Helper()
	return Run(context.Background(), eng, cfg, dests, Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
}

var clock atomic.Int64

// nextTime gives every backup of the test binary its own second.
func nextTime() time.Time {
	return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC).Add(time.Duration(clock.Add(1)) * time.Minute)
}

func TestBackupToLocalAndSFTPThenVerify(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local, "offsite": remotetest.StartSFTP(t, t.TempDir())})
	dests := openAll(t, cfg)

	res, err := backupAt(t, eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if got := res.Committed(); !slices.Equal(got, []string{"local", "offsite"}) {
		t.Fatalf("committed on %v, want both", got)
	}
	m := res.Manifest
	if m.Database == nil || len(m.Database.Chunks) < 2 {
		t.Fatalf("manifest database: %+v", m.Database)
	}
	rows := map[string]int{}
	for _, tb := range m.Database.Tables {
		rows[tb.Database+"."+tb.Name] = int(tb.Rows)
	}
	for table, want := range teststack.SeedRows() {
		if rows[table] != want {
			t.Errorf("manifest rows of %s = %d, want %d", table, rows[table], want)
		}
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), teststack.SeedNonInnoDB()[0]) {
		t.Errorf("no warning about the non-InnoDB table %s: %v", teststack.SeedNonInnoDB()[0], res.Warnings)
	}
	if m.Database.ServerVersion == "" || m.Database.ClientVersion == "" || m.Database.ImageDigest == "" {
		t.Errorf("manifest lacks versions or image digest: %+v", m.Database)
	}

	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := storage.Choose(entries, storage.Query{Name: res.Name})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(entry.Destinations, []string{"local", "offsite"}) {
		t.Errorf("listed on %v", entry.Destinations)
	}
	reports, err := restore.Verify(context.Background(), dests, entry, nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(reports) != 2 {
		t.Errorf("verified %d copies, want 2", len(reports))
	}
}

// TestEncryptedArchiveRestoresWithStandardTools follows docs/emergency.md's
// by-hand path: age -d, tar --zstd, the chunks concatenated into mariadb
// in a fresh server, which then holds what the stack holds.
func TestEncryptedArchiveRestoresWithStandardTools(t *testing.T) {
	for _, tool := range []string{"age", "tar", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if teststack.Required() {
				t.Fatalf("%s is not installed (make setup installs it; DR_INTEGRATION=required, so this is a failure)", tool)
			}
			t.Skipf("%s is not installed (make setup installs it)", tool)
		}
	}
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Encryption.Recipients = []string{id.Recipient().String()}
	res, err := backupAt(t, eng, cfg, openAll(t, cfg), nextTime())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.Name, ".tar.zst.age") || res.Manifest.Encryption == nil {
		t.Fatalf("encrypted backup named %s, encryption %+v", res.Name, res.Manifest.Encryption)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	script := `age -d -i "$1" "$2" | tar --zstd -x -C "$3"`
	if b, err := exec.Command("sh", "-c", script, "sh", keyFile, filepath.Join(local, res.Name), out).CombinedOutput(); err != nil {
		t.Fatalf("by-hand extraction: %v\n%s", err, b)
	}
	env, err := os.ReadFile(filepath.Join(out, "compose", ".env"))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(s.EnvFile())
	if string(env) != string(orig) {
		t.Error("compose/.env differs from the stack's .env")
	}
	if _, err := os.Stat(filepath.Join(out, archive.ManifestEntry)); err != nil {
		t.Errorf("no %s in the archive: %v", archive.ManifestEntry, err)
	}

	// Import into a fresh server and compare with the source.
	fresh := teststack.Up(t, teststack.Options{Name: "import", Services: []string{teststack.DBService}})
	chunks, _ := filepath.Glob(filepath.Join(out, "db", "dump.sql.*"))
	if len(chunks) != len(res.Manifest.Database.Chunks) {
		t.Fatalf("%d chunk files, manifest lists %d", len(chunks), len(res.Manifest.Database.Chunks))
	}
	importCmd := `cat "$@" | docker exec -i ` + fresh.ContainerID(t, teststack.DBService) + ` sh -c 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mariadb -uroot --max-allowed-packet=1G --binary-mode'`
	if b, err := exec.Command("sh", append([]string{"-c", importCmd, "sh"}, chunks...)...).CombinedOutput(); err != nil {
		t.Fatalf("importing the dump: %v\n%s", err, b)
	}
	for _, db := range teststack.SeedDatabases() {
		if got, want := fresh.Checksums(t, db), s.Checksums(t, db); !equalMaps(got, want) {
			t.Errorf("%s: checksums after import differ:\n got %v\nwant %v", db, got, want)
		}
		if got, want := fresh.Objects(t, db), s.Objects(t, db); !slices.Equal(got, want) {
			t.Errorf("%s: objects after import %v, want %v", db, got, want)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// assertNothingLeft checks that a failed backup left no object named after
// it on a local remote, and that the earlier backup is still complete.
func assertNothingLeft(t *testing.T, dir, failedName string, dests []*storage.Destination, earlier string) {
	t.Helper()
	if failedName != "" {
		matches, _ := filepath.Glob(filepath.Join(dir, strings.TrimSuffix(failedName, archive.PlainSuffix)+"*"))
		if len(matches) > 0 {
			t.Errorf("the failed backup left %v behind", matches)
		}
	}
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name != earlier {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name)
		}
		t.Errorf("after the failure the complete backups are %v, want only the earlier %s", names, earlier)
	}
	if earlier != "" {
		e, _ := storage.Choose(entries, storage.Query{Name: earlier})
		if _, err := restore.Verify(context.Background(), dests, e, nil); err != nil {
			t.Errorf("the earlier backup no longer verifies: %v", err)
		}
	}
}

// killingEngine stops the database container after the dump produced
// some bytes: the "database died mid-dump" fault on the real engine.
type killingEngine struct {
	*engine.Client
	after  int64
	killed atomic.Bool
	kill   func()
}

func (k *killingEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if len(opts.Cmd) > 3 && opts.Cmd[3] == "dr-dump" {
		opts.Stdout = &killAfter{w: opts.Stdout, after: k.after, fire: func() {
			if k.killed.CompareAndSwap(false, true) {
				k.kill()
			}
		}}
	}
	return k.Client.Exec(ctx, id, opts)
}

type killAfter struct {
	w     io.Writer
	n     int64
	after int64
	fire  func()
}

func (k *killAfter) Write(p []byte) (int, error) {
	k.n += int64(len(p))
	if k.n > k.after {
		k.fire()
	}
	return k.w.Write(p)
}

func TestFaultsLeaveNothingHalfDone(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local})
	dests := openAll(t, cfg)
	good, err := backupAt(t, eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("database stopped mid-dump", func(t *testing.T) {
		db := s.ContainerID(t, teststack.DBService)
		k := &killingEngine{Client: eng, after: 64 << 10, kill: func() {
			_ = exec.Command("docker", "kill", db).Run()
		}}
		t.Cleanup(func() {
			// docker kill returns before the container has exited; wait for
			// it, or "start" finds it still running and does nothing.
			_ = exec.Command("docker", "wait", db).Run()
			s.Compose(t, "start", teststack.DBService)
			ping := []string{"sh", "-c", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping`}
			if err := eng.WaitExec(context.Background(), s.ContainerID(t, teststack.DBService), ping, 2*time.Minute); err != nil {
				t.Fatalf("the database did not come back: %v", err)
			}
		})
		at := nextTime()
		_, err := backupAt(t, k, cfg, dests, at)
		if err == nil {
			t.Fatal("backup succeeded although the database died mid-dump")
		}
		if !k.killed.Load() {
			t.Fatal("the fault never fired: the dump was smaller than expected")
		}
		if !strings.Contains(err.Error(), "dump") {
			t.Errorf("error does not say the dump failed: %v", err)
		}
		// Exit code 137 alone says nothing: the error names the container,
		// says it stopped during the dump, and what to do.
		out, err2 := exec.Command("docker", "inspect", "-f", "{{.Name}}", db).Output()
		if err2 != nil {
			t.Fatal(err2)
		}
		name := strings.TrimPrefix(strings.TrimSpace(string(out)), "/")
		for _, want := range []string{"the container " + name + " stopped", "stopped (or was killed) during the dump", "docker logs " + name} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		var stopped *engine.ContainerStoppedError
		if !errors.As(err, &stopped) {
			t.Errorf("error is no *engine.ContainerStoppedError: %v", err)
		}
		assertNothingLeft(t, local, archive.ObjectName(s.Project, at, false), dests, good.Name)
	})

	t.Run("wrong password", func(t *testing.T) {
		s.SQL(t, "ALTER USER 'root'@'localhost' IDENTIFIED BY 'changed-behind-drs-back'")
		t.Cleanup(func() {
			restorePw := `MYSQL_PWD=changed-behind-drs-back mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED BY '$MYSQL_ROOT_PASSWORD'"`
			if out, err := exec.Command("docker", "exec", s.ContainerID(t, teststack.DBService), "sh", "-c", restorePw).CombinedOutput(); err != nil {
				t.Fatalf("putting the password back: %v: %s", err, out)
			}
		})
		at := nextTime()
		_, err := backupAt(t, eng, cfg, dests, at)
		if err == nil || !strings.Contains(err.Error(), "Access denied") {
			t.Fatalf("got %v, want the server's access-denied message", err)
		}
		assertNothingLeft(t, local, archive.ObjectName(s.Project, at, false), dests, good.Name)
	})

	t.Run("destination refuses writes", func(t *testing.T) {
		cfg2 := testConfig(t, s, map[string]string{"local": local, "readonly": remotetest.StartWebDAV(t, t.TempDir(), true)})
		dests2 := openAll(t, cfg2)
		at := nextTime()
		res, err := backupAt(t, eng, cfg2, dests2, at)
		var partial *PartialError
		if !errors.As(err, &partial) || len(partial.Failed) != 1 || partial.Failed[0].Name != "readonly" {
			t.Fatalf("got %v, want a partial failure on readonly only", err)
		}
		if !slices.Equal(res.Committed(), []string{"local"}) {
			t.Errorf("committed on %v, want local", res.Committed())
		}
		entries, err := storage.Catalog(context.Background(), dests2[1:])
		if err != nil || len(entries) != 0 {
			t.Errorf("the read-only destination lists %v (%v)", entries, err)
		}
		// Clean the local copy so later subtests see only the first backup.
		if err := dests[0].Delete(context.Background(), res.Name); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("destination server killed mid-upload", func(t *testing.T) {
		dir := t.TempDir()
		srv := remotetest.WebDAV(t, dir, false)
		remote, kill := srv.Remote, srv.Stop
		cfg2 := testConfig(t, s, map[string]string{"local": local, "remote": remote})
		dests2 := openAll(t, cfg2)
		k := &killingEngine{Client: eng, after: 256 << 10, kill: kill}
		at := nextTime()
		// One try per call: the retries' back-off against a dead server
		// only makes the test slow.
		ctx, ci := fs.AddConfig(context.Background())
		ci.LowLevelRetries = 1
		res, err := Run(ctx, k, cfg2, dests2, Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
		var partial *PartialError
		if !errors.As(err, &partial) || len(partial.Failed) != 1 || partial.Failed[0].Name != "remote" {
			t.Fatalf("got %v, want a partial failure on remote only", err)
		}
		leftovers, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(leftovers) > 0 {
			t.Errorf("the killed server's directory holds %v", leftovers)
		}
		if !slices.Equal(res.Committed(), []string{"local"}) {
			t.Errorf("committed on %v, want local", res.Committed())
		}
		if err := dests[0].Delete(context.Background(), res.Name); err != nil {
			t.Fatal(err)
		}

		// The server returns at the same address: the next run commits on both.
		remotetest.WebDAVAt(t, dir, srv.Addr())
		res, err = Run(ctx, eng, cfg2, openAll(t, cfg2), Options{ToolVersion: "dr test", Now: func() time.Time { return nextTime() }})
		if err != nil || !slices.Equal(res.Committed(), []string{"local", "remote"}) {
			t.Fatalf("the run after the server returned: %v, committed on %v", err, res.Committed())
		}
		if err := dests[0].Delete(context.Background(), res.Name); err != nil {
			t.Fatal(err)
		}
	})

	assertNothingLeft(t, local, "", dests, good.Name)
}

func TestMongoDBStackIsNotSupportedYet(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	cfg := testConfig(t, s, map[string]string{"local": t.TempDir()})
	cfg.Stack.Database.Kind = "mongodb"
	_, err := backupAt(t, eng, cfg, openAll(t, cfg), nextTime())
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "MongoDB") {
		t.Errorf("got %v, want a clear not-supported error", err)
	}
}

func TestMissingStackFileFailsBeforeAnythingIsWritten(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local})
	cfg.Stack.Files = append(cfg.Stack.Files, "missing.yml")
	_, err := backupAt(t, eng, cfg, openAll(t, cfg), nextTime())
	if err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Fatalf("got %v, want an error naming the missing file", err)
	}
	if left, _ := os.ReadDir(local); len(left) != 0 {
		t.Errorf("destination holds %d objects after a refused backup", len(left))
	}
}

func TestBackupPrunesWhereItCommitted(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local})
	cfg.Destinations[0].Retention = config.Retention{KeepLast: 2, IncompleteGrace: config.Duration(24 * time.Hour), Mode: config.ModePrune}
	dests := openAll(t, cfg)
	var names []string
	for i := 0; i < 3; i++ {
		res, err := backupAt(t, eng, cfg, dests, nextTime())
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, res.Name)
		if i == 2 && (len(res.Prune) != 1 || res.Prune[0].Removed() != 1) {
			t.Errorf("the third backup's prune: %+v", res.Prune)
		}
	}
	listed := func(d *storage.Destination) []string {
		list, err := d.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range list {
			out = append(out, b.Name)
		}
		slices.Sort(out)
		return out
	}
	if got := listed(dests[0]); !slices.Equal(got, names[1:]) {
		t.Fatalf("after three backups with keep_last 2: %v, want %v", got, names[1:])
	}

	// A partial failure still prunes where the run committed: a
	// destination that stays dead must not make the healthy ones fill up.
	cfg2 := testConfig(t, s, map[string]string{"local": local, "readonly": remotetest.StartWebDAV(t, t.TempDir(), true)})
	cfg2.Destinations[0].Retention = cfg.Destinations[0].Retention
	dests2 := openAll(t, cfg2)
	res, err := backupAt(t, eng, cfg2, dests2, nextTime())
	var partial *PartialError
	if !errors.As(err, &partial) || len(partial.Failed) != 1 || partial.Failed[0].Name != "readonly" {
		t.Fatalf("got %v, want a partial failure on readonly", err)
	}
	if len(res.Prune) != 1 || res.Prune[0].Destination != "local" || res.Prune[0].Removed() != 1 {
		t.Fatalf("prune after a partial failure: %+v, want local pruned of one backup", res.Prune)
	}
	if got := listed(dests2[0]); !slices.Equal(got, []string{names[2], res.Name}) {
		t.Errorf("after a partial failure local holds %v, want %v", got, []string{names[2], res.Name})
	}

	// Append-only: the host never deletes, even after a full success.
	cfg.Destinations[0].Retention.Mode = config.ModeAppendOnly
	if _, err := backupAt(t, eng, cfg, dests, nextTime()); err != nil {
		t.Fatal(err)
	}
	if got := listed(dests[0]); len(got) != 3 {
		t.Errorf("an append-only destination was pruned: %v", got)
	}
	if _, err := Prune(context.Background(), cfg, dests, PruneOptions{}); !errors.Is(err, ErrAppendOnly) {
		t.Errorf("dr prune on an append-only host: got %v", err)
	}
}
