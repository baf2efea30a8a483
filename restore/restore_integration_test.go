package restore

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/storage"
)

// stack is the Appwrite-shaped test stack the restore tests share; each
// test stages its crisis on it and leaves it recovered.
var stack = teststack.NewShared(teststack.Options{Name: "restore"})

func TestMain(m *testing.M) {
	// A child process of TestKilledRestoreIsFinishedByTheNext runs one
	// restore, to be killed, instead of the tests.
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runKilledRestoreChild(spec))
	}
	if spec := os.Getenv(volumeChildEnv); spec != "" {
		os.Exit(runKilledVolumeRestoreChild(spec))
	}
	os.Exit(teststack.RunShared(m, stack, pgStack))
}

// appVolumes are the volumes dr backs up (the database's own is not one).
var appVolumes = []string{"appwrite-uploads", "appwrite-functions", "appwrite-builds", "appwrite-certificates", "appwrite-config"}

// setup is a dr.yaml for the shared stack with one local destination.
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

func takeBackup(t *testing.T, eng *engine.Client, cfg *config.Config, dests []*storage.Destination) *backup.Result {
	t.Helper()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC).Add(time.Duration(clock.Add(1)) * time.Minute)
	res, err := backup.Run(context.Background(), eng, cfg, dests, backup.Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return res
}

func restoreNow(t *testing.T, eng *engine.Client, cfg *config.Config, dests []*storage.Destination, req Request) (*Result, error) {
	t.Helper()
	plan, err := Prepare(context.Background(), eng, cfg, dests, req)
	if err != nil {
		return nil, err
	}
	return Execute(context.Background(), eng, plan, req)
}

func volumeTrees(t *testing.T, s *teststack.Stack) map[string]map[string]string {
	t.Helper()
	return s.VolumeTrees(t, appVolumes...)
}

func assertTreesEqual(t *testing.T, want, got map[string]map[string]string) {
	t.Helper()
	for v, w := range want {
		g := got[v]
		for p, meta := range w {
			if g[p] != meta {
				t.Errorf("volume %s: %s is %q, want %q", v, p, g[p], meta)
			}
		}
		for p := range g {
			if _, ok := w[p]; !ok {
				t.Errorf("volume %s: %s should not be there", v, p)
			}
		}
	}
}

func TestVolumesComeBackFileForFile(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	// A 300 MiB file made now, besides the seed's unicode names, symlink,
	// empty directory and 0600 file owned by uid 33.
	s.Exec(t, teststack.AppService, "head -c 314572800 /dev/urandom > /storage/uploads/app-console/big.bin && chown 1000:1000 /storage/uploads/app-console/big.bin")
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -f /storage/uploads/app-console/big.bin") })
	before := volumeTrees(t, s)
	if len(before["appwrite-uploads"]) < 8 {
		t.Fatalf("the uploads volume holds too little to test with: %v", before["appwrite-uploads"])
	}
	res := takeBackup(t, eng, cfg, dests)
	if len(res.Manifest.Volumes) != len(appVolumes) {
		t.Fatalf("manifest volumes %+v", res.Manifest.Volumes)
	}

	// The crisis: files deleted and changed, and a whole volume gone.
	s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/app-console/bucket1 '/storage/uploads/app-console/bucket 2' && echo junk > /storage/uploads/junk.txt && echo changed > /storage/functions/app-console/fn1/run.sh")
	s.Compose(t, "rm", "-s", "-f", teststack.AppService)
	if out, err := exec.Command("docker", "volume", "rm", s.Volume("appwrite-config")).CombinedOutput(); err != nil {
		t.Fatalf("removing the config volume: %v: %s", err, out)
	}
	t.Cleanup(func() { s.Compose(t, "up", "-d", teststack.AppService) })

	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartVolumes}})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if len(r.Volumes) != len(appVolumes) {
		t.Errorf("restored %v", r.Volumes)
	}
	assertTreesEqual(t, before, volumeTrees(t, s))

	out, err := exec.Command("docker", "volume", "inspect", "--format", "{{json .Labels}}", s.Volume("appwrite-config")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]string
	if err := json.Unmarshal(out, &labels); err != nil {
		t.Fatal(err)
	}
	if labels[engine.LabelProject] != s.Project || labels[engine.LabelVolume] != "appwrite-config" {
		t.Errorf("the recreated volume has labels %v, want the compose ones", labels)
	}
	// compose adopts the recreated volume: the service comes back on it.
	s.Compose(t, "up", "-d", teststack.AppService)
	if got := s.Exec(t, teststack.AppService, "cat /storage/config/traefik.yml"); !strings.Contains(got, "routers") {
		t.Errorf("the app sees %q in the restored config volume", got)
	}
}

