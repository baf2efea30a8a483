package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/storage/storagetest"
)

// kinds are the destination kinds every conformance test runs against:
// the local backend, rclone's in-memory one (the store of the fakes), and
// rclone's own servers started in-process.
var kinds = []struct {
	name   string
	remote func(t *testing.T) string
}{
	{"local", func(t *testing.T) string { return t.TempDir() }},
	{"memory", func(t *testing.T) string { return storagetest.Memory(t) }},
	{"sftp", func(t *testing.T) string { return storagetest.StartSFTP(t, t.TempDir()) }},
	{"webdav", func(t *testing.T) string { return storagetest.StartWebDAV(t, t.TempDir(), false) }},
	{"s3", func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "drbackups"), 0o755); err != nil {
			t.Fatal(err)
		}
		return storagetest.StartS3(t, dir)
	}},
}

// conformance runs fn against every destination kind.
func conformance(t *testing.T, fn func(t *testing.T, remote string)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { fn(t, k.remote(t)) })
	}
}

func open(t *testing.T, name, remote string, wrap func(fs.Fs) fs.Fs) *Destination {
	t.Helper()
	d, err := Open(context.Background(), Options{Name: name, Remote: remote, WrapFs: wrap})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var when = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// upload streams data to dests in uneven writes and commits where it
// verified; it returns the results.
func upload(t *testing.T, dests []*Destination, name string, data []byte) []UploadResult {
	t.Helper()
	u := NewUpload(context.Background(), dests, name)
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+(off%70000))
		if _, err := u.Write(data[off : off+n]); err != nil {
			break
		}
		off += n
	}
	_ = u.Close()
	res := u.Results()
	for i, r := range res {
		if r.Err == nil {
			m := sidecarFor(name, r.Size, r.SHA256)
			if err := dests[i].Commit(context.Background(), m); err != nil {
				t.Fatalf("commit on %s: %v", r.Destination, err)
			}
		}
	}
	return res
}

func sidecarFor(name string, size int64, sum string) *archive.Manifest {
	return &archive.Manifest{Format: archive.FormatVersion, Stack: "appwrite", Name: name, Status: archive.StatusComplete,
		Object: &archive.ObjectInfo{Size: size, SHA256: sum}}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestUploadCommitListReadDelete(t *testing.T) {
	conformance(t, func(t *testing.T, remote string) {
		ctx := context.Background()
		d := open(t, "dest", remote, nil)
		if got, err := d.List(ctx); err != nil || len(got) != 0 {
			t.Fatalf("fresh destination lists %v, %v", got, err)
		}
		data := payload(3<<20 + 12345)
		name := archive.ObjectName("appwrite", when, false)
		res := upload(t, []*Destination{d}, name, data)
		if res[0].Err != nil || res[0].Size != int64(len(data)) || res[0].SHA256 != sha(data) {
			t.Fatalf("upload result %+v", res[0])
		}
		list, err := d.List(ctx)
		if err != nil || len(list) != 1 || list[0].Name != name || list[0].Size != int64(len(data)) || !list[0].Time.Equal(when) {
			t.Fatalf("list = %+v, %v", list, err)
		}
		rc, err := d.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("read back %d bytes (%v), want the %d uploaded", len(back), err, len(data))
		}
		if _, err := d.ReadSidecar(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := d.Commit(ctx, sidecarFor(name, int64(len(data)), sha(data))); err == nil || !strings.Contains(err.Error(), "never overwrites") {
			t.Errorf("second commit: got %v, want a refusal", err)
		}
		if err := d.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
		l, err := d.Scan(ctx)
		if err != nil || len(l.Complete) != 0 || len(l.Leftovers) != 0 {
			t.Fatalf("after delete: %+v, %v", l, err)
		}
	})
}

func TestOnlyCommittedBackupsAreListed(t *testing.T) {
	conformance(t, func(t *testing.T, remote string) {
		ctx := context.Background()
		d := open(t, "dest", remote, nil)
		data := payload(1000)
		names := map[string]string{}
		for i, kind := range []string{"complete", "no-sidecar", "bad-json", "lying-size", "orphan-sidecar"} {
			names[kind] = archive.ObjectName("appwrite", when.Add(time.Duration(i)*time.Hour), false)
		}
		upload(t, []*Destination{d}, names["complete"], data)
		for _, kind := range []string{"no-sidecar", "bad-json", "lying-size"} {
			u := NewUpload(ctx, []*Destination{d}, names[kind])
			u.Write(data)
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
		}
		put := func(name string, body []byte) {
			u := NewUpload(ctx, []*Destination{d}, name)
			u.Write(body)
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
		}
		put(archive.SidecarName(names["bad-json"]), []byte("{not json"))
		lying, _ := sidecarFor(names["lying-size"], 999999, sha(data)).Marshal()
		put(archive.SidecarName(names["lying-size"]), lying)
		orphan, _ := sidecarFor(names["orphan-sidecar"], 1000, sha(data)).Marshal()
		put(archive.SidecarName(names["orphan-sidecar"]), orphan)
		put("notes.txt", []byte("not dr's"))

		l, err := d.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Complete) != 1 || l.Complete[0].Name != names["complete"] {
			t.Errorf("complete = %+v, want only %s", l.Complete, names["complete"])
		}
		kinds := map[string]string{}
		for _, lo := range l.Leftovers {
			kinds[lo.Name] = lo.Kind
		}
		want := map[string]string{
			names["no-sidecar"]:                          ArchiveWithoutSidecar,
			archive.SidecarName(names["bad-json"]):       InvalidSidecar,
			archive.SidecarName(names["lying-size"]):     InvalidSidecar,
			archive.SidecarName(names["orphan-sidecar"]): SidecarWithoutArchive,
		}
		for k, v := range want {
			if kinds[k] != v {
				t.Errorf("leftover %s: kind %q, want %q (all: %v)", k, kinds[k], v, kinds)
			}
		}
		if len(kinds) != len(want) {
			t.Errorf("leftovers %v, want %v (foreign files are ignored)", kinds, want)
		}
	})
}

