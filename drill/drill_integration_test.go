package drill

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/storage"
)

// stack is the Appwrite-shaped stack every test here drills backups of.
// Drills never touch it; the env-key test changes its .env and puts it
// back.
var stack = teststack.NewShared(teststack.Options{Name: "drill"})

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
	cfg.Drill.Memory = 512 << 20
	cfg.Destinations = []config.Destination{{Name: "local", Remote: t.TempDir(), Retention: config.DefaultRetention()}}
	dests, err := backup.OpenReachable(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dests
}

var clock atomic.Int64

func takeBackup(t *testing.T, eng *engine.Client, cfg *config.Config, dests []*storage.Destination) string {
	t.Helper()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC).Add(time.Duration(clock.Add(1)) * time.Minute)
	res, err := backup.Run(context.Background(), eng, cfg, dests, backup.Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return res.Name
}

func drillNow(t *testing.T, ctx context.Context, eng Engine, cfg *config.Config, dests []*storage.Destination, name string) (*Report, error) {
	t.Helper()
	rep, err := Run(ctx, eng, cfg, dests, Request{Name: name, Host: "test", ToolVersion: "dr test", ReadyTimeout: 3 * time.Minute})
	if rep == nil {
		t.Fatalf("no report: %v", err)
	}
	t.Logf("drill of %s: passed %v, failed %v, rto %.1fs, err %v", name, rep.Passed, rep.Failed, rep.RTOSeconds, err)
	for _, c := range rep.Checks {
		t.Logf("  %-12s passed=%v skipped=%v %s", c.Name, c.Passed, c.Skipped, c.Detail)
	}
	return rep, err
}

