package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone/rclone/fs/asyncreader"
	"golang.org/x/sync/semaphore"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/bufpool"
	"github.com/appwrite-dr/dr/storage"
)

// emptySHA256 is the sha256 of no bytes: an empty file needs no blob.
var emptySHA256 = hex.EncodeToString(func() []byte { s := sha256.Sum256(nil); return s[:] }())

// inMemoryRead is the largest file read into memory and handed to a
// worker; a larger one is encoded (and spooled) as it is read.
const inMemoryRead = 8 << 20

// CaptureMemory is what the files on their way to the workers may hold
// at once (each file counts twice: read, and encoded): the bound on a
// capture's memory whatever the files' sizes, which dr's memory limit
// leaves room for.
const CaptureMemory = 48 << 20

// blobTarget is one destination's side of a capture: the blobs it holds
// and the ones this run stored there.
type blobTarget struct {
	dest *storage.Destination
	mu   sync.Mutex
	held map[string]archive.BlobObject
	put  map[string]archive.BlobObject
	// failed is set once a blob could not be stored there, or what the
	// destination holds could not be listed: it is out of this run.
	failed error
	// needed are the blob objects the backup needs there; looked is
	// closed once the last look (capture.lastLook) gave lookErr.
	needed  []archive.BlobObject
	looked  chan struct{}
	lookErr error
}

func (t *blobTarget) lacks(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed != nil {
		return false
	}
	_, held := t.held[name]
	_, put := t.put[name]
	return !held && !put
}

func (t *blobTarget) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *blobTarget) live() bool { return t.err() == nil }

