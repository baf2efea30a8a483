package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// fakeFile is one entry of a fakeVolume.
type fakeFile struct {
	typ          byte // d, f, l
	data         string
	mode         int64
	mtime, ctime int64
	inode        uint64
	link         string
}

// fakeVolume is a volume without Docker: what find would list, what the
// engine would stream, and which files a capture read.
type fakeVolume struct {
	files    map[string]*fakeFile // by path; "" is the root
	next     uint64
	clock    int64
	read     []string // files read one by one
	readAll  int      // whole streams read
	noFind   bool     // the helper image has no GNU find
	links    map[string]string
	listings int
}

func newFakeVolume() *fakeVolume {
	v := &fakeVolume{files: map[string]*fakeFile{}, next: 100, clock: 1_700_000_000_000_000_000, links: map[string]string{}}
	v.files[""] = &fakeFile{typ: 'd', mode: 0o755, inode: 2}
	return v
}

func (v *fakeVolume) tick() int64 { v.clock += 1_000_000; return v.clock }

// write creates or changes a file, as a write does: its ctime moves.
func (v *fakeVolume) write(p, data string) {
	if dir := path.Dir(p); dir != "." && v.files[dir] == nil {
		v.files[dir] = &fakeFile{typ: 'd', mode: 0o755, inode: v.next, mtime: v.tick(), ctime: v.clock}
		v.next++
	}
	f := v.files[p]
	if f == nil {
		f = &fakeFile{typ: 'f', mode: 0o644, inode: v.next}
		v.next++
		v.files[p] = f
	}
	f.data, f.mtime, f.ctime = data, v.tick(), v.clock
}

// rename moves a file, as rename(2) does: same inode, a new ctime.
func (v *fakeVolume) rename(from, to string) {
	f := v.files[from]
	delete(v.files, from)
	f.ctime = v.tick()
	v.files[to] = f
}

func (v *fakeVolume) List(context.Context) ([]engine.ListedEntry, error) {
	v.listings++
	if v.noFind {
		return nil, fmt.Errorf("listing: %w", engine.ErrNoListing)
	}
	var out []engine.ListedEntry
	for p, f := range v.files {
		links := 0
		for _, g := range v.files {
			if g.inode == f.inode {
				links++
			}
		}
		out = append(out, engine.ListedEntry{Path: p, Type: f.typ, Mode: f.mode, Size: int64(len(f.data)), MTime: f.mtime, CTime: f.ctime, Inode: f.inode, Links: links, Link: f.link})
	}
	// find's order is the directory's, not sorted.
	sort.Slice(out, func(i, j int) bool { return out[i].Path == "" || (out[j].Path != "" && out[i].Path > out[j].Path) })
	return out, nil
}

func (v *fakeVolume) header(p string, f *fakeFile) *tar.Header {
	h := &tar.Header{Name: p, Mode: f.mode, ModTime: time.Unix(0, f.mtime), Format: tar.FormatPAX}
	switch f.typ {
	case 'd':
		h.Typeflag = tar.TypeDir
	case 'l':
		h.Typeflag, h.Linkname = tar.TypeSymlink, f.link
	default:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
	}
	return h
}

func (v *fakeVolume) ReadFiles(_ context.Context, rels []string, fn func(*tar.Header, io.Reader) error) error {
	if v.noFind {
		return engine.ErrNoListing
	}
	for _, rel := range rels {
		f, ok := v.files[rel]
		if !ok {
			continue // gone since the listing
		}
		v.read = append(v.read, rel)
		if err := fn(v.header(rel, f), strings.NewReader(f.data)); err != nil {
			return err
		}
	}
	return nil
}

func (v *fakeVolume) ReadAll(context.Context) (io.ReadCloser, error) {
	v.readAll++
	var paths []string
	for p := range v.files {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool { return walkKey(paths[i]) < walkKey(paths[j]) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[uint64]string{}
	for _, p := range paths {
		f := v.files[p]
		h := v.header(p, f)
		h.Name = archive.VolumeRoot + "/" + p
		if p == "" {
			h.Name = archive.VolumeRoot + "/"
		}
		if first, ok := seen[f.inode]; ok && f.typ == 'f' {
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, archive.VolumeRoot+"/"+first, 0
		}
		seen[f.inode] = p
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, f.data)
		}
	}
	tw.Close()
	return io.NopCloser(&buf), nil
}

func (v *fakeVolume) Close() {}

// volumeEngine is the fake stack with one volume, appwrite-uploads.
type volumeEngine struct {
	fakeEngine
	vol *fakeVolume
}

func (e *volumeEngine) FindComposeVolume(_ context.Context, project, key string) (*engine.VolumeInfo, error) {
	if key != "appwrite-uploads" {
		return nil, fmt.Errorf("%s: %w", key, engine.ErrVolumeNotFound)
	}
	return &engine.VolumeInfo{Name: project + "_" + key}, nil
}

