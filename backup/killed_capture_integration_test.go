package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// killedCaptureEnv carries what a child process runs until it is killed:
// a backup stalled in the upload of a blob, or a prune stalled deleting
// blobs.
const killedCaptureEnv = "DR_TEST_KILLED_CAPTURE"

// stalledLine is what the child prints once it is where it is killed.
const stalledLine = "STALLED"

type childCapture struct {
	childBackup
	Phase string // "upload" or "prune"
}

func captureConfig(c childBackup) *config.Config {
	cfg := quiesceConfig(c)
	cfg.Stack.StopDuringBackup = nil
	return cfg
}

// hangingRemoves stalls the removal of blobs until the process is killed,
// and says so once.
type hangingRemoves struct {
	fs.Fs
	said chan struct{}
}

func (h *hangingRemoves) NewObject(ctx context.Context, remote string) (fs.Object, error) {
	o, err := h.Fs.NewObject(ctx, remote)
	if err != nil || !strings.HasPrefix(remote, "blobs/") {
		return o, err
	}
	return &hangingObject{Object: o, h: h}, nil
}

type hangingObject struct {
	fs.Object
	h *hangingRemoves
}

func (o *hangingObject) Remove(context.Context) error {
	select {
	case o.h.said <- struct{}{}:
		fmt.Println(stalledLine)
	default:
	}
	select {} // until SIGKILL
}