// objects are the blob objects of names as the destination holds them.
func (t *blobTarget) objects(names map[string]bool) []archive.BlobObject {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]archive.BlobObject, 0, len(names))
	for n := range names {
		if o, ok := t.put[n]; ok {
			out = append(out, o)
		} else if o, ok := t.held[n]; ok {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// capture stores volume files as blobs, reading only the files whose
// stamp changed since the last capture and the ones whose blob some
// destination lacks.
type capture struct {
	stack   string
	key     []byte
	enc     *archive.BlobEncoder
	targets []*blobTarget
	prev    *fileIndex
	next    *fileIndex
	// fail drops a destination from the run's archive upload (set
	// once the upload is made, after the destinations are known).
	fail     func(dest string, err error)
	log      *slog.Logger
	readBy   *atomic.Int64 // progress: bytes read from volumes
	workers  int
	needed   map[string]bool // every blob the backup needs
	neededMu sync.Mutex
	// buffers hold files on their way to the workers, used again.
	buffers *bufpool.Pool
	// removing are the helpers being removed, in the background.
	removing sync.WaitGroup
	// listing are the listings of the blobs each destination holds
	// (listHeld), looking the last looks at them before the commits.
	listing, looking sync.WaitGroup
	// inMemory bounds the bytes of files held for the workers.
	inMemory *semaphore.Weighted
}

// volumeStats is what a capture did for one volume.
type volumeStats struct {
	files, read     int64 // regular files, and those read
	readBytes       int64
	stored          int64 // blobs stored (on any destination)
	storedBytes     int64 // their stored size, counted once per destination
	listingFallback bool
}

func newCapture(stack string, key []byte, enc *archive.BlobEncoder, dests []*storage.Destination, prev *fileIndex, readBy *atomic.Int64, log *slog.Logger) *capture {
	c := &capture{
		stack: stack, key: key, enc: enc, prev: prev, log: log, readBy: readBy,
		next:     &fileIndex{Version: fileIndexVersion, Volumes: map[string]map[string]indexedFile{}},
		workers:  max(8, 4*runtime.GOMAXPROCS(0)),
		needed:   map[string]bool{},
		inMemory: semaphore.NewWeighted(CaptureMemory),
		buffers:  bufpool.New(8 << 20),
	}
	for _, d := range dests {
		c.targets = append(c.targets, &blobTarget{dest: d, held: map[string]archive.BlobObject{}, put: map[string]archive.BlobObject{}})
	}
	return c
}

// listHeld lists, in the background, the blobs each destination holds
// (storage.Destination.HeldBlobs): a read of its sidecars and a listing
// of its blobs, which then cost the run nothing while the database is
// dumped. A destination that cannot say what it holds is out of the run.
func (c *capture) listHeld(ctx context.Context) {
	for _, t := range c.targets {
		c.listing.Go(func() {
			held, err := t.dest.HeldBlobs(ctx, c.stack)
			t.mu.Lock()
			defer t.mu.Unlock()
			if err != nil {
				t.failed = fmt.Errorf("listing what the destination holds: %w", err)
				return
			}
			t.held = held
		})
	}
}

// awaitHeld waits for listHeld (each listing is bounded by its
// destination's timeout and ctx), and drops from the run's upload each
// destination whose blobs could not be listed: the run's result names
// them, as it does one that failed to store a blob. It fails when none
// is left. A run without a capture waits for nothing.
func (c *capture) awaitHeld(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.listing.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("listing what the destinations hold: %w", err)
	}
	var failed []storage.Failure
	for _, t := range c.targets {
		if err := t.err(); err != nil {
			failed = append(failed, storage.Failure{Destination: t.dest.Name(), Err: err})
			c.fail(t.dest.Name(), err)
		}
	}
	if len(failed) == len(c.targets) {
		return fmt.Errorf("no destination to back up to: %w: %w", storage.ErrNoDestination, &storage.Unreachable{Failed: failed})
	}
	return nil
}

// wait is for the capture's work in the background, before the run
// returns: the destinations' listings and the helpers' removal.
func (c *capture) wait() {
	c.listing.Wait()
	c.looking.Wait()
	c.removing.Wait()
}

func (c *capture) blobName(sha string) string { return archive.BlobName(c.key, sha, c.enc.Encrypted()) }

// lackedAnywhere says whether a live destination lacks the blob.
func (c *capture) lackedAnywhere(name string) bool {
	for _, t := range c.targets {
		if t.lacks(name) {
			return true
		}
	}
	return false
}

func (c *capture) anyLive() bool {
	for _, t := range c.targets {
		if t.live() {
			return true
		}
	}
	return false
}

func (c *capture) need(name string) {
	c.neededMu.Lock()
	c.needed[name] = true
	c.neededMu.Unlock()
}

// node is one entry of a listed volume, in the order the archive keeps.
type node struct {
	e engine.ListedEntry
	// linkTo is, for a hard link, the path of the first entry of its
	// inode (the one whose content is stored).
	linkTo string
}

// walkKey orders paths as a directory walk does (a directory's entries
// by name, each followed by what it holds), which is the engine's order.
func walkKey(p string) string { return strings.ReplaceAll(p, "/", "\x00") }

// planNodes orders a listing, keeps what a backup can hold, and marks the
// hard links. skipped are devices, fifos and sockets.
func planNodes(listed []engine.ListedEntry) (nodes []node, skipped []string) {
	sorted := append([]engine.ListedEntry(nil), listed...)
	sort.Slice(sorted, func(i, j int) bool { return walkKey(sorted[i].Path) < walkKey(sorted[j].Path) })
	first := map[uint64]string{}
	for _, e := range sorted {
		switch e.Type {
		case 'd', 'l':
			nodes = append(nodes, node{e: e})
		case 'f':
			n := node{e: e}
			if e.Links > 1 {
				if p, ok := first[e.Inode]; ok {
					n.linkTo = p
				} else {
					first[e.Inode] = e.Path
				}
			}
			nodes = append(nodes, n)
		default:
			skipped = append(skipped, e.Path)
		}
	}
	return nodes, skipped
}

// unchanged gives the earlier capture's record of a file whose stamp is
// the same.
func unchanged(prev map[string]indexedFile, e engine.ListedEntry) (indexedFile, bool) {
	f, ok := prev[e.Path]
	if !ok || f.Size != e.Size || f.MTime != e.MTime || f.CTime != e.CTime || f.Inode != e.Inode || f.SHA256 == "" {
		return indexedFile{}, false
	}
	return f, true
}

// toRead decides which files of a listed volume must be read: those
// whose stamp changed (all of them when full), and those whose blob a
// destination lacks. known are the others' records.
func (c *capture) toRead(volume string, nodes []node, full bool) (read []string, known map[string]indexedFile) {
	known = map[string]indexedFile{}
	prev := c.prev.Volumes[volume]
	for _, n := range nodes {
		if n.e.Type != 'f' || n.linkTo != "" || n.e.Size == 0 {
			continue
		}
		if !full {
			if f, ok := unchanged(prev, n.e); ok && !c.lackedAnywhere(c.blobName(f.SHA256)) {
				known[n.e.Path] = f
				continue
			}
		}
		read = append(read, n.e.Path)
	}
	return read, known
}

// readResult is a file read and stored in this run.
type readResult struct {
	sha    string
	size   int64
	mtime  time.Time
	xattrs map[string]string
}

// volume captures one volume through its session, from its listing (err
// is the listing's): it reads what must be read, stores each content once where it is lacking, and
// returns the archive entries.
func (c *capture) volume(ctx context.Context, sess engine.VolumeReader, listed []engine.ListedEntry, err error, volume string, full bool) ([]archive.StoredEntry, *volumeStats, []string, error) {
	if errors.Is(err, engine.ErrNoListing) {
		entries, st, warnings, err := c.whole(ctx, sess, volume)
		if st != nil {
			st.listingFallback = true
		}
		return entries, st, warnings, err
	}
	if err != nil {
		return nil, nil, nil, err
	}
	nodes, skipped := planNodes(listed)
	var warnings []string
	for _, s := range skipped {
		warnings = append(warnings, leftOut(volume, s))
	}
	if len(nodes) == 0 || nodes[0].e.Path != "" || nodes[0].e.Type != 'd' {
		return nil, nil, warnings, fmt.Errorf("volume %s: the listing does not start with the volume's root directory", volume)
	}
	read, known := c.toRead(volume, nodes, full)
	st := &volumeStats{}
	results, err := c.read(ctx, sess, volume, nodes, read, st)
	if err != nil {
		return nil, st, warnings, err
	}
	index := map[string]indexedFile{}
	c.next.Volumes[volume] = index
	var entries []archive.StoredEntry
	dropped := map[string]bool{}
	for _, n := range nodes {
		e := n.e
		hdr := &tar.Header{Name: e.Path, Mode: e.Mode, Uid: e.UID, Gid: e.GID, ModTime: time.Unix(0, e.MTime)}
		se := archive.StoredEntry{Header: hdr}
		switch {
		case e.Type == 'd':
			hdr.Typeflag = tar.TypeDir
		case e.Type == 'l':
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
		case n.linkTo != "":
			if dropped[n.linkTo] {
				continue
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, n.linkTo
			st.files++
		default:
			hdr.Typeflag = tar.TypeReg
			st.files++
			rec := indexedFile{Size: e.Size, MTime: e.MTime, CTime: e.CTime, Inode: e.Inode}
			if r, ok := results[e.Path]; ok {
				rec.SHA256, rec.Xattrs = r.sha, r.xattrs
				se.Size = r.size
				hdr.ModTime = r.mtime
			} else if f, ok := known[e.Path]; ok {
				rec.SHA256, rec.Xattrs = f.SHA256, f.Xattrs
				se.Size = e.Size
			} else if e.Size == 0 {
				rec.SHA256 = emptySHA256
			} else {
				// Gone between the listing and its read.
				dropped[e.Path] = true
				st.files--
				continue
			}
			se.SHA256 = rec.SHA256
			if se.Size > 0 {
				se.Blob = c.blobName(rec.SHA256)
				c.need(se.Blob)
			}
			hdr.PAXRecords = rec.Xattrs
			if r, ok := results[e.Path]; !ok || r.size == e.Size {
				// Recorded only when the content read is the one the
				// stamp describes; a file written during its read is
				// read again next time.
				index[e.Path] = rec
			}
		}
		entries = append(entries, se)
	}
	return entries, st, warnings, nil
}

// leftOut warns of an entry no backup can hold.
func leftOut(volume, path string) string {
	return fmt.Sprintf("volume %s: %s is a device, fifo or socket, which cannot be restored through the Docker API; left out", volume, path)
}

// readJob is one file on its way to the workers: its bytes, or, for a
// large one, its blob already encoded.
type readJob struct {
	rel  string
	hdr  *tar.Header
	data []byte
	blob *archive.EncodedBlob
	// held is what the job holds of CaptureMemory, released once stored.
	held int64
}

// pool is the workers that store what a capture reads.
type pool struct {
	c       *capture
	ctx     context.Context
	cancel  context.CancelCauseFunc
	jobs    chan readJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	results map[string]readResult
	st      *volumeStats
}

func (c *capture) startPool(ctx context.Context, st *volumeStats) *pool {
	p := &pool{c: c, jobs: make(chan readJob, c.workers), results: map[string]readResult{}, st: st}
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	for range c.workers {
		p.wg.Go(func() {
			for j := range p.jobs {
				r, err := c.store(p.ctx, j, st, &p.mu)
				if err != nil {
					p.cancel(err)
					continue
				}
				p.mu.Lock()
				p.results[j.rel] = r
				p.mu.Unlock()
			}
		})
	}
	return p
}

// submit reads one file (into memory, or encoded as it is read when
// large) and hands it to the workers.
func (p *pool) submit(rel string, hdr *tar.Header, r io.Reader) error {
	j := readJob{rel: rel, hdr: hdr}
	counted := &countingReader{r: r, n: p.c.readBy}
	if hdr.Size <= inMemoryRead {
		j.held = 2 * max(hdr.Size, 1)
		if err := p.c.inMemory.Acquire(p.ctx, j.held); err != nil {
			return context.Cause(p.ctx)
		}
		// A buffer of a file stored before, when large enough.
		j.data = p.c.buffers.Get(int(hdr.Size), 1<<20)
		if _, err := io.ReadFull(counted, j.data); err != nil {
			p.c.buffers.Put(j.data)
			p.c.inMemory.Release(j.held)
			return fmt.Errorf("reading %s: %w", rel, err)
		}
	} else {
		b, err := p.c.enc.Encode(counted, hdr.Size)
		if err != nil {
			return fmt.Errorf("reading %s: %w", rel, err)
		}
		j.blob = b
	}
	p.mu.Lock()
	p.st.read++
	p.st.readBytes += hdr.Size
	p.mu.Unlock()
	select {
	case p.jobs <- j:
		return nil
	case <-p.ctx.Done():
		if j.blob != nil {
			j.blob.Close()
		}
		return context.Cause(p.ctx)
	}
}

// finish waits for the workers; readErr is the reading side's error.
func (p *pool) finish(volume string, readErr error) (map[string]readResult, error) {
	close(p.jobs)
	p.wg.Wait()
	defer p.cancel(nil)
	if cause := context.Cause(p.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return nil, fmt.Errorf("capturing volume %s: %w", volume, cause)
	}
	if readErr != nil {
		return nil, fmt.Errorf("capturing volume %s: %w", volume, readErr)
	}
	return p.results, p.ctx.Err()
}

// read reads the given files of a volume and stores their contents with a pool
// of workers. It returns what each file held.
func (c *capture) read(ctx context.Context, sess engine.VolumeReader, volume string, nodes []node, paths []string, st *volumeStats) (map[string]readResult, error) {
	if len(paths) == 0 {
		return map[string]readResult{}, nil
	}
	p := c.startPool(ctx, st)
	return p.finish(volume, c.feed(p, sess, volume, nodes, paths))
}

// feed reads the files and hands them to the workers: through one tar of
// just those files in the helper, or, when they are most of the volume's
// bytes, from the engine's own stream of the whole volume (the faster of
// the two per byte, as it needs no exec).
func (c *capture) feed(p *pool, sess engine.VolumeReader, volume string, nodes []node, paths []string) error {
	ctx := p.ctx
	want := make(map[string]bool, len(paths))
	for _, path := range paths {
		want[path] = true
	}
	var total, wanted int64
	for _, n := range nodes {
		if n.e.Type == 'f' && n.linkTo == "" {
			total += n.e.Size
			if want[n.e.Path] {
				wanted += n.e.Size
			}
		}
	}
	if wanted*2 <= total {
		return sess.ReadFiles(ctx, paths, func(hdr *tar.Header, r io.Reader) error {
			if !want[hdr.Name] {
				return nil
			}
			delete(want, hdr.Name)
			return p.submit(hdr.Name, hdr, r)
		})
	}
	// The stream holds an inode's content at its first path, which the
	// listing may order differently: match by inode.
	byPath := map[string]uint64{}
	primary := map[uint64]string{}
	for _, n := range nodes {
		if n.e.Type == 'f' {
			byPath[n.e.Path] = n.e.Inode
			if n.linkTo == "" {
				primary[n.e.Inode] = n.e.Path
			}
		}
	}
	rc, err := readAll(ctx, sess)
	if err != nil {
		return err
	}
	defer rc.Close()
	return archive.WalkVolume(ctx, rc, archive.VolumeRoot, func(f archive.VolumeFile) error {
		if f.Content == nil {
			return nil
		}
		path := f.Rel
		if ino, ok := byPath[f.Rel]; ok {
			path = primary[ino]
		}
		if !want[path] {
			return nil
		}
		delete(want, path)
		hdr := *f.Header
		hdr.Name = path
		return p.submit(path, &hdr, f.Content)
	})
}

// volumeReadAhead is the number of 1 MiB buffers read ahead of the
// capture from the engine's stream of a volume.
const volumeReadAhead = 8

// readAll streams the whole volume with a read-ahead, so that the engine
// keeps producing the stream while a file waits for a free worker.
func readAll(ctx context.Context, sess engine.VolumeReader) (io.ReadCloser, error) {
	rc, err := sess.ReadAll(ctx)
	if err != nil {
		return nil, err
	}
	if ra, err := asyncreader.New(ctx, rc, volumeReadAhead); err == nil {
		return ra, nil
	}
	return rc, nil
}

// store encodes a file's content and stores its blob on every live
// destination that lacks it. A destination that fails to take it is
// dropped from the run; only when none is left does the capture fail.
func (c *capture) store(ctx context.Context, j readJob, st *volumeStats, mu *sync.Mutex) (readResult, error) {
	if j.held > 0 {
		defer c.inMemory.Release(j.held)
	}
	b := j.blob
	if b == nil {
		var err error
		b, err = c.enc.Encode(bytes.NewReader(j.data), int64(len(j.data)))
		c.buffers.Put(j.data)
		if err != nil {
			return readResult{}, fmt.Errorf("storing %s: %w", j.rel, err)
		}
	}
	defer b.Close()
	name := c.blobName(b.ContentSHA256)
	for _, t := range c.targets {
		if !t.lacks(name) {
			continue
		}
		o, err := t.dest.PutBlob(ctx, c.stack, name, b)
		if ctx.Err() != nil {
			return readResult{}, context.Cause(ctx)
		}
		t.mu.Lock()
		if err != nil {
			if t.failed == nil {
				t.failed = err
				c.fail(t.dest.Name(), err)
				c.log.Error("destination failed: a blob could not be stored; backing up to the others", "destination", t.dest.Name(), "err", err)
			}
		} else {
			t.put[name] = o
		}
		t.mu.Unlock()
		if err == nil {
			mu.Lock()
			st.stored++
			st.storedBytes += o.Size
			mu.Unlock()
		}
	}
	if !c.anyLive() {
		return readResult{}, errors.New("no destination could store the volume's files")
	}
	return readResult{sha: b.ContentSHA256, size: b.ContentSize, mtime: j.hdr.ModTime, xattrs: archive.XattrRecords(j.hdr.PAXRecords)}, nil
}

// whole captures a volume that cannot be listed (its helper image has no
// GNU find): every file is read from one stream of the volume, and only
// the storing is spared for contents a destination holds.
func (c *capture) whole(ctx context.Context, sess engine.VolumeReader, volume string) ([]archive.StoredEntry, *volumeStats, []string, error) {
	st := &volumeStats{}
	var entries []archive.StoredEntry
	var warnings []string
	var files []int // indexes of regular files in entries
	p := c.startPool(ctx, st)
	rc, err := readAll(p.ctx, sess)
	if err == nil {
		err = archive.WalkVolume(p.ctx, rc, archive.VolumeRoot, func(f archive.VolumeFile) error {
			hdr := *f.Header
			hdr.Name = f.Rel
			switch hdr.Typeflag {
			case tar.TypeDir, tar.TypeSymlink:
			case tar.TypeLink:
				hdr.Linkname = f.Link
				st.files++
			case tar.TypeReg:
				files = append(files, len(entries))
				if hdr.Size > 0 {
					if err := p.submit(f.Rel, &hdr, f.Content); err != nil {
						return err
					}
				}
			default:
				warnings = append(warnings, leftOut(volume, f.Rel))
				return nil
			}
			entries = append(entries, archive.StoredEntry{Header: &hdr})
			return nil
		})
		rc.Close()
	}
	results, err := p.finish(volume, err)
	if err != nil {
		return nil, st, warnings, err
	}
	for _, i := range files {
		se := &entries[i]
		st.files++
		if se.Header.Size == 0 {
			se.SHA256 = emptySHA256
			continue
		}
		r := results[se.Header.Name]
		se.Size, se.SHA256 = r.size, r.sha
		se.Blob = c.blobName(r.sha)
		c.need(se.Blob)
	}
	return entries, st, warnings, nil
}

// lastLook starts, for each live destination, the last look at the blobs
// the backup needs (storage.Destination.CheckBlobs), in the background
// while the archive is finished and its upload verified: every blob is
// stored by then, and a commit waits for its destination's look
// (checkBlobs).
func (c *capture) lastLook(ctx context.Context) {
	if c == nil {
		return
	}
	for _, t := range c.targets {
		if !t.live() {
			continue
		}
		t.needed = t.objects(c.needed)
		t.looked = make(chan struct{})
		c.looking.Go(func() {
			defer close(t.looked)
			if len(t.needed) != len(c.needed) {
				t.lookErr = fmt.Errorf("%d of the %d blobs the backup needs were not stored on %q", len(c.needed)-len(t.needed), len(c.needed), t.dest.Name())
				return
			}
			t.lookErr = t.dest.CheckBlobs(ctx, c.stack, t.needed)
		})
	}
}

// checkBlobs puts in a destination's sidecar the blobs the backup needs
// there, once its last look (lastLook) found each of them stored. A
// backup without volumes needs none.
func (c *capture) checkBlobs(ctx context.Context, dest *storage.Destination, sidecar *archive.Manifest) error {
	if c == nil {
		return nil
	}
	for _, t := range c.targets {
		if t.dest != dest {
			continue
		}
		if t.looked == nil {
			return fmt.Errorf("destination %q failed during the volume capture", dest.Name())
		}
		select {
		case <-t.looked:
		case <-ctx.Done():
			return ctx.Err()
		}
		if t.lookErr != nil {
			return t.lookErr
		}
		sidecar.Blobs = t.needed
		return nil
	}
	return fmt.Errorf("destination %q was not part of the volume capture", dest.Name())
}