func TestOneFailingDestinationLeavesTheOtherComplete(t *testing.T) {
	for _, fault := range []struct {
		name  string
		fault storagetest.Fault
	}{{"fails", storagetest.FailAfter}, {"truncates silently", storagetest.Truncate}} {
		t.Run(fault.name, func(t *testing.T) {
			conformance(t, func(t *testing.T, remote string) {
				ctx := context.Background()
				good := open(t, "good", t.TempDir(), nil)
				wrap, faulty := storagetest.Wrap(fault.fault, 1<<20)
				bad := open(t, "bad", remote, wrap)
				data := payload(4 << 20)
				name := archive.ObjectName("appwrite", when, false)
				res := upload(t, []*Destination{good, bad}, name, data)
				if faulty.Fired.Load() == 0 {
					t.Fatal("the fault never fired")
				}
				if res[0].Err != nil || res[0].SHA256 != sha(data) {
					t.Errorf("good destination: %+v", res[0])
				}
				if res[1].Err == nil {
					t.Fatalf("bad destination passed: %+v", res[1])
				}
				if l, err := bad.Scan(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
					t.Errorf("bad destination holds %+v (%v); its partial object must be deleted", l, err)
				}
				if l, err := good.List(ctx); err != nil || len(l) != 1 {
					t.Errorf("good destination lists %v, %v", l, err)
				}
			})
		})
	}
}

func TestCancelLeavesNothing(t *testing.T) {
	conformance(t, func(t *testing.T, remote string) {
		wrap, _ := storagetest.Wrap(storagetest.Stall, 256<<10)
		d := open(t, "dest", remote, wrap)
		ctx, cancel := context.WithCancel(context.Background())
		u := NewUpload(ctx, []*Destination{d}, archive.ObjectName("appwrite", when, false))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := payload(64 << 10)
			for {
				if _, err := u.Write(data); err != nil {
					return
				}
			}
		}()
		time.Sleep(200 * time.Millisecond) // let the stall begin; the assertion is not about time
		cancel()
		wg.Wait()
		u.Abort(context.Background())
		if l, err := d.Scan(context.Background()); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
			t.Errorf("after cancel the destination holds %+v (%v)", l, err)
		}
	})
}