func TestVolumeMergeOnlyAddsMissingFiles(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	before := s.VolumeTree(t, "appwrite-uploads")
	res := takeBackup(t, eng, cfg, dests)

	s.Exec(t, teststack.AppService, "rm /storage/uploads/app-console/bucket1/notes.txt && echo mine > /storage/uploads/app-console/bucket1/private.txt")
	t.Cleanup(func() {
		if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartVolumes}, Volumes: []string{"appwrite-uploads"}}); err != nil {
			t.Errorf("putting the volume back: %v", err)
		}
	})
	changed := s.VolumeTree(t, "appwrite-uploads")

	if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartVolumes}, Volumes: []string{"appwrite-uploads"}, Merge: true}); err != nil {
		t.Fatalf("merge restore: %v", err)
	}
	after := s.VolumeTree(t, "appwrite-uploads")
	notes, private := "./app-console/bucket1/notes.txt", "./app-console/bucket1/private.txt"
	if after[notes] != before[notes] {
		t.Errorf("the missing file came back as %q, want %q", after[notes], before[notes])
	}
	if after[private] != changed[private] || after[private] == before[private] {
		t.Errorf("merge replaced a file that was there: %q", after[private])
	}
}

// writeCraftedBackup puts a backup on a local destination whose sidecar
// lists the given volume entries, as an attacker with write access to the
// bucket could.
func writeCraftedBackup(t *testing.T, dir, project string, entries []archive.Entry) string {
	t.Helper()
	name := archive.ObjectName(project, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), false)
	body := []byte("not really an archive")
	m := &archive.Manifest{
		Format: archive.FormatVersion, Tool: "attacker", Stack: project, Name: name, Status: archive.StatusComplete,
		Entries: entries, Volumes: []archive.Volume{{Name: "appwrite-config", Files: 1}},
		Object: &archive.ObjectInfo{Size: int64(len(body)), SHA256: strings.Repeat("0", 64)},
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archive.SidecarName(name)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestEntriesEscapingTheVolumeAreRefusedBeforeAnythingIsWritten(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	for name, entry := range map[string]archive.Entry{
		"dot-dot":           {Name: "volumes/appwrite-config/../../etc/cron.d/evil", Kind: archive.KindFile},
		"absolute symlink":  {Name: "volumes/appwrite-config/etc", Kind: archive.KindSymlink, Link: "/etc"},
		"symlink up":        {Name: "volumes/appwrite-config/up", Kind: archive.KindSymlink, Link: "../../host"},
		"hard link outside": {Name: "volumes/appwrite-config/h", Kind: archive.KindHardlink, Link: "volumes/appwrite-uploads/x"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, dests := setup(t, s)
			before := s.VolumeTree(t, "appwrite-config")
			crafted := writeCraftedBackup(t, cfg.Destinations[0].Remote, s.Project, []archive.Entry{
				{Name: "volumes/appwrite-config/", Kind: archive.KindDir, Mode: 0o755}, entry,
			})
			_, err := restoreNow(t, eng, cfg, dests, Request{Name: crafted, Parts: []string{PartVolumes}})
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("got %v, want the crafted backup refused", err)
			}
			if after := s.VolumeTree(t, "appwrite-config"); !maps.Equal(before, after) {
				t.Errorf("the refused restore changed the volume: %v -> %v", before, after)
			}
		})
	}
}

// startedAt is when each service's container last started: unchanged means
// nothing stopped it.
func startedAt(t *testing.T, s *teststack.Stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, svc := range []string{teststack.DBService, teststack.AppService, teststack.WorkerService} {
		b, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", s.ContainerID(t, svc)).Output()
		if err != nil {
			t.Fatal(err)
		}
		out[svc] = strings.TrimSpace(string(b))
	}
	return out
}

