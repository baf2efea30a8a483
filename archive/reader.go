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
)

// BlobOpener opens the blob objects of a stack where a backup is read
// from (a destination).
type BlobOpener interface {
	OpenBlob(ctx context.Context, stack, name string) (io.ReadCloser, error)
}

// ItemKind is what an archive entry is to its readers.
type ItemKind int

const (
	// ItemFile is a file of the backup's own: a stack file (compose/…)
	// or the definitions of views left out (BrokenViewsEntry).
	ItemFile ItemKind = iota + 1
	// ItemDumpChunk is one chunk of the database dump, in order.
	ItemDumpChunk
	// ItemVolume is an entry of a volume: a file (wherever its content
	// is stored), a directory, a symlink or a hard link.
	ItemVolume
)

// Item is one entry of an archive, checked against the manifest: it is
// listed there (dump chunks: as the next chunk), once, of the kind and
// link the manifest says. Its content, read through the Reader, is
// checked against the manifest's size and sha256 when read to its end.
type Item struct {
	Kind ItemKind
	Name string
	// Header is the entry's tar header; for a volume file whose content
	// is a blob, Size is the content's (the archive's entry is empty).
	Header *tar.Header
	Entry  Entry // the manifest's; zero for a dump chunk
	Chunk  Chunk // a dump chunk's
	// Volume and Rel place a volume entry: the volume's configured name
	// and the path below its root ("" for the root, a trailing / for a
	// directory).
	Volume, Rel string
	// Blob says the content is read from a blob object, not the archive.
	Blob bool
}

// ReaderOptions are what reading an archive needs besides its stream.
type ReaderOptions struct {
	// Identities decrypt the blobs of an encrypted backup.
	Identities []age.Identity
	// Blobs opens the blobs of a format 3 backup; without it, reading
	// the content of a volume file stored as a blob fails.
	Blobs BlobOpener
}

// Reader is the one reader of a backup's archive: verify, restore, drill,
// the hacked runbook's scan and dr diff all read through it. It yields
// the entries in archive order, each checked against the manifest, and
// reads each content from the archive or from its blob, checked too. At
// the end it checks that nothing the manifest lists was missing and that
// the archive's own manifest agrees with the one given.
type Reader struct {
	ctx      context.Context
	tr       *tar.Reader
	m        *Manifest
	opts     ReaderOptions
	want     map[string]Entry
	stored   map[string]BlobObject // the sidecar's blob objects, by name
	chunks   []Chunk
	next     int // next dump chunk
	seen     map[string]bool
	manifest bool // manifest.json was read
	done     bool

	item    *Item
	content io.Reader // the current item's checked content
	blob    *blobStream
	// Entries counts the entries yielded besides dump chunks.
	Entries int
	// Chunks counts the dump chunks yielded, DumpBytes their size.
	Chunks    int
	DumpBytes int64
}

// NewReader reads the tar stream plain (see Decompress) of the backup
// that m describes (its sidecar).
func NewReader(ctx context.Context, plain io.Reader, m *Manifest, opts ReaderOptions) *Reader {
	r := &Reader{ctx: ctx, tr: tar.NewReader(plain), m: m, opts: opts, want: map[string]Entry{}, seen: map[string]bool{}, stored: map[string]BlobObject{}}
	for _, e := range m.Entries {
		r.want[e.Name] = e
	}
	for _, b := range m.Blobs {
		r.stored[b.Name] = b
	}
	if m.Database != nil {
		r.chunks = m.Database.Chunks
	}
	return r
}

