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
	Entries int
	Chunks  int
	// Blobs counts the volume files read from blobs.
	Blobs        int
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
// every entry present once with its size and sha256 (a format 3 volume
// file's in its blob, read through opts.Blobs, and the blob object
// against the sidecar's record of it), the dump chunks in order,
// manifest.json last and in agreement, nothing else, every layer intact
// to its end, and the object's size and sha256 when the sidecar has them.
// Errors name the entry and what is wrong.
func Verify(ctx context.Context, r io.Reader, sidecar *Manifest, opts ReaderOptions) (*Report, error) {
	obj := &hashingReader{r: r, h: sha256.New()}
	encrypted := sidecar.Encryption != nil || strings.HasSuffix(sidecar.Name, EncryptedSuffix)
	plain, closeDec, err := Decompress(obj, encrypted, opts.Identities)
	if err != nil {
		return nil, err
	}
	defer closeDec()
	rep := &Report{}
	ar := NewReader(ctx, plain, sidecar, opts)
	defer ar.Close()
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, err
		}
		if _, err := io.Copy(io.Discard, ar); err != nil {
			return rep, err
		}
		if item.Blob {
			rep.Blobs++
		}
	}
	rep.Entries, rep.Chunks, rep.DumpBytes = ar.Entries, ar.Chunks, ar.DumpBytes
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

// hashingReader counts what it reads and, when h is set, hashes it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if h.h != nil {
		h.h.Write(p[:n])
	}
	h.n += int64(n)
	return n, err
}
