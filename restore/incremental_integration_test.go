package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/storage"
)

// incDir is where, in the uploads volume, the incremental tests make
// their changes; the seed's files stay as they are.
const incDir = "/storage/uploads/inc"

// incScripts are the states of incDir the three backups see: the first
// makes it, the second deletes, adds, changes (one file in place, keeping
// its size), renames, chmods, hard-links, symlinks and makes an empty
// directory; the third deletes a file the first two held, adds one,
// copies an unchanged content, rewrites the hard-linked file in place,
// chmods back, repoints the symlink and moves the empty directory.
var incScripts = []string{
	`set -e; rm -rf ` + incDir + `; mkdir -p ` + incDir + `; cd ` + incDir + `
head -c 100000 /dev/urandom > keep.bin
head -c 50000 /dev/urandom > del.bin
head -c 4096 /dev/urandom > same.bin
printf hello > grow.txt
head -c 30000 /dev/urandom > mvme.bin
head -c 20000 /dev/urandom > mode.bin
head -c 10000 /dev/urandom > linked.bin
head -c 40000 /dev/urandom > gone-before-3.bin
: > empty.txt`,
	`set -e; cd ` + incDir + `
rm del.bin
head -c 60000 /dev/urandom > new2.bin
head -c 16 /dev/urandom | dd of=same.bin bs=1 seek=1000 conv=notrunc 2>/dev/null
printf ' world' >> grow.txt
mkdir sub && mv mvme.bin sub/moved.bin
chmod 600 mode.bin
ln linked.bin hard.bin
ln -s keep.bin sym.link
mkdir emptydir`,
	`set -e; cd ` + incDir + `
rm gone-before-3.bin
head -c 70000 /dev/urandom > new3.bin
cp keep.bin copy3.bin
head -c 10000 /dev/urandom | dd of=hard.bin conv=notrunc 2>/dev/null
chmod 644 mode.bin
ln -sfn new3.bin sym.link
rmdir emptydir && mkdir sub/empty2`,
}

// incReads are the files of the uploads volume each backup must read
// (relative to incDir), with their sizes: the first reads the seed too.
// A renamed or chmodded file is read again (its stamp changed) though its
// content is stored already; of a hard-linked inode, only its first path
// ("hard.bin" sorts before "linked.bin") is read.
var incReads = []map[string]int64{
	nil,
	{"new2.bin": 60000, "same.bin": 4096, "grow.txt": 11, "sub/moved.bin": 30000, "mode.bin": 20000, "hard.bin": 10000},
	{"new3.bin": 70000, "copy3.bin": 100000, "hard.bin": 10000, "mode.bin": 20000},
}

// incVolumes are the volumes the incremental tests back up: the uploads
// volume they change, and one they leave alone, which each backup after
// the first must not read. The other volumes would only cost each restore
// its helper containers.
var incVolumes = []string{"appwrite-uploads", "appwrite-functions"}

// incSetup is setup backing up incVolumes.
func incSetup(t *testing.T, s *teststack.Stack) (*config.Config, []*storage.Destination) {
	t.Helper()
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = incVolumes
	return cfg, dests
}

// incTrees are the trees of incVolumes.
func incTrees(t *testing.T, s *teststack.Stack) map[string]map[string]string {
	t.Helper()
	return s.VolumeTrees(t, incVolumes...)
}

// incNewContents are how many contents each backup after the first adds:
// new2, same.bin and grow.txt changed; new3 and the rewritten hard.bin.
var incNewContents = []int{-1, 3, 2}

// incStep is one backup of the series with the volumes as it saw them.
type incStep struct {
	res   *backup.Result
	trees map[string]map[string]string
}

