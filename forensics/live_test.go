package forensics

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"reflect"
	"testing"

	"github.com/appwrite-dr/dr/archive"
)

// volumeTar is a volume's tar stream as the engine's archive endpoint
// makes it: everything under "volume/".
func volumeTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Typeflag: tar.TypeDir, Name: "volume/", Mode: 0o40755, Uid: 33, Gid: 33}, "")
	add(&tar.Header{Typeflag: tar.TypeDir, Name: "volume/a/", Mode: 0o750, Uid: 33, Gid: 33}, "")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "volume/a/f.txt", Mode: 0o100600, Uid: 33, Gid: 33}, "hello\n")
	add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "volume/latest", Linkname: "a/f.txt", Mode: 0o777}, "")
	add(&tar.Header{Typeflag: tar.TypeLink, Name: "volume/a/hard", Linkname: "volume/a/f.txt", Mode: 0o600}, "")
	add(&tar.Header{Typeflag: tar.TypeFifo, Name: "volume/a/pipe", Mode: 0o600}, "")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHashTar(t *testing.T) {
	got, err := HashTar(context.Background(), bytes.NewReader(volumeTar(t)), archive.VolumeRoot)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]FileState{
		"":        {Kind: "dir", Mode: 0o755, UID: 33, GID: 33},
		"a":       {Kind: "dir", Mode: 0o750, UID: 33, GID: 33},
		"a/f.txt": {Kind: "file", Mode: 0o600, UID: 33, GID: 33, SHA256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
		"latest":  {Kind: "symlink", Link: "a/f.txt", Mode: 0o777},
		"a/hard":  {Kind: "hardlink", Link: "a/f.txt", Mode: 0o600},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestHashTarRefusesEntriesOutsideTheVolume(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "elsewhere/", Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	if _, err := HashTar(context.Background(), &buf, archive.VolumeRoot); err == nil {
		t.Error("an entry outside volume/ was accepted")
	}
}

// The live side and a backup's manifest describe the same volume the same
// way: a volume captured by the archive writer and the same stream hashed
// as live compare equal.
func TestLiveAndManifestAgreeOnAVolume(t *testing.T) {
	stream := volumeTar(t)
	aw, err := archive.NewWriter(io.Discard, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aw.AddVolume(context.Background(), "uploads", archive.VolumeRoot, bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	m := &archive.Manifest{Name: "b", Volumes: []archive.Volume{{Name: "uploads"}}}
	if err := aw.Close(m); err != nil {
		t.Fatal(err)
	}
	live, err := HashTar(context.Background(), bytes.NewReader(stream), archive.VolumeRoot)
	if err != nil {
		t.Fatal(err)
	}
	r := Compare(FromManifest(m), &Snapshot{Label: LiveLabel, Volumes: map[string]map[string]FileState{"uploads": live}})
	if !r.Empty() {
		t.Errorf("the same volume differs: %+v", r.Volumes)
	}
}

// stackArchive is a small plain archive holding stack files, a dump-less
// manifest after them.
func stackArchive(t testing.TB, files map[string]string) ([]byte, *archive.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	aw, err := archive.NewWriter(&buf, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docker-compose.yml", ".env"} {
		body, ok := files[name]
		if !ok {
			continue
		}
		if err := aw.AddFile(archive.FileHeader{Name: archive.ComposePrefix + name, Size: int64(len(body)), Mode: 0o600}, bytes.NewReader([]byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	m := &archive.Manifest{Name: "b", Stack: "s"}
	if err := aw.Close(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

func TestReadStackFiles(t *testing.T) {
	data, m := stackArchive(t, map[string]string{"docker-compose.yml": "services: {}\n", ".env": "A=secret\n"})
	got, err := ReadStackFiles(context.Background(), bytes.NewReader(data), m, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Files, map[string][]byte{"docker-compose.yml": []byte("services: {}\n")}) || got.Env["A"] != "secret" {
		t.Errorf("got files %q, env keys %d", got.Files, len(got.Env))
	}
	if _, err := ReadStackFiles(context.Background(), bytes.NewReader(data), m, true, nil); err == nil {
		t.Error("an encrypted read without identities passed")
	}
}

// FuzzReadStackFiles: an archive comes from a remote anyone with its
// credentials can write; no input may panic, and .env never lands among
// the files shown line by line.
func FuzzReadStackFiles(f *testing.F) {
	seed, m := stackArchive(f, map[string]string{"docker-compose.yml": "x: 1\n", ".env": "A=1\n"})
	f.Add(seed)
	broken, _ := stackArchive(f, map[string]string{".env": "broken line\n"})
	f.Add(broken)
	f.Add([]byte("not zstd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadStackFiles(context.Background(), bytes.NewReader(data), m, false, nil)
		if err != nil {
			return
		}
		if got.Env != nil && got.EnvErr != nil {
			t.Fatal("both a parsed .env and an error")
		}
		if _, ok := got.Files[".env"]; ok {
			t.Fatal(".env read as a stack file")
		}
	})
}
