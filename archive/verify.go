package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// maxManifestSize bounds what is read of a manifest entry or sidecar.
const maxManifestSize = 64 << 20

// ErrNoIdentity says none of the given keys can decrypt an archive.
var ErrNoIdentity = errors.New("no identity matches the archive's recipients: pass --identity FILE (the age identity or SSH private key) or set DR_IDENTITY")

// Report is what a full verification checked.
type Report struct {
	Entries      int
	Chunks       int
	DumpBytes    int64
	ObjectSize   int64
	ObjectSHA256 string
}

// Decompress opens the archive stream for reading its tar entries,
// decrypting when encrypted. The returned closer releases the decoder.
func Decompress(r io.Reader, encrypted bool, ids []age.Identity) (io.Reader, func(), error) {
	if encrypted {
		if len(ids) == 0 {
			return nil, nil, ErrNoIdentity
		}
		dec, err := age.Decrypt(r, ids...)
		if err != nil {
			var noMatch *age.NoIdentityMatchError
			if errors.As(err, &noMatch) {
				return nil, nil, ErrNoIdentity
			}
			return nil, nil, fmt.Errorf("decrypting the archive: %w", err)
		}
		r = dec
	}
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the zstd stream: %w", err)
	}
	return zr, zr.Close, nil
}

// Verify reads a whole archive stream and checks it against its sidecar:
// every entry present once with its size and sha256, the dump chunks in
// order, manifest.json last and in agreement, nothing else, every layer
// intact to its end, and the object's size and sha256 when the sidecar has
// them. Errors name the entry and what is wrong.
func Verify(ctx context.Context, r io.Reader, sidecar *Manifest, ids []age.Identity) (*Report, error) {
	obj := &hashingReader{r: r, h: sha256.New()}
	encrypted := sidecar.Encryption != nil || strings.HasSuffix(sidecar.Name, EncryptedSuffix)
	plain, closeDec, err := Decompress(obj, encrypted, ids)
	if err != nil {
		return nil, err
	}
	defer closeDec()
	rep := &Report{}
	if err := walk(ctx, plain, sidecar, rep); err != nil {
		return rep, err
	}
	// The tar end marker may come before the compressed stream's end, and
	// age authenticates its last chunk only at EOF: read both to the end.
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return rep, fmt.Errorf("reading the archive past its last entry: %w", err)
	}
	if _, err := io.Copy(io.Discard, obj); err != nil {
		return rep, fmt.Errorf("reading the archive object: %w", err)
	}
	rep.ObjectSize = obj.n
	rep.ObjectSHA256 = hex.EncodeToString(obj.h.Sum(nil))
	if o := sidecar.Object; o != nil {
		if o.Size != rep.ObjectSize {
			return rep, fmt.Errorf("archive object is %d bytes, the sidecar says %d", rep.ObjectSize, o.Size)
		}
		if o.SHA256 != rep.ObjectSHA256 {
			return rep, fmt.Errorf("archive object sha256 is %s, the sidecar says %s", rep.ObjectSHA256, o.SHA256)
		}
	}
	return rep, nil
}

func walk(ctx context.Context, plain io.Reader, sidecar *Manifest, rep *Report) error {
	want := map[string]Entry{}
	for _, e := range sidecar.Entries {
		want[e.Name] = e
	}
	var chunks []Chunk
	if sidecar.Database != nil {
		chunks = sidecar.Database.Chunks
	}
	seen := map[string]bool{}
	nextChunk := 0
	manifestSeen := false
	tr := tar.NewReader(plain)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the archive after %d entries: %w", rep.Entries+rep.Chunks, err)
		}
		name := hdr.Name
		if err := checkName(name); err != nil {
			return err
		}
		if manifestSeen {
			return fmt.Errorf("archive entry %s comes after %s, which must be last", name, ManifestEntry)
		}
		switch {
		case name == ManifestEntry:
			manifestSeen = true
			if err := checkEmbeddedManifest(tr, hdr, sidecar); err != nil {
				return err
			}
		case strings.HasPrefix(name, DumpChunkPrefix):
			if nextChunk >= len(chunks) || chunks[nextChunk].Name != name {
				return fmt.Errorf("archive entry %s: not the next dump chunk the manifest lists", name)
			}
			c := chunks[nextChunk]
			nextChunk++
			if err := checkContent(tr, name, hdr.Size, c.Size, c.SHA256); err != nil {
				return err
			}
			rep.Chunks++
			rep.DumpBytes += c.Size
		default:
			e, ok := want[name]
			if !ok {
				return fmt.Errorf("archive entry %s is not in the manifest", name)
			}
			if seen[name] {
				return fmt.Errorf("archive entry %s appears twice", name)
			}
			seen[name] = true
			if err := checkEntry(tr, hdr, e); err != nil {
				return err
			}
			rep.Entries++
		}
	}
	if !manifestSeen {
		return fmt.Errorf("archive has no %s: it was cut short", ManifestEntry)
	}
	if nextChunk != len(chunks) {
		return fmt.Errorf("archive lacks dump chunk %s", chunks[nextChunk].Name)
	}
	for _, e := range sidecar.Entries {
		if !seen[e.Name] {
			return fmt.Errorf("archive lacks entry %s", e.Name)
		}
	}
	return nil
}

func checkEntry(tr *tar.Reader, hdr *tar.Header, e Entry) error {
	switch e.Kind {
	case KindDir:
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("archive entry %s: want a directory", e.Name)
		}
		return nil
	case KindSymlink:
		if hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != e.Link {
			return fmt.Errorf("archive entry %s: want a symlink to %q", e.Name, e.Link)
		}
		return nil
	case KindHardlink:
		if hdr.Typeflag != tar.TypeLink || hdr.Linkname != e.Link {
			return fmt.Errorf("archive entry %s: want a hard link to %q", e.Name, e.Link)
		}
		return nil
	}
	if hdr.Typeflag != tar.TypeReg {
		return fmt.Errorf("archive entry %s: want a regular file", e.Name)
	}
	return checkContent(tr, e.Name, hdr.Size, e.Size, e.SHA256)
}

func checkContent(r io.Reader, name string, hdrSize, wantSize int64, wantSHA string) error {
	if hdrSize != wantSize {
		return fmt.Errorf("archive entry %s is %d bytes, the manifest says %d", name, hdrSize, wantSize)
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return fmt.Errorf("reading archive entry %s: %w", name, err)
	}
	if n != wantSize {
		return fmt.Errorf("archive entry %s: read %d bytes, want %d", name, n, wantSize)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
		return fmt.Errorf("archive entry %s is damaged: sha256 %s, the manifest says %s", name, got, wantSHA)
	}
	return nil
}

func checkEmbeddedManifest(r io.Reader, hdr *tar.Header, sidecar *Manifest) error {
	if hdr.Size > maxManifestSize {
		return fmt.Errorf("archive entry %s is %d bytes, more than a manifest can be", ManifestEntry, hdr.Size)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxManifestSize))
	if err != nil {
		return fmt.Errorf("reading archive entry %s: %w", ManifestEntry, err)
	}
	inner, err := ParseManifest(data)
	if err != nil {
		return fmt.Errorf("archive entry %s: %w", ManifestEntry, err)
	}
	return Agree(inner, sidecar)
}

type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}