func runKilledCaptureChild(spec string) int {
	var c childCapture
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	cfg := captureConfig(c.childBackup)
	var wrap func(fs.Fs) fs.Fs
	var faulty *remotetest.Faulty
	switch c.Phase {
	case "upload":
		wrap, faulty = remotetest.Wrap(remotetest.Stall, 1<<20)
		faulty.Match = func(name string) bool { return strings.HasPrefix(name, "blobs/") }
	case "prune":
		h := &hangingRemoves{said: make(chan struct{}, 1)}
		wrap = func(inner fs.Fs) fs.Fs { h.Fs = inner; return h }
	}
	d, err := storage.Open(ctx, remote.Options{Name: "local", Remote: c.Remote, WrapFs: wrap, Timeout: time.Hour})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if c.Phase == "prune" {
		_, err := d.Prune(ctx, storage.PruneOptions{Policy: storage.Policy{Last: 1}, Now: time.Now(), Stack: c.Project})
		fmt.Fprintf(os.Stderr, "the prune was not killed: %v\n", err)
		return 3
	}
	// As dr's commands make it: the helpers it leaves are the next run's
	// to remove.
	eng, err := engine.New(ctx, engine.WithOwner(lock.Owner(cfg.StateDir)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	go func() {
		for faulty.Fired.Load() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println(stalledLine)
	}()
	_, err = Run(ctx, eng, cfg, []*storage.Destination{d}, Options{ToolVersion: "dr test", SkipPrune: true})
	fmt.Fprintf(os.Stderr, "the backup was not killed: %v\n", err)
	return 3
}

// killChildAt runs this test binary as a child running c, killed once
// it prints line.
func killChildAt(t *testing.T, env string, c any, line string) {
	t.Helper()
	spec, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	teststack.KillChildAt(t, env, string(spec), line)
}

// volumeSums are the sha256 of every regular file of the stack's uploads
// volume, by path.
func volumeSums(t *testing.T, s *teststack.Stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	for p, what := range s.VolumeTree(t, "appwrite-uploads") {
		if f := strings.Fields(what); len(f) >= 4 && f[0] == "regular" {
			out[strings.TrimPrefix(p, "./")] = f[len(f)-1]
		}
	}
	return out
}

// assertBackupHolds reads a backup back through the one reader (blobs
// and all) and compares its files with sums.
func assertBackupHolds(t *testing.T, d *storage.Destination, name string, sums map[string]string) {
	t.Helper()
	got := map[string]string{}
	for p, content := range verifyBackup(t, d, name) {
		if strings.HasPrefix(content, "link to ") {
			continue
		}
		sum := sha256.Sum256([]byte(content))
		got[p] = hex.EncodeToString(sum[:])
	}
	for p, want := range sums {
		if got[p] != want {
			t.Errorf("backup %s: %s has sha256 %q, the volume had %q", name, p, got[p], want)
		}
	}
	if len(got) != len(sums) {
		t.Errorf("backup %s holds %d files, the volume had %d", name, len(got), len(sums))
	}
}

// TestKilledBlobUploadLeavesEveryBackupWhole is kill -9 while a backup
// uploads a new file's blob: the earlier backup stays whole, the killed
// one is no backup, and the next backup stores that content again (never
// trusting the object the killed upload left) and restores whole.
func TestKilledBlobUploadLeavesEveryBackupWhole(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	c := childCapture{childBackup: childBackup{Project: s.Project, Dir: s.Dir, StateDir: t.TempDir(), Remote: t.TempDir()}, Phase: "upload"}
	cfg := captureConfig(c.childBackup)
	first, err := backupAt(t, eng, cfg, openAll(t, cfg), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	before := volumeSums(t, s)
	s.Exec(t, teststack.AppService, "mkdir -p /storage/uploads/killed && head -c 6000000 /dev/urandom > /storage/uploads/killed/big.bin")
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/killed") })
	killChildAt(t, killedCaptureEnv, c, stalledLine)

	d := openAll(t, cfg)[0]
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != first.Name {
		t.Fatalf("after the kill the destination lists %v, want the first backup alone", list)
	}
	assertBackupHolds(t, d, first.Name, before)

	res, err := backupAt(t, eng, cfg, openAll(t, cfg), time.Now())
	if err != nil {
		t.Fatalf("the backup after the kill: %v", err)
	}
	if v := res.Manifest.Volumes[0]; v.ReadFiles != 1 {
		t.Errorf("the backup after the kill read %d files, want the new one alone", v.ReadFiles)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "volume helper") {
		t.Errorf("warnings %q: want one saying the killed run's volume helper was removed", res.Warnings)
	}
	assertBackupHolds(t, d, res.Name, volumeSums(t, s))
}

// TestKilledPruneIsFinishedByTheNext is kill -9 while a prune deletes
// blobs, after it deleted the backup whose blobs they are: the kept
// backups stay whole, and the next prune deletes what no kept backup
// needs.
func TestKilledPruneIsFinishedByTheNext(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	c := childCapture{childBackup: childBackup{Project: s.Project, Dir: s.Dir, StateDir: t.TempDir(), Remote: t.TempDir()}, Phase: "prune"}
	cfg := captureConfig(c.childBackup)
	s.Exec(t, teststack.AppService, "mkdir -p /storage/uploads/pruned && head -c 100000 /dev/urandom > /storage/uploads/pruned/only-in-the-first.bin")
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/pruned") })
	if _, err := backupAt(t, eng, cfg, openAll(t, cfg), time.Now().Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/pruned")
	second, err := backupAt(t, eng, cfg, openAll(t, cfg), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sums := volumeSums(t, s)
	blobsOnDisk := func() []string {
		entries, _ := os.ReadDir(filepath.Join(c.Remote, archive.BlobDir(s.Project)))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	all := blobsOnDisk()
	killChildAt(t, killedCaptureEnv, c, stalledLine)

	d := openAll(t, cfg)[0]
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != second.Name {
		t.Fatalf("after the killed prune the destination lists %v, want the second backup alone (the first was deleted)", list)
	}
	if got := blobsOnDisk(); !slices.Equal(got, all) {
		t.Errorf("the killed prune deleted blobs: %d left of %d", len(got), len(all))
	}
	assertBackupHolds(t, d, second.Name, sums)

	rep, err := d.Prune(context.Background(), storage.PruneOptions{Policy: storage.Policy{Last: 1}, Now: time.Now(), Stack: s.Project})
	if err != nil {
		t.Fatalf("the prune after the kill: %v", err)
	}
	if len(rep.Blobs) != 1 || rep.Blobs[0].Deleted != 1 {
		t.Errorf("the next prune did %+v with the blobs, want the first backup's own one deleted", rep.Blobs)
	}
	if got := blobsOnDisk(); len(got) != len(all)-1 {
		t.Errorf("%d blobs left of %d, want one fewer", len(got), len(all))
	}
	assertBackupHolds(t, d, second.Name, sums)
}
