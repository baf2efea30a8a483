package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"
)

// volEntry is one entry of a volume tar as the engine's archive endpoint
// makes it.
type volEntry struct {
	typ      byte
	name     string
	body     string
	link     string
	mode     int64
	uid, gid int
}

// sampleVolume has every kind of entry a volume restore must get right.
var sampleVolume = []volEntry{
	{typ: tar.TypeDir, name: "volume/", mode: 0o755},
	{typ: tar.TypeDir, name: "volume/app-console/", mode: 0o750, uid: 33, gid: 33},
	{typ: tar.TypeReg, name: "volume/app-console/résumé 履歴書.txt", body: "ünïcødé\n", mode: 0o644, uid: 33, gid: 33},
	{typ: tar.TypeReg, name: "volume/app-console/private.txt", body: "secret\n", mode: 0o600, uid: 1000, gid: 1000},
	{typ: tar.TypeSymlink, name: "volume/app-console/latest", link: "private.txt", mode: 0o777},
	{typ: tar.TypeLink, name: "volume/app-console/again.txt", link: "volume/app-console/private.txt", mode: 0o600},
	{typ: tar.TypeDir, name: "volume/empty/", mode: 0o700},
	{typ: tar.TypeFifo, name: "volume/pipe", mode: 0o644},
}

func engineVolumeTar(t testing.TB, entries []volEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode, Uid: e.uid, Gid: e.gid, Size: int64(len(e.body)), ModTime: fixedTime}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAddVolumeKeepsEveryKindOfEntry(t *testing.T) {
	data, sidecar := build(t, WriterOptions{}, testDump)
	if _, err := Verify(context.Background(), bytes.NewReader(data), sidecar, ReaderOptions{}); err != nil {
		t.Fatalf("an archive with a volume does not verify: %v", err)
	}
	v := sidecar.Volumes[0]
	if v.Files != 3 || v.Dirs != 3 || v.Bytes != int64(len("ünïcødé\n")+len("secret\n")) {
		t.Errorf("volume summary %+v, want 3 files (one a hard link), 3 dirs, the two files' bytes", v)
	}
	got := map[string]Entry{}
	for _, e := range sidecar.Entries {
		got[e.Name] = e
	}
	want := []Entry{
		{Name: "volumes/appwrite-uploads/", Kind: KindDir, Mode: 0o755},
		{Name: "volumes/appwrite-uploads/app-console/private.txt", Kind: KindFile, Mode: 0o600, UID: 1000, GID: 1000, Size: 7},
		{Name: "volumes/appwrite-uploads/app-console/latest", Kind: KindSymlink, Mode: 0o777, Link: "private.txt"},
		{Name: "volumes/appwrite-uploads/app-console/again.txt", Kind: KindHardlink, Mode: 0o600, Link: "volumes/appwrite-uploads/app-console/private.txt"},
		{Name: "volumes/appwrite-uploads/empty/", Kind: KindDir, Mode: 0o700},
	}
	for _, w := range want {
		g, ok := got[w.Name]
		g.SHA256 = ""
		if !ok || g != w {
			t.Errorf("entry %s = %+v, want %+v", w.Name, g, w)
		}
	}
	if _, ok := got["volumes/appwrite-uploads/pipe"]; ok {
		t.Error("a fifo was archived")
	}
}

func TestAddVolumeSkipsDevicesAndFifos(t *testing.T) {
	w, err := NewWriter(&bytes.Buffer{}, WriterOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.AddVolume(context.Background(), "v", VolumeRoot, bytes.NewReader(engineVolumeTar(t, sampleVolume)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0] != "volumes/v/pipe" {
		t.Errorf("skipped %v, want the fifo", res.Skipped)
	}
}

func TestAddVolumeRefusesEntriesOutsideTheVolume(t *testing.T) {
	for name, entries := range map[string][]volEntry{
		"dot-dot":          {{typ: tar.TypeReg, name: "volume/../etc/passwd", body: "x"}},
		"absolute":         {{typ: tar.TypeReg, name: "/etc/passwd", body: "x"}},
		"other root":       {{typ: tar.TypeReg, name: "other/file", body: "x"}},
		"hard link out":    {{typ: tar.TypeLink, name: "volume/l", link: "etc/shadow"}},
		"hard link dotdot": {{typ: tar.TypeLink, name: "volume/l", link: "volume/../x"}},
	} {
		t.Run(name, func(t *testing.T) {
			w, err := NewWriter(&bytes.Buffer{}, WriterOptions{Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.AddVolume(context.Background(), "v", VolumeRoot, bytes.NewReader(engineVolumeTar(t, entries))); err == nil {
				t.Error("accepted an entry outside the volume")
			}
		})
	}
}

func TestAddVolumeRefusesBadVolumeNames(t *testing.T) {
	for _, name := range []string{"", "..", "a/b", "/abs"} {
		w, _ := NewWriter(&bytes.Buffer{}, WriterOptions{Concurrency: 1})
		if _, err := w.AddVolume(context.Background(), name, VolumeRoot, strings.NewReader("")); err == nil {
			t.Errorf("volume name %q accepted", name)
		}
	}
}

// FuzzAddVolume feeds arbitrary bytes as the engine's volume stream: no
// panic, and whatever is accepted makes an archive that verifies.
func FuzzAddVolume(f *testing.F) {
	f.Add(engineVolumeTar(f, sampleVolume))
	f.Add(engineVolumeTar(f, []volEntry{{typ: tar.TypeReg, name: "volume/../x", body: "x"}}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{Concurrency: 1, ModTime: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddVolume(context.Background(), "v", VolumeRoot, bytes.NewReader(in)); err != nil {
			return
		}
		m := &Manifest{Tool: "fuzz", Stack: "s", Name: "s-20261125T080000Z.tar.zst"}
		if err := w.Close(m); err != nil {
			t.Fatal(err)
		}
		for _, e := range m.Entries {
			if !strings.HasPrefix(e.Name, "volumes/v/") || checkName(strings.TrimSuffix(e.Name, "/")) != nil {
				t.Fatalf("archived %q from a volume stream", e.Name)
			}
		}
		if _, err := Verify(context.Background(), bytes.NewReader(buf.Bytes()), m, ReaderOptions{}); err != nil {
			t.Fatalf("an accepted volume stream makes an archive that does not verify: %v", err)
		}
	})
}
