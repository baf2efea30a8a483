package archive

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/internal/bufpool"
	"github.com/appwrite-dr/dr/internal/iocount"
)

// A volume file's content is stored once per destination, as a blob: an
// object of its own under BlobDir(stack), shared by every backup of the
// stack whose volumes hold the same bytes (format 3). The archive keeps
// the file's tar header with no content, and the manifest entry names
// the blob. A blob is the content compressed with zstd and, when the
// backup is encrypted, age-encrypted to the same recipients: each blob
// can be read with the standard tools alone.

// Blob object name suffixes.
const (
	BlobSuffix          = ".zst"
	EncryptedBlobSuffix = ".zst.age"
	blobsDir            = "blobs/"
)

// BlobDir is where a stack's blobs live on a destination, apart from the
// backups (a listing of the destination's top directory never sees them).
func BlobDir(stack string) string { return blobsDir + stack + "/" }

// BlobPath is a blob's object name on a destination.
func BlobPath(stack, blob string) string { return BlobDir(stack) + blob }

// BlobName names the blob of a content by its sha256 keyed with key, so
// that a name reveals nothing of the content: without the key, a known
// file's sha256 cannot be matched to a name.
func BlobName(key []byte, contentSHA256 string, encrypted bool) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(contentSHA256))
	name := hex.EncodeToString(mac.Sum(nil))
	if encrypted {
		return name + EncryptedBlobSuffix
	}
	return name + BlobSuffix
}

// CheckBlobName refuses a blob name from outside input (a manifest) that
// is not one BlobName makes: it becomes part of an object path.
func CheckBlobName(name string) error {
	base, ok := strings.CutSuffix(name, EncryptedBlobSuffix)
	if !ok {
		base, ok = strings.CutSuffix(name, BlobSuffix)
	}
	if !ok || len(base) != 2*sha256.Size {
		return fmt.Errorf("blob name %q is not <64 hex digits>%s[.age]", name, BlobSuffix)
	}
	if _, err := hex.DecodeString(base); err != nil || strings.ToLower(base) != base {
		return fmt.Errorf("blob name %q is not <64 hex digits>%s[.age]", name, BlobSuffix)
	}
	return nil
}

// BlobEncrypted says whether a blob name is of an encrypted blob.
func BlobEncrypted(name string) bool { return strings.HasSuffix(name, EncryptedBlobSuffix) }

// BlobObject is one blob as a destination holds it: its name and the
// size of the stored (compressed, encrypted) bytes. Only a sidecar lists
// them: what the backup needs on that destination.
type BlobObject struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	// SHA256 is the stored bytes' sha256, which the first sidecars of
	// format 3 record and a reader checks when present. Later ones leave
	// it out: age's authentication of every chunk and the content's
	// sha256 in the manifest check a blob whole, and hashing the stored
	// bytes as well cost a sixth of a first backup's CPU.
	SHA256 string `json:"sha256,omitempty"`
}

// EncodedBlob is a content made ready to store.
type EncodedBlob struct {
	// ContentSHA256 and ContentSize are the content's, as the manifest
	// entry records them.
	ContentSHA256 string
	ContentSize   int64
	// Size is the stored bytes'.
	Size int64
	data []byte
	file *os.File
	// buf holds data, and goes back to pool on Close.
	buf  *bytes.Buffer
	pool *bufpool.Pool
}

// Reader reads the stored bytes from the start; each call gives a reader
// of its own, so one blob can go to several destinations at once.
func (b *EncodedBlob) Reader() io.ReadSeeker {
	if b.file != nil {
		return io.NewSectionReader(b.file, 0, b.Size)
	}
	return bytes.NewReader(b.data)
}

// Close releases the blob's memory or spool file.
func (b *EncodedBlob) Close() error {
	if b.buf != nil {
		b.pool.Put(b.buf.Bytes())
		b.buf, b.data = nil, nil
	}
	if b.file == nil {
		return nil
	}
	name := b.file.Name()
	err := b.file.Close()
	return errors.Join(err, os.Remove(name))
}

// blobMemoryLimit is the largest content encoded in memory; a larger one
// is spooled to a file, so a 4 GiB video costs no 4 GiB of memory.
const blobMemoryLimit = 8 << 20

// BlobEncoder compresses and encrypts contents into blobs. It is safe
// for concurrent use: each call takes a zstd encoder of its own.
type BlobEncoder struct {
	recipients []age.Recipient
	level      int // as configured; see zstdLevel
	// spoolDir holds the spool files of large contents ("" is the
	// system's temporary directory).
	spoolDir string
	encoders sync.Pool
	// buffers are the memory of blobs closed, for the next ones: a fresh
	// buffer per file cost an eighth of a backup's CPU in zeroing it.
	buffers *bufpool.Pool
}

// blobBuffers is what an encoder keeps of the memory of blobs closed.
const blobBuffers = 8 << 20

// NewBlobEncoder encodes at the archive's zstd level (0: the default)
// and, with recipients, encrypts to them. Contents larger than 8 MiB
// are spooled in spoolDir.
func NewBlobEncoder(level int, recipients []age.Recipient, spoolDir string) *BlobEncoder {
	return &BlobEncoder{recipients: recipients, level: level, spoolDir: spoolDir, buffers: bufpool.New(blobBuffers)}
}

// Encrypted says whether the blobs are age-encrypted.
func (e *BlobEncoder) Encrypted() bool { return len(e.recipients) > 0 }

// Encode reads a content of about sizeHint bytes to its end and returns
// its blob; the caller closes it.
func (e *BlobEncoder) Encode(r io.Reader, sizeHint int64) (_ *EncodedBlob, err error) {
	b := &EncodedBlob{}
	var buf *bytes.Buffer
	var sink io.Writer
	if sizeHint > blobMemoryLimit {
		f, err := os.CreateTemp(e.spoolDir, "dr-blob-*")
		if err != nil {
			return nil, fmt.Errorf("spooling a large file: %w", err)
		}
		b.file = f
		defer func() {
			if err != nil {
				b.Close()
			}
		}()
		sink = f
	} else {
		// Room for the content, zstd's frame and age's header and tags.
		hint := int(max(sizeHint, 0))
		room := hint + hint/64 + 1024
		buf = bytes.NewBuffer(e.buffers.Get(room, room)[:0])
		sink = buf
		b.buf, b.pool = buf, e.buffers
	}
	counted := &iocount.Writer{W: sink}
	var dst io.Writer = counted
	var enc io.WriteCloser
	if len(e.recipients) > 0 {
		w, err := age.Encrypt(counted, e.recipients...)
		if err != nil {
			return nil, fmt.Errorf("starting age encryption: %w", err)
		}
		enc, dst = w, w
	}
	zw, _ := e.encoders.Get().(*zstd.Encoder)
	if zw == nil {
		// One worker per blob: the capture encodes several at once.
		zw, err = zstd.NewWriter(dst, encoderOptions(WriterOptions{Level: e.level, Concurrency: 1})...)
		if err != nil {
			return nil, fmt.Errorf("starting zstd: %w", err)
		}
	} else {
		zw.Reset(dst)
	}
	defer e.encoders.Put(zw)
	h := sha256.New()
	n, err := io.Copy(zw, io.TeeReader(r, h))
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing: %w", err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encrypting: %w", err)
		}
	}
	b.ContentSHA256, b.ContentSize = hex.EncodeToString(h.Sum(nil)), n
	b.Size = counted.N
	if buf != nil {
		b.data = buf.Bytes()
	}
	return b, nil
}