func TestUploadMemoryIsBounded(t *testing.T) {
	d := open(t, "dest", t.TempDir(), nil)
	u := NewUpload(context.Background(), []*Destination{d}, archive.ObjectName("appwrite", when, false))
	// What the upload holds is the live heap after a collection, above what
	// was live before it started: heap in use counts garbage that other
	// tests of the package left, and made this test fail only beside them.
	live := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := live()
	var peak uint64
	block := payload(1 << 20)
	for i := 0; i < 200; i++ {
		if _, err := u.Write(block); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			peak = max(peak, live())
		}
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if held := int64(peak) - int64(base); held > 48<<20 {
		t.Errorf("the upload held %d MiB of live heap streaming 200 MiB", held>>20)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "broken.conf")
	os.WriteFile(malformed, []byte("[gdrive\ntype = drive\n"), 0o600)
	good := filepath.Join(dir, "rclone.conf")
	os.WriteFile(good, []byte("[box]\ntype = local\n[weird]\ntype = no-such-backend\n"), 0o600)
	tests := []struct {
		name, remote, config, want string
	}{
		{"unknown remote", "gdrive:appwrite", good, `remote "gdrive" is not defined in ` + good},
		{"unknown backend", "weird:x", good, "no-such-backend"},
		{"missing config file", "box:x", filepath.Join(dir, "nope.conf"), "nope.conf"},
		{"malformed config", "box:x", malformed, "is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), Options{Name: "offsite", Remote: tt.remote, RcloneConfig: tt.config})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"offsite"`) {
				t.Errorf("got %v, want an error naming the destination and %q", err, tt.want)
			}
		})
	}
	// A good config works, and its remote is reachable.
	d, err := Open(context.Background(), Options{Name: "box", Remote: "box:" + dir, RcloneConfig: good})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	// And RCLONE_CONFIG_* environment remotes too.
	t.Setenv("RCLONE_CONFIG_ENVBOX_TYPE", "local")
	if _, err := Open(context.Background(), Options{Name: "env", Remote: "envbox:" + dir, RcloneConfig: good}); err != nil {
		t.Errorf("environment-defined remote: %v", err)
	}
}

func TestCatalogAndSelect(t *testing.T) {
	ctx := context.Background()
	a := open(t, "a", t.TempDir(), nil)
	b := open(t, "b", t.TempDir(), nil)
	older := archive.ObjectName("appwrite", when, false)
	newer := archive.ObjectName("appwrite", when.Add(time.Hour), false)
	upload(t, []*Destination{a, b}, older, payload(10))
	upload(t, []*Destination{a}, newer, payload(20))
	entries, err := Catalog(ctx, []*Destination{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Name != newer || len(entries[1].Destinations) != 2 {
		t.Fatalf("catalog = %+v", entries)
	}
	tests := []struct {
		name   string
		before time.Time
		want   string
		err    bool
	}{
		{"", time.Time{}, newer, false},
		{older, time.Time{}, older, false},
		{"", when.Add(30 * time.Minute), older, false},
		{"", when, "", true},
		{"nope.tar.zst", time.Time{}, "", true},
	}
	for _, tt := range tests {
		got, err := Select(entries, tt.name, tt.before)
		if tt.err {
			if !errors.Is(err, ErrNoBackup) {
				t.Errorf("Select(%q, %v): got %v, want ErrNoBackup", tt.name, tt.before, err)
			}
			continue
		}
		if err != nil || got.Name != tt.want {
			t.Errorf("Select(%q, %v) = %s, %v; want %s", tt.name, tt.before, got.Name, err, tt.want)
		}
	}
}

func BenchmarkUploadLocal(b *testing.B) {
	block := payload(1 << 20)
	const total = 128
	b.Run("plain-file-copy-baseline", func(b *testing.B) {
		b.SetBytes(total << 20)
		for i := 0; i < b.N; i++ {
			f, _ := os.Create(filepath.Join(b.TempDir(), "x"))
			for j := 0; j < total; j++ {
				f.Write(block)
			}
			f.Close()
		}
	})
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(total << 20)
		for i := 0; i < b.N; i++ {
			d, _ := Open(context.Background(), Options{Name: "bench", Remote: b.TempDir()})
			u := NewUpload(context.Background(), []*Destination{d}, archive.ObjectName("appwrite", when, false))
			for j := 0; j < total; j++ {
				u.Write(block)
			}
			if err := u.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestASidecarWrittenAgainIsReadAgain: a scan reads each sidecar once for
// the Destination's life, but one written again since (damaged, or
// rewritten by hand to the same size) is read again, not taken from what
// the last scan read.
func TestASidecarWrittenAgainIsReadAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := open(t, "dest", dir, nil)
	data := payload(4096)
	name := archive.ObjectName("appwrite", when, false)
	upload(t, []*Destination{d}, name, data)
	l, err := d.Scan(ctx)
	if err != nil || len(l.Complete) != 1 || l.Complete[0].Manifest.Host != "" {
		t.Fatalf("scan: %+v, %v", l, err)
	}
	path := filepath.Join(dir, archive.SidecarName(name))
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := sidecarFor(name, int64(len(data)), sha(data))
	m.Host = "rewritten"
	after, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// The same size as before, so that only the time tells them apart.
	after = append(after, bytes.Repeat([]byte(" "), len(before)-len(after))...)
	if err := os.WriteFile(path, after, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	l, err = d.Scan(ctx)
	if err != nil || len(l.Complete) != 1 || l.Complete[0].Manifest.Host != "rewritten" {
		t.Fatalf("scan after the sidecar was written again: %+v, %v", l, err)
	}
}