// assertNothingLeft fails when a container or volume of this state dir's
// drills is still there.
func assertNothingLeft(t *testing.T, eng *engine.Client, cfg *config.Config) {
	t.Helper()
	c, v, err := eng.ListLabelled(context.Background(), LabelOwner+"="+Owner(cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(c)+len(v) > 0 {
		t.Errorf("the drill left containers %v and volumes %v", c, v)
	}
}

// assertFailedOn checks the drill failed on exactly the named check.
func assertFailedOn(t *testing.T, rep *Report, err error, check string) {
	t.Helper()
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("got %v, want a failed drill", err)
	}
	if rep.Passed || !slices.Equal(rep.Failed, []string{check}) {
		t.Fatalf("failed checks %v, want [%s]", rep.Failed, check)
	}
	if !strings.Contains(err.Error(), check) {
		t.Errorf("the error %q does not name the failed check %s", err, check)
	}
}

// readReports returns the drill reports written beside the backup.
func readReports(t *testing.T, cfg *config.Config, name string) []Report {
	t.Helper()
	dir := cfg.Destinations[0].Remote
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []Report
	for _, e := range ents {
		if b, _, ok := storage.ParseDrillReportName(e.Name()); !ok || b != name {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var r Report
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestGoodBackupPassesEveryCheck(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Drill.Queries = []config.DrillQuery{{Name: "tables exist", SQL: "SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'appwrite'", Expect: "1"}}
	name := takeBackup(t, eng, cfg, dests)

	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	if !rep.Passed {
		t.Fatalf("failed: %v", rep.Failed)
	}
	want := []string{CheckArchive, CheckDisk, CheckImport, CheckTables, CheckCheckTable, CheckViews, CheckObjects, CheckVolumes, CheckScan, CheckEnv, CheckEnvKey, QueryPrefix + "tables exist"}
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.Name)
		// The seed creates a trigger, a procedure, a function and an event.
		if c.Name == CheckObjects && c.Figures["objects"] != 4 {
			t.Errorf("objects check saw %d objects in the manifest, want 4: %s", c.Figures["objects"], c.Detail)
		}
		// The test stack has volumes, an Appwrite .env and a live .env:
		// nothing may be skipped but the views, which it may lack.
		if c.Skipped && c.Name != CheckViews && c.Name != CheckScan {
			t.Errorf("check %s was skipped: %s", c.Name, c.Detail)
		}
		// Without scan.clamd the drill says it did not scan.
		if c.Name == CheckScan && (!c.Skipped || c.Detail != notConfigured) {
			t.Errorf("scan check without scan.clamd: %+v", c)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("checks %v, want %v", got, want)
	}
	if rep.RTOSeconds <= 0 || rep.RTOSeconds > rep.DurationSeconds {
		t.Errorf("RTO %.2fs, whole drill %.2fs", rep.RTOSeconds, rep.DurationSeconds)
	}
	if rep.Image == "" || rep.ServerVersion == "" {
		t.Errorf("image %q, server version %q: want both", rep.Image, rep.ServerVersion)
	}
	assertNothingLeft(t, eng, cfg)

	reports := readReports(t, cfg, name)
	if len(reports) != 1 || !reports[0].Passed || reports[0].Backup != name {
		t.Fatalf("reports beside the backup: %+v", reports)
	}
	// No value of the .env may reach the report.
	env, err := os.ReadFile(s.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	live, _ := ParseEnv(env)
	data, _ := json.Marshal(reports[0])
	for k, v := range live {
		// The schema is the database's name, not a secret: the
		// checksums are keyed by it ("appwrite._1_users").
		if k == "_APP_DB_SCHEMA" {
			continue
		}
		if len(v) >= 8 && bytes.Contains(data, []byte(v)) {
			t.Errorf("the report holds the value of %s", k)
		}
	}

	// Every base table's CHECKSUM TABLE is recorded for dr diff --checksum.
	if sum, ok := reports[0].Checksums["appwrite._1_users"]; !ok || sum == 0 {
		t.Errorf("the report's checksum of appwrite._1_users is %d (recorded: %v)", sum, ok)
	}
	if _, ok := reports[0].Checksums["appwrite.active_sessions"]; ok {
		t.Error("the report holds a checksum of a view")
	}

	// The catalog and retention read the report.
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].LastDrill == nil || !entries[0].LastDrill.Passed || entries[0].LastDrill.RTOSeconds <= 0 {
		t.Fatalf("catalog's last drill: %+v", entries[0].LastDrill)
	}
	// The report is bound to the archive it drilled: retention takes its
	// pass.
	if sum := entries[0].Manifest.Object.SHA256; reports[0].ArchiveSHA256 != sum || !entries[0].LastDrill.ProvesPass() {
		t.Errorf("the report names archive %q, the sidecar %q; binding %q", reports[0].ArchiveSHA256, sum, entries[0].LastDrill.Binding)
	}
}

func TestFailingQueryFailsTheDrill(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Drill.Queries = []config.DrillQuery{
		{Name: "ok", SQL: "SELECT 1", Expect: "1"},
		{Name: "console projects", SQL: "SELECT COUNT(*) FROM appwrite.no_such_table", Expect: "1"},
	}
	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, QueryPrefix+"console projects")
	assertNothingLeft(t, eng, cfg)
	if r := readReports(t, cfg, name); len(r) != 1 || r[0].Passed {
		t.Fatalf("want one failed report, got %+v", r)
	}
}

func TestAlteredChunkFailsTheArchiveCheck(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	name := takeBackup(t, eng, cfg, dests)
	teststack.FlipByte(t, filepath.Join(cfg.Destinations[0].Remote, name)) // inside the dump chunks
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, CheckArchive)
	assertNothingLeft(t, eng, cfg)
}

func TestManifestClaimingRowsTheDumpLacksFailsTheTablesCheck(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	name := takeBackup(t, eng, cfg, dests)
	rewriteBackup(t, cfg, name, func(m *archive.Manifest, dump []byte) []byte {
		for i, tb := range m.Database.Tables {
			if !tb.View && tb.Rows > 0 {
				m.Database.Tables[i].Rows += 3
				return dump
			}
		}
		t.Fatal("the test stack's dump has no table with rows")
		return dump
	})
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, CheckTables)
	assertNothingLeft(t, eng, cfg)
}

func TestTruncatedDumpFailsTheImport(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	name := takeBackup(t, eng, cfg, dests)
	rewriteBackup(t, cfg, name, func(_ *archive.Manifest, dump []byte) []byte {
		// Cut inside an INSERT: the server sees a statement that never ends.
		i := bytes.LastIndex(dump, []byte("INSERT INTO"))
		if i < 0 {
			t.Fatal("the dump has no INSERT")
		}
		return dump[:i+len("INSERT INTO `x` VALUES ('")]
	})
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, CheckImport)
	assertNothingLeft(t, eng, cfg)
}

