package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// blobStore is an in-memory destination's blobs.
type blobStore map[string][]byte

func (b blobStore) OpenBlob(_ context.Context, stack, name string) (io.ReadCloser, error) {
	data, ok := b[stack+"/"+name]
	if !ok {
		return nil, fmt.Errorf("blob %s: object not found", name)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// storedArchive makes a format 3 archive of one volume whose two files
// (one content twice, under two names) are blobs, and an empty file.
func storedArchive(t testing.TB, recipients []age.Recipient) ([]byte, *Manifest, blobStore) {
	t.Helper()
	key := []byte("0123456789abcdef0123456789abcdef")
	enc := NewBlobEncoder(0, recipients, t.TempDir())
	store := blobStore{}
	var sidecarBlobs []BlobObject
	put := func(content string) (string, string) {
		b, err := enc.Encode(strings.NewReader(content), int64(len(content)))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		data, _ := io.ReadAll(b.Reader())
		name := BlobName(key, b.ContentSHA256, enc.Encrypted())
		if _, ok := store["s/"+name]; !ok {
			store["s/"+name] = data
			sidecarBlobs = append(sidecarBlobs, BlobObject{Name: name, Size: b.Size})
		}
		return name, b.ContentSHA256
	}
	blobA, shaA := put("same bytes\n")
	_, shaB := put("same bytes\n")
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Recipients: recipients, ModTime: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	entries := []StoredEntry{
		{Header: &tar.Header{Typeflag: tar.TypeDir, Name: "", Mode: 0o755, ModTime: at}},
		{Header: &tar.Header{Typeflag: tar.TypeReg, Name: "a.txt", Mode: 0o644, ModTime: at}, Size: 11, SHA256: shaA, Blob: blobA},
		{Header: &tar.Header{Typeflag: tar.TypeReg, Name: "copy.txt", Mode: 0o600, ModTime: at}, Size: 11, SHA256: shaB, Blob: blobA},
		{Header: &tar.Header{Typeflag: tar.TypeReg, Name: "empty", Mode: 0o644, ModTime: at}, SHA256: emptyContentSHA256},
		{Header: &tar.Header{Typeflag: tar.TypeLink, Name: "hard", Linkname: "a.txt", ModTime: at}},
	}
	if _, err := w.AddStoredVolume("uploads", entries); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Name: "s-20261125T080000Z.tar.zst", Stack: "s"}
	if len(recipients) > 0 {
		m.Name += ".age"
	}
	if err := w.Close(m); err != nil {
		t.Fatal(err)
	}
	sidecar := *m
	sidecar.Status = StatusComplete
	sidecar.Blobs = sidecarBlobs
	return buf.Bytes(), &sidecar, store
}

const emptyContentSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestReaderReadsBlobsAndChecksThem(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			var recipients []age.Recipient
			var ids []age.Identity
			if encrypted {
				recipients, ids = []age.Recipient{id.Recipient()}, []age.Identity{id}
			}
			data, sidecar, store := storedArchive(t, recipients)
			opts := ReaderOptions{Identities: ids, Blobs: store}
			rep, err := Verify(context.Background(), bytes.NewReader(data), sidecar, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Blobs != 2 {
				t.Errorf("read %d files from blobs, want 2", rep.Blobs)
			}
			if len(store) != 1 {
				t.Errorf("one content under two names made %d blobs", len(store))
			}
			var blob string
			for k := range store {
				blob = k
			}

			// What the restore sees: each file's header with the
			// content's size, and the content.
			plain, done, err := Decompress(bytes.NewReader(data), encrypted, ids)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			ar := NewReader(context.Background(), plain, sidecar, opts)
			got := map[string]string{}
			for {
				item, err := ar.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if item.Kind != ItemVolume || item.Header.Typeflag != tar.TypeReg {
					continue
				}
				body, err := io.ReadAll(ar)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(body)) != item.Header.Size {
					t.Errorf("%s: header says %d bytes, read %d", item.Rel, item.Header.Size, len(body))
				}
				got[item.Rel] = string(body)
			}
			if got["a.txt"] != "same bytes\n" || got["copy.txt"] != "same bytes\n" || got["empty"] != "" {
				t.Errorf("read %q", got)
			}

			for _, tc := range []struct {
				name    string
				damage  func(store blobStore, sidecar *Manifest)
				wantErr string
			}{
				{"a blob's stored bytes flipped", func(s blobStore, _ *Manifest) {
					b := append([]byte(nil), s[blob]...)
					b[len(b)-3] ^= 0xff
					s[blob] = b
				}, "blob"},
				{"a blob gone", func(s blobStore, _ *Manifest) { delete(s, blob) }, "not found"},
				{"a blob's stored bytes flipped, the sidecar naming their sha256 (as the first format 3 sidecars do)", func(s blobStore, m *Manifest) {
					m.Blobs[0].SHA256 = fmt.Sprintf("%x", sha256.Sum256(s[blob]))
					b := append([]byte(nil), s[blob]...)
					b[len(b)-3] ^= 0xff
					s[blob] = b
				}, "blob"},
				{"the sidecar's size of the blob differs", func(_ blobStore, m *Manifest) { m.Blobs[0].Size++ }, "damaged"},
				{"the sidecar's sha256 of the blob differs", func(_ blobStore, m *Manifest) { m.Blobs[0].SHA256 = strings.Repeat("0", 64) }, "damaged"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s := blobStore{}
					for k, v := range store {
						s[k] = v
					}
					m := *sidecar
					m.Blobs = append([]BlobObject(nil), sidecar.Blobs...)
					tc.damage(s, &m)
					_, err := Verify(context.Background(), bytes.NewReader(data), &m, ReaderOptions{Identities: ids, Blobs: s})
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "volumes/uploads/a.txt") {
						t.Errorf("err = %v, want one naming the file and saying %q", err, tc.wantErr)
					}
				})
			}
		})
	}
}

