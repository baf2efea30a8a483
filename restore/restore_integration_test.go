package restore

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/storage"
)

// stack is the Appwrite-shaped test stack the restore tests share; each
// test stages its crisis on it and leaves it recovered.
var stack = teststack.NewShared(teststack.Options{Name: "restore"})

func TestMain(m *testing.M) { os.Exit(stack.Main(m)) }

// appVolumes are the volumes dr backs up (the database's own is not one).
var appVolumes = []string{"appwrite-uploads", "appwrite-functions", "appwrite-builds", "appwrite-certificates", "appwrite-config"}

func newEngine(t *testing.T) *engine.Client {
	t.Helper()
	eng, err := engine.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

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
	dests, err := backup.OpenDestinations(context.Background(), cfg, nil)
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
	trees := map[string]map[string]string{}
	for _, v := range appVolumes {
		trees[v] = s.VolumeTree(t, v)
	}
	return trees
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
	eng := newEngine(t)
	cfg, dests := setup(t, s)
	// A large file made now, besides the seed's unicode names, symlink,
	// empty directory and 0600 file owned by uid 33.
	s.Exec(t, teststack.AppService, "head -c 200000000 /dev/urandom > /storage/uploads/app-console/big.bin && chown 1000:1000 /storage/uploads/app-console/big.bin")
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
	eng := newEngine(t)
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
	eng := newEngine(t)
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