func dbChecksums(t *testing.T, s *teststack.Stack) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, db := range teststack.SeedDatabases() {
		for table, sum := range s.Checksums(t, db) {
			sums[db+"."+table] = sum
		}
	}
	return sums
}

func TestTamperedArchiveIsRefusedBeforeTheDatabaseIsTouched(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	res := takeBackup(t, eng, cfg, dests)
	// One flipped bit in the middle of the object: inside the dump chunks,
	// which follow the small stack files.
	teststack.FlipByte(t, filepath.Join(cfg.Destinations[0].Remote, res.Name))
	sums, started := dbChecksums(t, s), startedAt(t, s)

	_, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err == nil || !strings.Contains(err.Error(), "did not verify") {
		t.Fatalf("got %v, want the tampered backup refused", err)
	}
	if !maps.Equal(sums, dbChecksums(t, s)) {
		t.Error("the database changed although the archive was refused")
	}
	if !maps.Equal(started, startedAt(t, s)) {
		t.Errorf("services were stopped or restarted: %v -> %v", started, startedAt(t, s))
	}
	if left, _ := os.ReadDir(filepath.Join(cfg.StateDir, "safety")); len(left) != 0 {
		t.Error("a safety dump was made: the restore got as far as the database")
	}
}

func TestWrongIdentityFailsBeforeAnythingIsStopped(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	owner, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Encryption.Recipients = []string{owner.Recipient().String()}
	res := takeBackup(t, eng, cfg, dests)
	stranger, _ := age.GenerateX25519Identity()
	started := startedAt(t, s)

	_, err = restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Identities: []age.Identity{stranger}})
	if !errors.Is(err, archive.ErrNoIdentity) {
		t.Fatalf("got %v, want no matching identity", err)
	}
	if !maps.Equal(started, startedAt(t, s)) {
		t.Errorf("services were stopped: %v -> %v", started, startedAt(t, s))
	}
	if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name}); !errors.Is(err, ErrNeedsIdentity) {
		t.Errorf("without any identity: got %v, want ErrNeedsIdentity", err)
	}
}

// cancellingEngine cancels the run once the import has read its first
// bytes: an operator's Ctrl-C in the middle of the import.
type cancellingEngine struct {
	*engine.Client
	cancel context.CancelFunc
}

func (c *cancellingEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if len(opts.Cmd) > 3 && opts.Cmd[3] == "dr-import" {
		opts.Stdin = &cancelAfterRead{r: opts.Stdin, cancel: c.cancel}
	}
	return c.Client.Exec(ctx, id, opts)
}

type cancelAfterRead struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAfterRead) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func TestInterruptedImportStartsTheServicesAgain(t *testing.T) {
	for _, net := range []string{config.SafetyNetDump, config.SafetyNetAside} {
		t.Run(net, func(t *testing.T) { testInterruptedImport(t, net) })
	}
}