// runBackup is one backup to dests; a *PartialError (some configured
// destination down) still gives the backup where it committed.
func runBackup(t *testing.T, eng *engine.Client, cfg *config.Config, dests []*storage.Destination, opts backup.Options) *backup.Result {
	t.Helper()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC).Add(time.Duration(clock.Add(1)) * time.Minute)
	opts.ToolVersion, opts.Now = "dr test", func() time.Time { return at }
	res, err := backup.Run(context.Background(), eng, cfg, dests, opts)
	var partial *backup.PartialError
	if err != nil && !(errors.As(err, &partial) && res != nil && len(res.Committed()) > 0) {
		t.Fatalf("backup: %v", err)
	}
	return res
}

// incrementalSeries makes incDir, then three backups each after the next
// script; backupN, when set, takes the Nth (0-based) backup instead of
// runBackup to every destination. The stack's uploads volume is put back
// as it was when the test ends.
func incrementalSeries(t *testing.T, s *teststack.Stack, eng *engine.Client, cfg *config.Config, dests []*storage.Destination, backupN map[int]func() *backup.Result) []incStep {
	t.Helper()
	t.Cleanup(func() {
		s.Compose(t, "up", "-d", teststack.AppService, teststack.WorkerService)
		s.Exec(t, teststack.AppService, "rm -rf "+incDir)
	})
	var steps []incStep
	for i, script := range incScripts {
		s.Exec(t, teststack.AppService, script)
		trees := incTrees(t, s)
		var res *backup.Result
		if f := backupN[i]; f != nil {
			res = f()
		} else {
			res = runBackup(t, eng, cfg, dests, backup.Options{})
		}
		steps = append(steps, incStep{res: res, trees: trees})
	}
	return steps
}

// contents are the sha256 of the non-empty regular files of trees.
func contents(trees map[string]map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, tree := range trees {
		for _, meta := range tree {
			if !strings.HasPrefix(meta, "regular file ") {
				continue // "regular empty file", directories, links
			}
			f := strings.Fields(meta)
			out[f[len(f)-1]] = true
		}
	}
	return out
}

// blobFiles lists the blob objects of the stack on a local destination.
func blobFiles(t *testing.T, remote, project string) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(remote, archive.BlobDir(project)))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range ents {
		out[e.Name()] = true
	}
	return out
}

// sidecarBlobs are the blob names a destination's sidecar of a backup
// lists.
func sidecarBlobs(t *testing.T, d *storage.Destination, name string) map[string]bool {
	t.Helper()
	m, err := d.ReadSidecar(context.Background(), name)
	if err != nil {
		t.Fatalf("reading the sidecar of %s on %s: %v", name, d.Name(), err)
	}
	out := map[string]bool{}
	for _, b := range m.Blobs {
		out[b.Name] = true
	}
	return out
}

// blobOf is the blob holding a volume file's content in a manifest.
func blobOf(t *testing.T, m *archive.Manifest, volume, rel string) string {
	t.Helper()
	name := archive.VolumesPrefix + volume + "/" + rel
	for _, e := range m.Entries {
		if e.Name == name {
			if e.Blob == "" {
				t.Fatalf("%s has no blob in the manifest of %s", name, m.Name)
			}
			return e.Blob
		}
	}
	t.Fatalf("%s is not in the manifest of %s", name, m.Name)
	return ""
}