func TestDifferentEncryptionKeyFailsTheKeyCheck(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	name := takeBackup(t, eng, cfg, dests)

	orig, err := os.ReadFile(s.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(s.EnvFile(), orig, 0o600) })
	var changed []string
	for _, line := range strings.Split(string(orig), "\n") {
		if strings.HasPrefix(line, OpenSSLKey+"=") {
			line = OpenSSLKey + "=a-key-the-backup-never-saw"
		}
		changed = append(changed, line)
	}
	if err := os.WriteFile(s.EnvFile(), []byte(strings.Join(changed, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, CheckEnvKey)
	for _, c := range rep.Checks {
		if strings.Contains(c.Detail, "a-key-the-backup-never-saw") {
			t.Errorf("check %s prints the key", c.Name)
		}
	}
	assertNothingLeft(t, eng, cfg)
}

// cancellingEngine cancels the drill once the import has taken some of
// the dump: an operator's Ctrl-C in the middle of it.
type cancellingEngine struct {
	*engine.Client
	cancel context.CancelFunc
	after  int64
}

func (c *cancellingEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if len(opts.Cmd) > 3 && opts.Cmd[3] == "dr-import" {
		opts.Stdin = &cancellingReader{r: opts.Stdin, left: c.after, cancel: c.cancel}
	}
	return c.Client.Exec(ctx, id, opts)
}

type cancellingReader struct {
	r      io.Reader
	left   int64
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left <= 0 {
		c.once.Do(c.cancel)
	}
	return n, err
}

func TestInterruptedDrillCleansUp(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	name := takeBackup(t, eng, cfg, dests)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ce := &cancellingEngine{Client: eng, cancel: cancel, after: 64 << 10}
	rep, err := drillNow(t, ctx, ce, cfg, dests, name)
	if err == nil || rep.Passed {
		t.Fatalf("an interrupted drill passed: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the import never reached the cancelling reader")
	}
	assertNothingLeft(t, eng, cfg)
	// The failed drill is on record too.
	if r := readReports(t, cfg, name); len(r) != 1 || r[0].Passed {
		t.Fatalf("want one failed report, got %+v", r)
	}
}

func TestLeftoverIsRemovedByTheNextDrill(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	name := takeBackup(t, eng, cfg, dests)
	// What a drill killed with SIGKILL leaves: a labelled container with
	// its data volume.
	id, err := eng.RunThrowaway(context.Background(), engine.Throwaway{
		Image:   teststack.Image(),
		Env:     []string{"MARIADB_ROOT_PASSWORD=x"},
		Labels:  map[string]string{engine.LabelDrill: name, LabelOwner: Owner(cfg.StateDir)},
		DataDir: dataDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.RemoveThrowaway(context.Background(), id) })
	// Another dr's drill on the same engine is not this one's leftover.
	other, err := eng.RunThrowaway(context.Background(), engine.Throwaway{
		Image: teststack.Image(), Env: []string{"MARIADB_ROOT_PASSWORD=x"},
		Labels: map[string]string{engine.LabelDrill: name, LabelOwner: Owner(t.TempDir())},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.RemoveThrowaway(context.Background(), other) })

	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	if !rep.Passed {
		t.Fatalf("failed: %v", rep.Failed)
	}
	assertNothingLeft(t, eng, cfg)
	if _, err := eng.InspectContainer(context.Background(), other); err != nil {
		t.Errorf("another state dir's drill container was touched: %v", err)
	}
}

// rewriteBackup rebuilds a committed backup with its dump and both
// manifests changed by edit, consistently (sizes, hashes, sidecar), as a
// backup made by a buggy dump would be: verification passes, so only the
// drill's own checks can catch it.
func rewriteBackup(t *testing.T, cfg *config.Config, name string, edit func(m *archive.Manifest, dump []byte) []byte) {
	t.Helper()
	dir := cfg.Destinations[0].Remote
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zstd.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	var entries []entry
	var dump []byte
	var inner *archive.Manifest
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(hdr.Name, archive.DumpChunkPrefix):
			if dump == nil {
				entries = append(entries, entry{hdr: nil}) // where the chunks go
			}
			dump = append(dump, data...)
		case hdr.Name == archive.ManifestEntry:
			if inner, err = archive.ParseManifest(data); err != nil {
				t.Fatal(err)
			}
		default:
			entries = append(entries, entry{hdr: hdr, data: data})
		}
	}
	dump = edit(inner, dump)
	db := inner.Database
	db.Chunks = nil
	for i, off := 0, 0; off < len(dump); i++ {
		end := min(off+int(db.ChunkSize), len(dump))
		sum := sha256.Sum256(dump[off:end])
		db.Chunks = append(db.Chunks, archive.Chunk{Name: archive.ChunkName(i), Size: int64(end - off), SHA256: hex.EncodeToString(sum[:])})
		off = end
	}
	db.DumpSize = int64(len(dump))

	var out bytes.Buffer
	zw, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	put := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entries {
		if e.hdr == nil {
			off := 0
			for _, c := range db.Chunks {
				put(c.Name, dump[off:off+int(c.Size)])
				off += int(c.Size)
			}
			continue
		}
		if err := tw.WriteHeader(e.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	innerData, err := inner.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	put(archive.ManifestEntry, innerData)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	obj := sha256.Sum256(out.Bytes())
	side := *inner
	side.Status = archive.StatusComplete
	side.Object = &archive.ObjectInfo{Size: int64(out.Len()), SHA256: hex.EncodeToString(obj[:])}
	sideData, err := side.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archive.SidecarName(name)), sideData, 0o600); err != nil {
		t.Fatal(err)
	}
}