func (e *volumeEngine) OpenVolumes(_ context.Context, names []string, _ string) ([]engine.VolumeReader, error) {
	if len(names) != 1 {
		return nil, fmt.Errorf("the fake stack has one volume, not %q", names)
	}
	return []engine.VolumeReader{e.vol}, nil
}

// blobObjects lists the blob objects of a memory destination, every one
// there (not only those a sidecar lists).
func blobObjects(t *testing.T, d *storage.Destination, stack string) []string {
	t.Helper()
	ctx := context.Background()
	f, err := fs.NewFs(ctx, d.Remote()+"/"+strings.TrimSuffix(archive.BlobDir(stack), "/"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := f.List(ctx, "")
	if err != nil && !errors.Is(err, fs.ErrorDirNotFound) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Remote())
	}
	slices.Sort(names)
	return names
}

// verifyBackup reads a backup back through the one reader, blobs and all.
func verifyBackup(t *testing.T, d *storage.Destination, name string) map[string]string {
	t.Helper()
	ctx := context.Background()
	sidecar, err := d.ReadSidecar(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	plain, done, err := archive.Decompress(rc, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	ar := archive.NewReader(ctx, plain, sidecar, archive.ReaderOptions{Blobs: d})
	files := map[string]string{}
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("reading %s back: %v", name, err)
		}
		if item.Kind == archive.ItemVolume {
			body, err := io.ReadAll(ar)
			if err != nil {
				t.Fatalf("reading %s of %s: %v", item.Rel, name, err)
			}
			switch item.Header.Typeflag {
			case tar.TypeReg:
				files[item.Rel] = string(body)
			case tar.TypeLink:
				files[item.Rel] = "link to " + strings.TrimPrefix(item.Header.Linkname, archive.VolumePrefix("appwrite-uploads"))
			}
		}
	}
}

func (v *fakeVolume) contents() map[string]string {
	out := map[string]string{}
	seen := map[uint64]string{}
	var paths []string
	for p, f := range v.files {
		if f.typ == 'f' {
			paths = append(paths, p)
		}
	}
	sort.Slice(paths, func(i, j int) bool { return walkKey(paths[i]) < walkKey(paths[j]) })
	for _, p := range paths {
		f := v.files[p]
		if first, ok := seen[f.inode]; ok {
			out[p] = "link to " + first
			continue
		}
		seen[f.inode] = p
		out[p] = f.data
	}
	return out
}

