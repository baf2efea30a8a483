package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// conformance runs fn against every destination kind.
func conformance(t *testing.T, fn func(t *testing.T, where string)) {
	remotetest.Conformance(t, fn)
}

func open(t *testing.T, name, where string, wrap func(fs.Fs) fs.Fs) *Destination {
	t.Helper()
	d, err := Open(context.Background(), remote.Options{Name: name, Remote: where, WrapFs: wrap})
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
func upload(t *testing.T, dests []*Destination, name string, data []byte) []remote.UploadResult {
	t.Helper()
	u := NewUpload(context.Background(), dests, name)
	_ = remotetest.WriteUneven(u, data) // a failed write shows in the results
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

// The archive's own round trip (streamed up, read back whole) is
// remote's TestUploadListReadDelete; this is the commit's.
func TestUploadCommitListDelete(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		d := open(t, "dest", where, nil)
		if got, err := d.List(ctx); err != nil || len(got) != 0 {
			t.Fatalf("fresh destination lists %v, %v", got, err)
		}
		data := payload(64<<10 + 12345)
		name := archive.ObjectName("appwrite", when, false)
		res := upload(t, []*Destination{d}, name, data)
		if res[0].Err != nil || res[0].Size != int64(len(data)) || res[0].SHA256 != sha(data) {
			t.Fatalf("upload result %+v", res[0])
		}
		list, err := d.List(ctx)
		if err != nil || len(list) != 1 || list[0].Name != name || list[0].Size != int64(len(data)) || !list[0].Time.Equal(when) {
			t.Fatalf("list = %+v, %v", list, err)
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
		l, err := d.ListAll(ctx)
		if err != nil || len(l.Complete) != 0 || len(l.Leftovers) != 0 {
			t.Fatalf("after delete: %+v, %v", l, err)
		}
	})
}

func TestOnlyCommittedBackupsAreListed(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		d := open(t, "dest", where, nil)
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

		l, err := d.ListAll(ctx)
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
		fault remotetest.Fault
	}{{"fails", remotetest.FailAfter}, {"truncates silently", remotetest.Truncate}} {
		t.Run(fault.name, func(t *testing.T) {
			conformance(t, func(t *testing.T, where string) {
				ctx := context.Background()
				good := open(t, "good", t.TempDir(), nil)
				wrap, faulty := remotetest.Wrap(fault.fault, 1<<20)
				bad := open(t, "bad", where, wrap)
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
				if l, err := bad.ListAll(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
					t.Errorf("bad destination holds %+v (%v); its partial object must be deleted", l, err)
				}
				if l, err := good.List(ctx); err != nil || len(l) != 1 {
					t.Errorf("good destination lists %v, %v", l, err)
				}
			})
		})
	}
}

func TestCatalogAndChoose(t *testing.T) {
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
		got, err := chooseAmong(entries, tt.name, tt.before)
		if tt.err {
			if !errors.Is(err, ErrNoBackup) {
				t.Errorf("chooseAmong(%q, %v): got %v, want ErrNoBackup", tt.name, tt.before, err)
			}
			continue
		}
		if err != nil || got.Name != tt.want {
			t.Errorf("chooseAmong(%q, %v) = %s, %v; want %s", tt.name, tt.before, got.Name, err, tt.want)
		}
	}
}

// TestASidecarWrittenAgainIsReadAgain: a listing reads each sidecar once for
// the Destination's life, but one written again since (damaged, or
// rewritten by hand to the same size) is read again, not taken from what
// the last listing read.
func TestASidecarWrittenAgainIsReadAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := open(t, "dest", dir, nil)
	data := payload(4096)
	name := archive.ObjectName("appwrite", when, false)
	upload(t, []*Destination{d}, name, data)
	l, err := d.ListAll(ctx)
	if err != nil || len(l.Complete) != 1 || l.Complete[0].Manifest.Host != "" {
		t.Fatalf("listing: %+v, %v", l, err)
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
	l, err = d.ListAll(ctx)
	if err != nil || len(l.Complete) != 1 || l.Complete[0].Manifest.Host != "rewritten" {
		t.Fatalf("listing after the sidecar was written again: %+v, %v", l, err)
	}
}