// Next moves to the next entry. At the archive's end it checks that
// every entry and chunk the manifest lists was there and returns io.EOF.
func (r *Reader) Next() (*Item, error) {
	if err := r.closeItem(); err != nil {
		return nil, err
	}
	if r.done {
		return nil, io.EOF
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := r.tr.Next()
		if errors.Is(err, io.EOF) {
			r.done = true
			return nil, r.finish()
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive after %d entries: %w", r.Entries+r.Chunks, err)
		}
		name := hdr.Name
		if err := checkName(name); err != nil {
			return nil, err
		}
		if r.manifest {
			return nil, fmt.Errorf("archive entry %s comes after %s, which must be last", name, ManifestEntry)
		}
		switch {
		case name == ManifestEntry:
			r.manifest = true
			if err := checkEmbeddedManifest(r.tr, hdr, r.m); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(name, DumpChunkPrefix):
			if r.next >= len(r.chunks) || r.chunks[r.next].Name != name {
				return nil, fmt.Errorf("archive entry %s: not the next dump chunk the manifest lists", name)
			}
			c := r.chunks[r.next]
			r.next++
			if hdr.Size != c.Size {
				return nil, fmt.Errorf("archive entry %s is %d bytes, the manifest says %d", name, hdr.Size, c.Size)
			}
			r.Chunks++
			r.DumpBytes += c.Size
			r.item = &Item{Kind: ItemDumpChunk, Name: name, Header: hdr, Chunk: c}
			r.content = &checkedReader{r: r.tr, name: "archive entry " + name, size: c.Size, sha: c.SHA256, h: sha256.New()}
			return r.item, nil
		}
		e, ok := r.want[name]
		if !ok {
			return nil, fmt.Errorf("archive entry %s is not in the manifest", name)
		}
		if r.seen[name] {
			return nil, fmt.Errorf("archive entry %s appears twice", name)
		}
		r.seen[name] = true
		item, err := r.entry(hdr, e)
		if err != nil {
			return nil, err
		}
		r.Entries++
		r.item = item
		return item, nil
	}
}

// entry checks a listed entry's header against the manifest.
func (r *Reader) entry(hdr *tar.Header, e Entry) (*Item, error) {
	item := &Item{Kind: ItemFile, Name: e.Name, Header: hdr, Entry: e}
	if rest, ok := strings.CutPrefix(e.Name, VolumesPrefix); ok {
		item.Kind = ItemVolume
		item.Volume, item.Rel, _ = strings.Cut(rest, "/")
	}
	switch e.Kind {
	case KindDir:
		if hdr.Typeflag != tar.TypeDir {
			return nil, fmt.Errorf("archive entry %s: want a directory", e.Name)
		}
		return item, nil
	case KindSymlink:
		if hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != e.Link {
			return nil, fmt.Errorf("archive entry %s: want a symlink to %q", e.Name, e.Link)
		}
		return item, nil
	case KindHardlink:
		if hdr.Typeflag != tar.TypeLink || hdr.Linkname != e.Link {
			return nil, fmt.Errorf("archive entry %s: want a hard link to %q", e.Name, e.Link)
		}
		return item, nil
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("archive entry %s: want a regular file", e.Name)
	}
	if e.Blob == "" {
		if hdr.Size != e.Size {
			return nil, fmt.Errorf("archive entry %s is %d bytes, the manifest says %d", e.Name, hdr.Size, e.Size)
		}
		r.content = &checkedReader{r: r.tr, name: "archive entry " + e.Name, size: e.Size, sha: e.SHA256, h: sha256.New()}
		return item, nil
	}
	if item.Kind != ItemVolume || r.m.Format < 3 {
		return nil, fmt.Errorf("archive entry %s: only a volume file of a format 3 backup is stored as a blob (this one is format %d)", e.Name, r.m.Format)
	}
	if hdr.Size != 0 {
		return nil, fmt.Errorf("archive entry %s: a file stored as a blob has an empty entry, this one has %d bytes", e.Name, hdr.Size)
	}
	h := *hdr
	h.Size = e.Size
	item.Header, item.Blob = &h, true
	r.content = &lazyReader{open: func() (io.Reader, error) { return r.openBlob(e) }}
	return item, nil
}

// Read reads the current item's content. At its end the content has been
// checked: a damaged one is an error naming the entry, never io.EOF.
func (r *Reader) Read(p []byte) (int, error) {
	if r.content == nil {
		return 0, io.EOF
	}
	return r.content.Read(p)
}

// Close releases a blob still open. Reading on after an error is not
// possible; Close is always safe.
func (r *Reader) Close() error {
	return r.closeBlob()
}

func (r *Reader) closeItem() error {
	r.item, r.content = nil, nil
	return r.closeBlob()
}

func (r *Reader) closeBlob() error {
	if r.blob == nil {
		return nil
	}
	b := r.blob
	r.blob = nil
	return b.Close()
}