// verifyOn verifies a backup on dests as dr verify does; the error joins
// Verify's with each damaged copy's.
func verifyOn(t *testing.T, dests []*storage.Destination, name string) error {
	t.Helper()
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := storage.Choose(entries, storage.Query{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	reports, err := Verify(context.Background(), dests, entry, nil)
	if err == nil {
		return nil
	}
	// What dr verify prints: each copy's own error, which names what
	// is damaged.
	errs := []error{err}
	for _, r := range reports {
		errs = append(errs, r.Err)
	}
	return errors.Join(errs...)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestIncrementalBackupsEachRestoreAsTheyWere(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := incSetup(t, s)
	remote := cfg.Destinations[0].Remote
	blobCounts := []int{}
	var steps []incStep
	backupN := map[int]func() *backup.Result{}
	for i := range incScripts {
		backupN[i] = func() *backup.Result {
			res := runBackup(t, eng, cfg, dests, backup.Options{})
			blobCounts = append(blobCounts, len(blobFiles(t, remote, s.Project)))
			return res
		}
	}
	steps = incrementalSeries(t, s, eng, cfg, dests, backupN)

	seen := map[string]bool{}
	for i, st := range steps {
		m := st.res.Manifest
		now := contents(st.trees)
		var added int
		for c := range now {
			if !seen[c] {
				seen[c] = true
				added++
			}
		}
		// Each content once on the destination: the blobs are every
		// content any backup so far held, no more.
		if blobCounts[i] != len(seen) {
			t.Errorf("backup %d: %d blob objects on the destination, want %d (the distinct contents so far)", i+1, blobCounts[i], len(seen))
		}
		if i > 0 && added != incNewContents[i] {
			t.Fatalf("backup %d: the test's changes add %d contents, want %d: the test is wrong", i+1, added, incNewContents[i])
		}
		if i > 0 && blobCounts[i]-blobCounts[i-1] != added {
			t.Errorf("backup %d: the destination grew by %d blobs, want %d (the new contents)", i+1, blobCounts[i]-blobCounts[i-1], added)
		}
		if got := sidecarBlobs(t, dests[0], st.res.Name); len(got) != len(now) {
			t.Errorf("backup %d: the sidecar lists %d blobs, want %d (the distinct contents of the volumes)", i+1, len(got), len(now))
		}
		// The same content has the same blob, whichever file holds it.
		byContent := map[string]string{}
		for _, e := range m.Entries {
			if !strings.HasPrefix(e.Name, archive.VolumesPrefix) || e.Kind != archive.KindFile || e.Size == 0 {
				continue
			}
			if b, ok := byContent[e.SHA256]; ok && b != e.Blob {
				t.Errorf("backup %d: %s has blob %s, another file of the same content %s", i+1, e.Name, e.Blob, b)
			}
			byContent[e.SHA256] = e.Blob
		}
		if i == 0 {
			continue
		}
		// Only the changed files were read.
		var wantBytes int64
		for _, n := range incReads[i] {
			wantBytes += n
		}
		for _, v := range m.Volumes {
			wantFiles, wantB := int64(0), int64(0)
			if v.Name == "appwrite-uploads" {
				wantFiles, wantB = int64(len(incReads[i])), wantBytes
			}
			if v.ReadFiles != wantFiles || v.ReadBytes != wantB {
				t.Errorf("backup %d read %d files (%d bytes) of %s, want %d (%d bytes): %v", i+1, v.ReadFiles, v.ReadBytes, v.Name, wantFiles, wantB, keys(mapKeys(incReads[i])))
			}
		}
	}
	t.Logf("blob objects after each backup: %v", blobCounts)

	for i, st := range steps {
		if _, err := restoreNow(t, eng, cfg, dests, Request{Name: st.res.Name, Parts: []string{PartVolumes}}); err != nil {
			t.Fatalf("restoring backup %d (%s): %v", i+1, st.res.Name, err)
		}
		t.Logf("checking the volumes restored from backup %d", i+1)
		assertTreesEqual(t, st.trees, incTrees(t, s))
		if i > 0 {
			// The tree compares contents: the hard link must come back
			// as one inode, not two copies.
			if f := strings.Fields(s.Exec(t, teststack.AppService, "stat -c %i "+incDir+"/hard.bin "+incDir+"/linked.bin")); len(f) != 2 || f[0] != f[1] {
				t.Errorf("backup %d: hard.bin and linked.bin restored as inodes %v, want one", i+1, f)
			}
		}
	}
}

func mapKeys[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func TestIncrementalPruneOfTheFirstKeepsTheOthers(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := incSetup(t, s)
	d := dests[0]
	remote := cfg.Destinations[0].Remote
	steps := incrementalSeries(t, s, eng, cfg, dests, nil)
	need := make([]map[string]bool, len(steps))
	for i, st := range steps {
		need[i] = sidecarBlobs(t, d, st.res.Name)
	}
	onlyFirst := map[string]bool{}
	for b := range need[0] {
		if !need[1][b] && !need[2][b] {
			onlyFirst[b] = true
		}
	}
	// del.bin, and same.bin and grow.txt as they first were.
	if len(onlyFirst) != 3 {
		t.Fatalf("the first backup alone needs %d blobs, want 3", len(onlyFirst))
	}
	before := blobFiles(t, remote, s.Project)
	for b := range onlyFirst {
		if !before[b] {
			t.Fatalf("blob %s is not on the destination before the prune", b)
		}
	}

	rep, err := d.Prune(context.Background(), storage.PruneOptions{Policy: storage.Policy{Last: 2}, Grace: 0, Now: time.Now(), Stack: s.Project})
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	if !slices.Equal(rep.Deleted, []string{steps[0].res.Name}) {
		t.Errorf("the prune deleted %v, want only the first backup %s", rep.Deleted, steps[0].res.Name)
	}
	after := blobFiles(t, remote, s.Project)
	for b := range onlyFirst {
		if after[b] {
			t.Errorf("blob %s only the pruned backup needed is still there", b)
		}
	}
	for i := 1; i < 3; i++ {
		for b := range need[i] {
			if !after[b] {
				t.Errorf("blob %s backup %d needs was deleted", b, i+1)
			}
		}
	}
	if len(after) != len(before)-len(onlyFirst) {
		t.Errorf("%d blobs after the prune, want %d - %d", len(after), len(before), len(onlyFirst))
	}

	for i := 1; i < 3; i++ {
		name := steps[i].res.Name
		if err := verifyOn(t, dests, name); err != nil {
			t.Errorf("verifying backup %d after the prune: %v", i+1, err)
		}
		if _, err := restoreNow(t, eng, cfg, dests, Request{Name: name, Parts: []string{PartVolumes}}); err != nil {
			t.Fatalf("restoring backup %d after the prune: %v", i+1, err)
		}
		assertTreesEqual(t, steps[i].trees, incTrees(t, s))
	}
}

func TestIncrementalDamagedBlobFailsExactlyTheBackupsThatNeedIt(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := incSetup(t, s)
	steps := incrementalSeries(t, s, eng, cfg, dests, nil)
	// gone-before-3.bin: held by the first two backups, deleted before
	// the third.
	blob := blobOf(t, steps[0].res.Manifest, "appwrite-uploads", "inc/gone-before-3.bin")
	if b := blobOf(t, steps[1].res.Manifest, "appwrite-uploads", "inc/gone-before-3.bin"); b != blob {
		t.Fatalf("the second backup has the same content in blob %s, the first in %s", b, blob)
	}
	for i, st := range steps {
		if lists := sidecarBlobs(t, dests[0], st.res.Name)[blob]; lists != (i < 2) {
			t.Fatalf("backup %d's sidecar lists the blob: %v", i+1, lists)
		}
	}
	teststack.FlipByte(t, filepath.Join(cfg.Destinations[0].Remote, archive.BlobPath(s.Project, blob)))

	for i, st := range steps {
		err := verifyOn(t, dests, st.res.Name)
		if i < 2 {
			if err == nil {
				t.Errorf("backup %d verified with its blob %s damaged", i+1, blob)
			} else if !strings.Contains(err.Error(), blob) {
				t.Errorf("backup %d: the error does not name the damaged blob %s: %v", i+1, blob, err)
			}
		} else if err != nil {
			t.Errorf("backup %d, which does not need the damaged blob, failed to verify: %v", i+1, err)
		}
	}
	// A restore of an affected backup refuses before it writes anything;
	// the unaffected one restores.
	before := incTrees(t, s)
	if _, err := restoreNow(t, eng, cfg, dests, Request{Name: steps[1].res.Name, Parts: []string{PartVolumes}}); err == nil || !strings.Contains(err.Error(), blob) {
		t.Errorf("restoring backup 2 with its blob damaged: got %v, want it refused naming %s", err, blob)
	}
	assertTreesEqual(t, before, incTrees(t, s))
	if _, err := restoreNow(t, eng, cfg, dests, Request{Name: steps[2].res.Name, Parts: []string{PartVolumes}}); err != nil {
		t.Fatalf("restoring backup 3: %v", err)
	}
	assertTreesEqual(t, steps[2].trees, incTrees(t, s))
}

func TestIncrementalDestinationDownCatchesUp(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, _ := incSetup(t, s)
	cfg.Destinations = append(cfg.Destinations, config.Destination{Name: "second", Remote: t.TempDir(), Retention: config.DefaultRetention()})
	dests, err := backup.OpenReachable(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dests) != 2 {
		t.Fatalf("%d destinations open, want 2", len(dests))
	}
	second := dests[1]
	steps := incrementalSeries(t, s, eng, cfg, dests, map[int]func() *backup.Result{
		1: func() *backup.Result {
			res := runBackup(t, eng, cfg, dests[:1], backup.Options{Unreachable: []storage.Failure{{Destination: "second", Err: errors.New("down for the test")}}})
			if got := res.Committed(); !slices.Equal(got, []string{"local"}) {
				t.Fatalf("backup 2 committed on %v, want only local", got)
			}
			return res
		},
	})
	last := steps[2].res
	if got := res2names(last); !slices.Equal(got, []string{"local", "second"}) {
		t.Fatalf("backup 3 committed on %v, want both", got)
	}
	// Backup 3 read, besides its own changes, the files whose content
	// the second destination lacked: new2.bin and the two changed in
	// place for backup 2 (sub/moved.bin, mode.bin and hard.bin hold
	// contents it has; mode.bin and hard.bin are read anyway).
	for _, v := range last.Manifest.Volumes {
		if v.Name == "appwrite-uploads" {
			if want := int64(len(incReads[2]) + 3); v.ReadFiles != want {
				t.Errorf("backup 3 read %d files of the uploads volume, want %d", v.ReadFiles, want)
			}
		}
	}
	// The second destination has every content first stored in run 2.
	have := blobFiles(t, cfg.Destinations[1].Remote, s.Project)
	listed := sidecarBlobs(t, second, last.Name)
	for _, rel := range []string{"inc/new2.bin", "inc/same.bin", "inc/grow.txt"} {
		b := blobOf(t, steps[1].res.Manifest, "appwrite-uploads", rel)
		if !have[b] || !listed[b] {
			t.Errorf("%s as backup 2 stored it (blob %s): on the second destination %v, in its sidecar of backup 3 %v", rel, b, have[b], listed[b])
		}
	}
	for b := range listed {
		if !have[b] {
			t.Errorf("the second destination's sidecar of backup 3 lists blob %s, which is not there", b)
		}
	}

	// From the second destination alone.
	only := []*storage.Destination{second}
	if err := verifyOn(t, only, last.Name); err != nil {
		t.Errorf("verifying backup 3 on the second destination: %v", err)
	}
	if _, err := restoreNow(t, eng, cfg, only, Request{Name: steps[0].res.Name, Parts: []string{PartVolumes}}); err != nil {
		t.Fatalf("restoring backup 1 from the second destination: %v", err)
	}
	assertTreesEqual(t, steps[0].trees, incTrees(t, s))
	if _, err := restoreNow(t, eng, cfg, only, Request{Name: last.Name, Parts: []string{PartVolumes}}); err != nil {
		t.Fatalf("restoring backup 3 from the second destination: %v", err)
	}
	assertTreesEqual(t, steps[2].trees, incTrees(t, s))
}

func res2names(r *backup.Result) []string {
	got := r.Committed()
	sort.Strings(got)
	return got
}