func testInterruptedImport(t *testing.T, net string) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Restore.SafetyNet = net
	res := takeBackup(t, eng, cfg, dests)
	t.Cleanup(func() {
		if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}}); err != nil {
			t.Errorf("restoring the database after the interrupted import: %v", err)
		}
	})
	// Since the backup: what a failed restore with its tables aside
	// must leave as it is.
	s.SQL(t, "DELETE FROM appwrite_logs.logs WHERE id % 2 = 0")
	before := dbChecksums(t, s)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ce := &cancellingEngine{Client: eng, cancel: cancel}
	req := Request{Name: res.Name, Parts: []string{PartDB}}
	plan, err := Prepare(ctx, ce, cfg, dests, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Stop) == 0 {
		t.Fatal("the plan stops no writer; nothing to check")
	}
	r, err := Execute(ctx, ce, plan, req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the run cancelled", err)
	}
	if r == nil || len(r.Stopped) == 0 {
		t.Fatalf("the restore stopped nothing before the import: %+v", r)
	}
	if net == config.SafetyNetDump && (!strings.Contains(err.Error(), r.SafetyDump) || r.SafetyDump == "") {
		t.Errorf("the error does not say how to roll back from the safety dump: %v", err)
	}
	if net == config.SafetyNetAside {
		// Issue 21: the services must not start on a partial import; the
		// tables moved aside are swapped back first.
		if !strings.Contains(err.Error(), "the tables moved aside were put back") || r.Aside != nil {
			t.Errorf("the error does not say the tables moved aside were put back (aside %+v): %v", r.Aside, err)
		}
		if got := dbChecksums(t, s); !maps.Equal(before, got) {
			t.Errorf("the database is not as it was before the failed restore:\n got %v\nwant %v", got, before)
		}
		if j, _ := Unfinished(cfg.StateDir); j != nil {
			t.Errorf("the journal is left after the database was put back: %+v", j)
		}
	}
	// Issue 21: never running on a partial import. With the tables
	// aside, the database was put back and the services run again; with
	// a safety dump, the database is partly restored and the services
	// stay stopped, for the restore that finishes the job to start.
	wantRunning := net == config.SafetyNetAside
	for svc, state := range startedAt(t, s) {
		want := wantRunning || !slices.Contains(r.Stopped, svc)
		if running := strings.HasPrefix(state, "true"); running != want {
			t.Errorf("service %s after the interrupted import: %s, want running %v", svc, state, want)
		}
	}
	if !wantRunning {
		if !strings.Contains(err.Error(), "left stopped") {
			t.Errorf("the error does not say the services were left stopped: %v", err)
		}
		j, _ := Unfinished(cfg.StateDir)
		if j == nil || !slices.Equal(j.Stopped, r.Stopped) {
			t.Errorf("journal %+v: want it to name the services left stopped, %v, for the next restore to start", j, r.Stopped)
		}
	}
}

// TestRowsOverTheDefaultPacketLimitComeBack: a 12 MiB and a 50 MiB row
// (24 and 100 MiB as hex INSERTs) survive backup, verify and restore on a
// server at the default 16 MiB limit, which is its limit again afterwards.
func TestRowsOverTheDefaultPacketLimitComeBack(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	s.UseDefaultPacketLimit(t)
	s.SQL(t, "CREATE DATABASE dr_packet; CREATE TABLE dr_packet.big (id INT PRIMARY KEY, v LONGBLOB)")
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS dr_packet") })
	s.InsertLargeRows(t, "dr_packet.big", 12<<20, 50<<20)
	want := s.RowSums(t, "dr_packet.big")

	res := takeBackup(t, eng, cfg, dests)
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := storage.Choose(entries, storage.Query{Name: res.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), dests, entry, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}

	// The 50 MiB row stays, so the safety dump holds it too.
	cfg.Restore.SafetyNet = config.SafetyNetDump
	s.SQL(t, "DELETE FROM dr_packet.big WHERE id = 1")
	before := s.RowSums(t, "dr_packet.big")
	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
	if err != nil {
		t.Fatalf("restore: %.2000v", err)
	}
	if len(r.Warnings) > 0 || r.SafetyDump == "" {
		t.Errorf("restore warned %v, safety dump %q: want no warning and a safety dump", r.Warnings, r.SafetyDump)
	}
	if got := s.RowSums(t, "dr_packet.big"); got != want {
		t.Errorf("rows after the restore:\n%s\nwant:\n%s", got, want)
	}
	if got := s.PacketLimit(t); got != teststack.DefaultPacketLimit {
		t.Errorf("server's max_allowed_packet after the restore = %d, want the default %d back", got, teststack.DefaultPacketLimit)
	}
	if r.SafetyDump == "" {
		return
	}

	// The undo command a failed restore prints puts the safety dump back.
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
	undo := exec.Command("sh", "-c", mariadb.ByHandImport(s.ContainerID(t, teststack.DBService)))
	undo.Stdin = zr
	if out, err := undo.CombinedOutput(); err != nil {
		t.Fatalf("the printed undo command: %v: %.2000s", err, out)
	}
	if got := s.RowSums(t, "dr_packet.big"); got != before {
		t.Errorf("rows after the undo:\n%s\nwant:\n%s", got, before)
	}
	if got := s.PacketLimit(t); got != teststack.DefaultPacketLimit {
		t.Errorf("server's max_allowed_packet after the undo = %d, want the default %d back", got, teststack.DefaultPacketLimit)
	}
}