func (r *Reader) finish() error {
	if !r.manifest {
		return fmt.Errorf("archive has no %s: it was cut short", ManifestEntry)
	}
	if r.next != len(r.chunks) {
		return fmt.Errorf("archive lacks dump chunk %s", r.chunks[r.next].Name)
	}
	for _, e := range r.m.Entries {
		if !r.seen[e.Name] {
			return fmt.Errorf("archive lacks entry %s", e.Name)
		}
	}
	return io.EOF
}

// openBlob opens a volume file's blob: the stored bytes are checked
// against the sidecar's record of them on this destination, the content
// against the manifest entry.
func (r *Reader) openBlob(e Entry) (io.Reader, error) {
	if r.opts.Blobs == nil {
		return nil, fmt.Errorf("reading %s: its content is in blob %s, and no destination to read blobs from was given", e.Name, e.Blob)
	}
	rc, err := r.opts.Blobs.OpenBlob(r.ctx, r.m.Stack, e.Blob)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.Name, err)
	}
	b := &blobStream{rc: rc, stored: &hashingReader{r: rc}, name: e.Blob, entry: e.Name}
	if o, ok := r.stored[e.Blob]; ok {
		b.want = &o
		if o.SHA256 != "" {
			b.stored.h = sha256.New()
		}
	}
	plain, closeDec, err := Decompress(b.stored, BlobEncrypted(e.Blob), r.opts.Identities)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("reading %s from blob %s: %w", e.Name, e.Blob, err)
	}
	b.closeDec = closeDec
	r.blob = b
	return &checkedReader{r: plain, name: fmt.Sprintf("%s (blob %s)", e.Name, e.Blob), size: e.Size, sha: e.SHA256, h: sha256.New(), after: b.finish}, nil
}

// blobStream is an open blob object.
type blobStream struct {
	rc       io.ReadCloser
	stored   *hashingReader
	closeDec func()
	want     *BlobObject
	name     string
	entry    string
}

// finish reads the stored object to its end (age authenticates its last
// chunk there) and checks it against the sidecar's record.
func (b *blobStream) finish() error {
	if _, err := io.Copy(io.Discard, b.stored); err != nil {
		return fmt.Errorf("reading blob %s of %s: %w", b.name, b.entry, err)
	}
	if b.want == nil {
		return nil
	}
	if b.stored.n != b.want.Size {
		return fmt.Errorf("blob %s (content of %s) is %d bytes, the sidecar says %d: it is damaged", b.name, b.entry, b.stored.n, b.want.Size)
	}
	if b.stored.h == nil {
		return nil
	}
	if got := hex.EncodeToString(b.stored.h.Sum(nil)); got != b.want.SHA256 {
		return fmt.Errorf("blob %s (content of %s) is damaged: sha256 %s, the sidecar says %s", b.name, b.entry, got, b.want.SHA256)
	}
	return nil
}

func (b *blobStream) Close() error {
	if b.closeDec != nil {
		b.closeDec()
	}
	return b.rc.Close()
}

// lazyReader opens its source on the first Read: a reader that skips an
// entry never fetches its blob.
type lazyReader struct {
	open func() (io.Reader, error)
	r    io.Reader
	err  error
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil && l.err == nil {
		l.r, l.err = l.open()
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.r.Read(p)
}

// checkedReader reads a content of a known size and sha256 and fails at
// its end when either differs.
type checkedReader struct {
	r     io.Reader
	name  string
	size  int64
	sha   string
	h     hash.Hash
	n     int64
	after func() error
	err   error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if rest := c.size - c.n + 1; int64(len(p)) > rest {
		// One byte past the size tells a longer content from an exact one.
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if c.n > c.size {
		c.err = fmt.Errorf("%s is longer than the %d bytes the manifest says", c.name, c.size)
		return n, c.err
	}
	if errors.Is(err, io.EOF) {
		c.err = c.check()
		return n, c.err
	}
	if err != nil {
		c.err = fmt.Errorf("reading %s: %w", c.name, err)
		return n, c.err
	}
	return n, nil
}

func (c *checkedReader) check() error {
	if c.n != c.size {
		return fmt.Errorf("%s: read %d bytes, the manifest says %d", c.name, c.n, c.size)
	}
	if got := hex.EncodeToString(c.h.Sum(nil)); got != c.sha {
		return fmt.Errorf("%s is damaged: sha256 %s, the manifest says %s", c.name, got, c.sha)
	}
	if c.after != nil {
		if err := c.after(); err != nil {
			return err
		}
	}
	return io.EOF
}