func TestReaderRefusesABlobInAnOlderFormat(t *testing.T) {
	data, sidecar, store := storedArchive(t, nil)
	old := *sidecar
	old.Format = 2
	_, err := Verify(context.Background(), bytes.NewReader(data), &old, ReaderOptions{Blobs: store})
	if err == nil || !strings.Contains(err.Error(), "format 3") {
		t.Errorf("err = %v", err)
	}
}

func TestBlobNames(t *testing.T) {
	key := []byte("k")
	sha := emptyContentSHA256
	name := BlobName(key, sha, true)
	if err := CheckBlobName(name); err != nil || !BlobEncrypted(name) {
		t.Errorf("%s: %v", name, err)
	}
	if strings.Contains(name, sha) || strings.Contains(name, sha[:16]) {
		t.Error("the blob name shows the content's sha256")
	}
	if BlobName([]byte("other"), sha, true) == name {
		t.Error("another key gives the same name")
	}
	for _, bad := range []string{"", "x.zst", "../" + name, strings.ToUpper(name[:64]) + BlobSuffix, name[:64] + ".zip", name[:64] + "/" + BlobSuffix} {
		if CheckBlobName(bad) == nil {
			t.Errorf("%q accepted as a blob name", bad)
		}
	}
}

// FuzzStoredVolumeReader: an archive comes from a remote anyone with its credentials
// can write; whatever it holds, the reader never panics, and a content it
// hands out whole is the one the manifest lists.
func FuzzStoredVolumeReader(f *testing.F) {
	data, sidecar, store := storedArchive(f, nil)
	plain, done, err := Decompress(bytes.NewReader(data), false, nil)
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := io.ReadAll(plain)
	done()
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add([]byte{})
	want := map[string]string{}
	for _, e := range sidecar.Entries {
		want[e.Name] = e.SHA256
	}
	f.Fuzz(func(t *testing.T, tarData []byte) {
		ar := NewReader(context.Background(), bytes.NewReader(tarData), sidecar, ReaderOptions{Blobs: store})
		defer ar.Close()
		for range 100 {
			item, err := ar.Next()
			if err != nil {
				return
			}
			if _, ok := want[item.Name]; !ok && item.Kind != ItemDumpChunk {
				t.Fatalf("item %s is not in the manifest", item.Name)
			}
			if _, err := io.Copy(io.Discard, io.LimitReader(ar, 1<<20)); err != nil {
				continue
			}
		}
	})
}