// TestIncrementalCaptureWithFakes walks the decisions of incremental
// volume backups run after run: what is read, what is stored, and that
// each backup reads back as the volume was.
func TestIncrementalCaptureWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg, d := openMemory(t, config.Retention{KeepLast: 100}, nil)
	cfg.Stack.Volumes = []string{"appwrite-uploads"}
	vol := newFakeVolume()
	vol.write("bucket/a.bin", strings.Repeat("a", 5000))
	vol.write("bucket/b.bin", strings.Repeat("b", 3000))
	vol.write("bucket/same-as-b.bin", strings.Repeat("b", 3000))
	vol.write("empty", "")
	vol.write("bucket/big.bin", strings.Repeat("z", 50000)) // never changes until the end
	vol.files["bucket/hard"] = vol.files["bucket/a.bin"]
	eng := &volumeEngine{fakeEngine: fakeEngine{Project: "fake", Rows: 3}, vol: vol}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	run := func(step string, full bool, dests ...*storage.Destination) *Result {
		t.Helper()
		at = at.Add(time.Minute)
		vol.read, vol.readAll = nil, 0
		res, err := Run(ctx, eng, cfg, dests, Options{Now: func() time.Time { return at }, Full: full})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		for _, dest := range dests {
			if got, want := verifyBackup(t, dest, res.Name), vol.contents(); !mapsEqual(got, want) {
				t.Errorf("%s: backup %s on %s reads back as %s, the volume held %s", step, res.Name, dest.Name(), digest(got), digest(want))
			}
		}
		return res
	}
	readNow := func() []string { r := slices.Clone(vol.read); slices.Sort(r); return r }

	readFiles := func(res *Result) int64 { return res.Manifest.Volumes[0].ReadFiles }

	res := run("first", false, d)
	if readFiles(res) != 4 || vol.readAll != 1 {
		t.Errorf("first backup read %d files with %d whole streams, want every non-empty file in one stream", readFiles(res), vol.readAll)
	}
	first := blobObjects(t, d, "fake")
	if len(first) != 3 {
		t.Errorf("three contents made %d blobs", len(first))
	}

	res = run("nothing changed", false, d)
	if len(vol.read) != 0 || vol.readAll != 0 || readFiles(res) != 0 {
		t.Errorf("an unchanged volume was read: %q, %d whole streams", vol.read, vol.readAll)
	}
	if got := blobObjects(t, d, "fake"); !slices.Equal(got, first) {
		t.Errorf("an unchanged volume stored blobs: %d, were %d", len(got), len(first))
	}
	if v := res.Manifest.Volumes[0]; v.Files != 6 {
		t.Errorf("manifest says %+v", v)
	}

	vol.write("bucket/b.bin", strings.Repeat("c", 3000)) // same size, new content
	vol.rename("bucket/same-as-b.bin", "moved/same-as-b.bin")
	vol.write("new.bin", strings.Repeat("a", 5000)) // a's content again
	delete(vol.files, "empty")
	run("changed, renamed, added, deleted", false, d)
	if got := readNow(); !slices.Equal(got, []string{"bucket/b.bin", "moved/same-as-b.bin", "new.bin"}) || vol.readAll != 0 {
		t.Errorf("read %q and %d whole streams, want the changed, renamed and new files only, with one tar", got, vol.readAll)
	}
	if got := blobObjects(t, d, "fake"); len(got) != 4 {
		t.Errorf("one new content made %d blobs in all, want 4", len(got))
	}

	if err := os.Remove(indexPath(cfg.StateDir, "fake")); err != nil {
		t.Fatal(err)
	}
	res = run("index lost", false, d)
	if readFiles(res) != 5 {
		t.Errorf("without the index %d files were read, want all 5", readFiles(res))
	}
	if got := blobObjects(t, d, "fake"); len(got) != 4 {
		t.Errorf("without the index the contents were stored again: %d blobs", len(got))
	}

	// A second destination that holds nothing: the files are read for it,
	// the first stores nothing new.
	remote2 := remotetest.Memory(t)
	cfg.Destinations = append(cfg.Destinations, config.Destination{Name: "mem2", Remote: remote2, Retention: config.Retention{KeepLast: 100}})
	d2, err := storage.Open(ctx, remote.Options{Name: "mem2", Remote: remote2})
	if err != nil {
		t.Fatal(err)
	}
	res = run("a new destination", false, d, d2)
	if readFiles(res) != 5 {
		t.Errorf("for a new destination %d files were read, want all 5", readFiles(res))
	}
	if got, want := blobObjects(t, d2, "fake"), blobObjects(t, d, "fake"); !slices.Equal(got, want) {
		t.Errorf("the new destination holds %d blobs, the old %d", len(got), len(want))
	}

	res = run("full", true, d)
	if readFiles(res) != 5 {
		t.Errorf("--full read %d files, want all 5", readFiles(res))
	}
	if got := blobObjects(t, d, "fake"); len(got) != 8 {
		t.Errorf("--full stored its contents under new names: %d blobs, want 4 old and 4 new", len(got))
	}

	// When most of the volume's bytes changed, one stream of the volume.
	vol.write("bucket/big.bin", strings.Repeat("d", 60000))
	run("most bytes changed", false, d)
	if vol.readAll != 1 || len(vol.read) != 0 {
		t.Errorf("most of the volume changed: %d files read with a tar and %d streams, want one stream", len(vol.read), vol.readAll)
	}

	vol.noFind = true
	run("an image without GNU find", false, d)
	if vol.readAll != 1 {
		t.Errorf("a volume that cannot be listed was read %d times whole", vol.readAll)
	}
}

