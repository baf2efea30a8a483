package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/internal/iocount"
)

// DefaultChunkSize is the dump chunk size when none is configured.
const DefaultChunkSize = 64 << 20

// DefaultZstdLevel is the archive's zstd level when none is configured:
// zstd's fastest. On SQL dumps it compresses within a few percent of
// level 3 (the zstd tool's default), at a half to three quarters of its
// CPU (BenchmarkZstdLevel), and a backup runs beside the stack it
// protects, on the same cores.
const DefaultZstdLevel = 1

// zstdLevel is the level of the archive for a configured one (0: the
// default).
func zstdLevel(configured int) int {
	if configured <= 0 {
		return DefaultZstdLevel
	}
	return configured
}

// encoderOptions are those of both of the archive's encoders, the
// streaming one and the dump's frames. No frame checksums: every entry's
// sha256 is in the manifest and is what every reader checks (age adds
// its own MAC when encrypted), so an xxhash of the same bytes would only
// cost CPU.
func encoderOptions(opts WriterOptions, more ...zstd.EOption) []zstd.EOption {
	level := zstd.EncoderLevelFromZstd(zstdLevel(opts.Level))
	return append([]zstd.EOption{zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(opts.Concurrency), zstd.WithEncoderCRC(false)}, more...)
}

// WriterOptions tune the archive.
type WriterOptions struct {
	// ChunkSize is the size of each dump chunk entry; 0 means 64 MiB. The
	// writer holds one chunk in memory (tar needs each entry's size first).
	ChunkSize int64
	// Level is the zstd level, 1 to 22; 0 means DefaultZstdLevel.
	Level int
	// Concurrency is the number of zstd workers; 0 means GOMAXPROCS.
	Concurrency int
	// Recipients, when any, age-encrypt the whole stream.
	Recipients []age.Recipient
	// ModTime stamps entries that have no time of their own (dump chunks,
	// the manifest); zero means now.
	ModTime time.Time
}

// FileHeader describes a regular file added with AddFile.
type FileHeader struct {
	Name    string // inside the archive, e.g. compose/.env
	Mode    int64
	ModTime time.Time
	UID     int
	GID     int
	Size    int64
}

// Writer writes one archive stream: tar → zstd → (age) → w.
type Writer struct {
	enc     io.WriteCloser // age, or nil
	dst     io.Writer      // what zstd writes to: enc, or the caller's writer
	zw      *zstd.Encoder
	tw      *tar.Writer
	raw     *iocount.Writer
	opts    WriterOptions
	entries []Entry
	names   map[string]bool
	closed  bool
}

// NewWriter starts an archive on w.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.ModTime.IsZero() {
		opts.ModTime = time.Now()
	}
	aw := &Writer{opts: opts, names: map[string]bool{}}
	dst := w
	if len(opts.Recipients) > 0 {
		enc, err := age.Encrypt(w, opts.Recipients...)
		if err != nil {
			return nil, fmt.Errorf("starting age encryption: %w", err)
		}
		aw.enc = enc
		dst = enc
	}
	zw, err := zstd.NewWriter(dst, encoderOptions(opts)...)
	if err != nil {
		return nil, fmt.Errorf("starting zstd: %w", err)
	}
	aw.zw = zw
	aw.dst = dst
	aw.raw = &iocount.Writer{W: zw}
	aw.tw = tar.NewWriter(aw.raw)
	return aw, nil
}

// RawBytes is the uncompressed tar bytes written so far.
func (w *Writer) RawBytes() int64 { return w.raw.N }

func (w *Writer) claim(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if w.names[name] {
		return fmt.Errorf("archive entry %s added twice", name)
	}
	w.names[name] = true
	return nil
}

// AddFile adds a regular file of known size, recording its sha256.
func (w *Writer) AddFile(hdr FileHeader, r io.Reader) error {
	if err := w.claim(hdr.Name); err != nil {
		return err
	}
	th := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     hdr.Name,
		Size:     hdr.Size,
		Mode:     hdr.Mode,
		ModTime:  hdr.ModTime,
		Uid:      hdr.UID,
		Gid:      hdr.GID,
		Format:   tar.FormatPAX,
	}
	if err := w.tw.WriteHeader(th); err != nil {
		return fmt.Errorf("writing archive entry %s: %w", hdr.Name, err)
	}
	h := sha256.New()
	n, err := io.Copy(w.tw, io.TeeReader(io.LimitReader(r, hdr.Size), h))
	if err != nil {
		return fmt.Errorf("writing archive entry %s: %w", hdr.Name, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("writing archive entry %s: the file shrank from %d to %d bytes while it was read", hdr.Name, hdr.Size, n)
	}
	w.entries = append(w.entries, Entry{
		Name: hdr.Name, Kind: KindFile, Size: hdr.Size, Mode: hdr.Mode,
		SHA256: hex.EncodeToString(h.Sum(nil)), UID: hdr.UID, GID: hdr.GID,
	})
	return nil
}

// DumpResult is what AddDump wrote and saw.
type DumpResult struct {
	Chunks    []Chunk
	Size      int64
	Tables    []Table
	Objects   []Object
	Databases []string
	// Completed: the dump ended with its completion trailer. AddDump does
	// not judge; the caller decides that a dump without it failed.
	Completed bool
}

// ChunkName is the tar entry name of dump chunk i.
func ChunkName(i int) string { return fmt.Sprintf("%s%05d", DumpChunkPrefix, i) }

// Close writes manifest.json as the last entry, with the entries recorded
// so far, the compression and the encryption, and closes every layer.
// Callers fill m's other fields (database, volumes, times) first.
func (w *Writer) Close(m *Manifest) error {
	if w.closed {
		return errors.New("archive already closed")
	}
	w.closed = true
	m.Entries = append([]Entry(nil), w.entries...)
	m.Compression = Compression{Algorithm: "zstd", Level: zstdLevel(w.opts.Level)}
	if m.Format == 0 {
		m.Format = FormatVersion
	}
	if m.Status == "" {
		m.Status = StatusWritten
	}
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	th := &tar.Header{Typeflag: tar.TypeReg, Name: ManifestEntry, Size: int64(len(data)), Mode: 0o644, ModTime: w.opts.ModTime, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(th); err != nil {
		return fmt.Errorf("writing the manifest entry: %w", err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return fmt.Errorf("writing the manifest entry: %w", err)
	}
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("closing the tar stream: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return fmt.Errorf("closing the zstd stream: %w", err)
	}
	if w.enc != nil {
		if err := w.enc.Close(); err != nil {
			return fmt.Errorf("closing the age stream: %w", err)
		}
	}
	return nil
}