// digest shows files by path with their size and first bytes.
func digest(files map[string]string) string {
	var out []string
	for p, c := range files {
		out = append(out, fmt.Sprintf("%s(%d:%.8s)", p, len(c), c))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPruneDeletesOnlyBlobsNoKeptBackupNeeds: a prune deletes the
// blobs of the backups it deletes that no kept backup needs, keeps the
// young ones a running backup may be uploading, and a prune killed after
// the backups went is finished by the next.
func TestPruneDeletesOnlyBlobsNoKeptBackupNeeds(t *testing.T) {
	ctx := context.Background()
	cfg, d := openMemory(t, config.Retention{KeepLast: 100}, nil)
	cfg.Stack.Volumes = []string{"appwrite-uploads"}
	vol := newFakeVolume()
	eng := &volumeEngine{fakeEngine: fakeEngine{Project: "fake", Rows: 3}, vol: vol}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var names []string
	for i, content := range []string{"one", "two", "three"} {
		vol.write(fmt.Sprintf("f%d", i), content) // each backup adds a file
		if i == 2 {
			delete(vol.files, "f0") // the third no longer has the first's
		}
		at = at.Add(time.Hour)
		res, err := Run(ctx, eng, cfg, []*storage.Destination{d}, Options{Now: func() time.Time { return at }, SkipPrune: true})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, res.Name)
	}
	if all := blobObjects(t, d, "fake"); len(all) != 3 {
		t.Fatalf("%d blobs", len(all))
	}
	later := time.Now().Add(48 * time.Hour)
	rep, err := d.Prune(ctx, storage.PruneOptions{Policy: storage.Policy{Last: 1}, Now: later, Grace: 24 * time.Hour, Stack: "fake", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs[0].Deleted != 1 || rep.Blobs[0].Kept != 2 {
		t.Errorf("a dry run keeping the last would delete %+v blobs, want the first's alone (the second's file is the third's too)", rep.Blobs[0])
	}
	if got := blobObjects(t, d, "fake"); len(got) != 3 {
		t.Errorf("a dry run deleted blobs")
	}
	// A prune killed once the two backups were deleted, before their
	// blobs: the next prune finds the blob no backup needs, and keeps it
	// while it is younger than the grace period (a running backup's).
	for _, n := range names[:2] {
		if err := d.Delete(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	young, err := d.Prune(ctx, storage.PruneOptions{Policy: storage.Policy{Last: 5}, Grace: 24 * time.Hour, Now: time.Now(), Stack: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	if young.Blobs[0].Deleted != 0 || young.Blobs[0].Young != 1 || young.Blobs[0].Kept != 2 {
		t.Errorf("a prune judged %+v, want the unneeded blob kept as young and two needed", young.Blobs[0])
	}
	rep, err = d.Prune(ctx, storage.PruneOptions{Policy: storage.Policy{Last: 5}, Now: later, Grace: 24 * time.Hour, Stack: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs[0].Deleted != 1 || rep.Blobs[0].Kept != 2 {
		t.Errorf("the next prune did %+v, want the unneeded blob deleted", rep.Blobs[0])
	}
	if got := blobObjects(t, d, "fake"); len(got) != 2 {
		t.Errorf("%d blobs left, want 2", len(got))
	}
	if got := verifyBackup(t, d, names[2]); got["f1"] != "two" || got["f2"] != "three" {
		t.Errorf("the kept backup reads back as %s", digest(got))
	}
}

// blobListRefused is a remote whose blob listing fails: it can take an
// archive, but cannot say which blobs it holds.
type blobListRefused struct{ fs.Fs }

func (f blobListRefused) List(ctx context.Context, dir string) (fs.DirEntries, error) {
	if strings.HasPrefix(dir, "blobs") {
		return nil, errors.New("injected: listing refused")
	}
	return f.Fs.List(ctx, dir)
}

// TestDestinationThatCannotListItsBlobsIsOutOfTheRunWithFakes: what each
// destination holds is listed while the database is dumped; one that
// cannot say is dropped from the upload, named in the result, and left
// without a backup, while the other commits.
func TestDestinationThatCannotListItsBlobsIsOutOfTheRunWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg, d := openMemory(t, config.Retention{KeepLast: 100}, nil)
	cfg.Stack.Volumes = []string{"appwrite-uploads"}
	remote2 := remotetest.Memory(t)
	cfg.Destinations = append(cfg.Destinations, config.Destination{Name: "mem2", Remote: remote2, Retention: config.Retention{KeepLast: 100}})
	d2, err := storage.Open(ctx, remote.Options{Name: "mem2", Remote: remote2, WrapFs: func(f fs.Fs) fs.Fs { return blobListRefused{f} }})
	if err != nil {
		t.Fatal(err)
	}
	vol := newFakeVolume()
	vol.write("bucket/a.bin", strings.Repeat("a", 5000))
	eng := &volumeEngine{fakeEngine: fakeEngine{Project: "fake", Rows: 3}, vol: vol}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	res, err := Run(ctx, eng, cfg, []*storage.Destination{d, d2}, Options{Now: func() time.Time { return at }})
	var partial *PartialError
	if !errors.As(err, &partial) || len(partial.Failed) != 1 || partial.Failed[0].Name != "mem2" || !strings.Contains(partial.Failed[0].Err.Error(), "listing what the destination holds") {
		t.Fatalf("run: %v, want mem2 alone failed for its blob listing", err)
	}
	if got, want := verifyBackup(t, d, res.Name), vol.contents(); !mapsEqual(got, want) {
		t.Errorf("the healthy destination's backup reads back as %s, want %s", digest(got), digest(want))
	}
	if names := listedNames(t, d2); len(names) != 0 {
		t.Errorf("the destination that failed lists backups %q", names)
	}

	// With no destination able to say, the run fails as having none.
	_, err = Run(ctx, eng, cfg, []*storage.Destination{d2}, Options{Now: func() time.Time { return at.Add(time.Minute) }})
	if !errors.Is(err, storage.ErrNoDestination) {
		t.Errorf("with every destination failing its listing: %v, want ErrNoDestination", err)
	}
}
