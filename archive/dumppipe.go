package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/archive/dumpscan"
)

// The dump is the one entry as big as the database, so it takes its own
// path through the writer, laid out as a pipeline on bounded buffers:
//
//	writer ──block──┬──> scanner (dumpscan)
//	                ├──> chunk hasher (each chunk's sha256)
//	                └──> compressors (one per core) ──in order──> emitter
//
// The writer (the goroutine that receives the dump from the container)
// only copies into blocks: every other step runs beside it and beside
// each other, so the dump client is drained at its own pace. Each block is
// compressed once, into a zstd frame of its own at the archive's level,
// and those frames are what the archive holds: a zstd stream may be any
// sequence of frames (RFC 8878, section 3.1), and every decoder (the zstd
// tool, tar --zstd, dr's reader) reads the sequence as the one stream of
// tar bytes it encodes. So the tar layout, the chunk entries and the
// manifest are as before; only the cut of the compressed stream into
// frames differs.
//
// tar wants a chunk's size before its bytes, and only the end of the
// stream tells the size of the last chunk, so a chunk's frames are held
// until the chunk is whole, then written after its tar header. Held
// compressed, a 64 MiB chunk of SQL costs a few MiB.

const (
	// dumpBlockSize is the raw size of one compressed frame: large enough
	// that the frame's ratio is close to a continuous stream's.
	dumpBlockSize = 1 << 20
	// dumpBlocksInFlight bounds the raw blocks read and not yet scanned,
	// hashed and compressed.
	dumpBlocksInFlight = 8
)

// dumpBlock is one block of the dump on its way through the pipeline.
type dumpBlock struct {
	raw []byte
	n   int // len(raw), kept when raw goes back to the pool
	// endsChunk marks the block that completes its chunk (possibly an
	// empty one sent at the end of the stream).
	endsChunk bool
	// users is how many steps still read raw; the last returns it.
	users atomic.Int32
	// frame is raw compressed, set by a compressor before done closes.
	frame []byte
	done  chan struct{}
}

// dumpPipeline runs one AddDump.
type dumpPipeline struct {
	w       *Writer
	enc     *zstd.Encoder // EncodeAll only, safe for concurrent use
	free    chan []byte   // raw buffers, dumpBlocksInFlight of them
	stop    chan struct{} // closed when the emitter failed or the dump was aborted
	stopped sync.Once
	err     error // why it stopped; read once stop is closed
	// frames recycles the buffers of frames already written, so that a
	// dump's compressed bytes do not all become garbage for the collector.
	frames sync.Pool
}

func (p *dumpPipeline) frameBuffer() []byte {
	if f, ok := p.frames.Get().(*[]byte); ok {
		return (*f)[:0]
	}
	return make([]byte, 0, dumpBlockSize/4)
}

func (p *dumpPipeline) recycle(frames [][]byte) {
	for i := range frames {
		f := frames[i]
		p.frames.Put(&f)
	}
}

func (p *dumpPipeline) release(b *dumpBlock) {
	if b.users.Add(-1) == 0 && b.raw != nil {
		p.free <- b.raw[:cap(b.raw)]
		b.raw = nil
	}
}

func (p *dumpPipeline) fail(err error) {
	p.stopped.Do(func() {
		p.err = err
		close(p.stop)
	})
}

// DumpWriter takes the dump stream as it is produced: write it all, then
// Finish; or Abort when the dump failed. Writes return the archive's
// error once it failed, so that the dump stops. It is not safe for
// concurrent use.
type DumpWriter struct {
	w   *Writer
	p   *dumpPipeline
	ctx context.Context

	cur     []byte // the block being filled, from p.free; nil when none
	fill    int
	inChunk int64

	scanCh, chunkHashCh, compressCh, emitCh chan *dumpBlock

	wg, compressors sync.WaitGroup
	scan            DumpScanner
	chunkSums       []string
	chunkSizes      []int64
	closed          bool
}

// DumpScanner reads the dump stream beside the archive's pipeline and
// says what it held: dumpscan's for MariaDB and MySQL, pgscan's for
// PostgreSQL.
type DumpScanner interface {
	io.Writer
	Result() dumpscan.Result
}

// StartDump begins the dump entries of a MariaDB or MySQL dump.
func (w *Writer) StartDump(ctx context.Context) (*DumpWriter, error) {
	return w.StartDumpScanned(ctx, dumpscan.New())
}

// StartDumpScanned begins the dump entries, with scan reading the
// stream. Memory stays bounded: a few raw blocks in flight and the chunk
// being filled, compressed.
func (w *Writer) StartDumpScanned(ctx context.Context, scan DumpScanner) (*DumpWriter, error) {
	enc, err := zstd.NewWriter(nil, encoderOptions(w.opts, zstd.WithWindowSize(dumpBlockSize))...)
	if err != nil {
		return nil, fmt.Errorf("starting the dump compressor: %w", err)
	}
	// The frames of the dump go around the archive's streaming encoder:
	// its open frame ends here (after the previous entry's padding) and a
	// new one starts for what comes after the dump.
	if err := w.tw.Flush(); err != nil {
		enc.Close()
		return nil, fmt.Errorf("writing the archive before the dump: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		enc.Close()
		return nil, fmt.Errorf("writing the archive before the dump: %w", err)
	}
	p := &dumpPipeline{w: w, enc: enc, free: make(chan []byte, dumpBlocksInFlight), stop: make(chan struct{})}
	for range dumpBlocksInFlight {
		p.free <- make([]byte, dumpBlockSize)
	}
	d := &DumpWriter{
		w: w, p: p, ctx: ctx,
		scanCh:      make(chan *dumpBlock, dumpBlocksInFlight),
		chunkHashCh: make(chan *dumpBlock, dumpBlocksInFlight),
		compressCh:  make(chan *dumpBlock, dumpBlocksInFlight),
		emitCh:      make(chan *dumpBlock, dumpBlocksInFlight),
		scan:        scan,
	}
	d.wg.Go(func() {
		for b := range d.scanCh {
			d.scan.Write(b.raw)
			p.release(b)
		}
	})
	d.wg.Go(func() {
		h := sha256.New()
		for b := range d.chunkHashCh {
			h.Write(b.raw)
			if b.endsChunk {
				d.chunkSums = append(d.chunkSums, hex.EncodeToString(h.Sum(nil)))
				h.Reset()
			}
			p.release(b)
		}
	})
	for range w.opts.Concurrency {
		d.compressors.Go(func() {
			for b := range d.compressCh {
				if len(b.raw) > 0 {
					b.frame = p.enc.EncodeAll(b.raw, p.frameBuffer())
				}
				p.release(b)
				close(b.done)
			}
		})
	}
	d.wg.Go(func() { d.chunkSizes = p.emit(d.emitCh) })
	return d, nil
}

// errDumpClosed is a write after Finish or Abort.
var errDumpClosed = errors.New("the dump entry is already closed")

// errDumpAborted stops the pipeline of a dump that failed.
var errDumpAborted = errors.New("the dump was aborted")

// Write adds dump bytes.
func (d *DumpWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if err := d.next(); err != nil {
			return n, err
		}
		want := min(int64(len(d.cur)-d.fill), d.w.opts.ChunkSize-d.inChunk)
		k := copy(d.cur[d.fill:int64(d.fill)+want], b)
		d.took(k)
		b = b[k:]
		n += k
		if err := d.dispatchIfFull(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReadFrom reads r to its end straight into the pipeline's blocks.
func (d *DumpWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if err := d.next(); err != nil {
			return total, err
		}
		want := min(int64(len(d.cur)-d.fill), d.w.opts.ChunkSize-d.inChunk)
		k, err := io.ReadFull(r, d.cur[d.fill:int64(d.fill)+want])
		d.took(k)
		total += int64(k)
		if derr := d.dispatchIfFull(); derr != nil {
			return total, derr
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// next makes sure a block is being filled, waiting for a free one.
func (d *DumpWriter) next() error {
	if d.closed {
		return errDumpClosed
	}
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if d.cur != nil {
		return nil
	}
	select {
	case d.cur = <-d.p.free:
		d.fill = 0
		return nil
	case <-d.p.stop:
		return d.p.err
	}
}

func (d *DumpWriter) took(k int) {
	d.fill += k
	d.inChunk += int64(k)
}

func (d *DumpWriter) dispatchIfFull() error {
	if d.fill == len(d.cur) || d.inChunk == d.w.opts.ChunkSize {
		return d.dispatch(d.inChunk == d.w.opts.ChunkSize)
	}
	return nil
}

// dispatch hands the block being filled to every step; endsChunk closes
// the chunk it belongs to.
func (d *DumpWriter) dispatch(endsChunk bool) error {
	b := &dumpBlock{raw: d.cur[:d.fill], n: d.fill, endsChunk: endsChunk, done: make(chan struct{})}
	d.cur, d.fill = nil, 0
	if endsChunk {
		d.inChunk = 0
	}
	b.users.Store(3)
	// The emitter first: it waits for each block's frame in order.
	for _, ch := range []chan *dumpBlock{d.emitCh, d.scanCh, d.chunkHashCh, d.compressCh} {
		select {
		case ch <- b:
		case <-d.p.stop:
			// Steps already holding the block release it; the rest
			// never will, and the pipeline is ending anyway.
			return d.p.err
		}
	}
	return nil
}

// Finish ends the dump at the end of its stream and returns what was
// written and seen, or the archive's error.
func (d *DumpWriter) Finish() (*DumpResult, error) {
	if d.closed {
		return nil, errDumpClosed
	}
	var err error
	if d.fill > 0 || d.inChunk > 0 {
		// The last chunk ends with the stream (an empty block when its
		// bytes went out already).
		if d.cur == nil {
			err = d.next()
		}
		if err == nil {
			err = d.dispatch(true)
		}
	}
	d.shutdown()
	if d.p.err != nil {
		return nil, d.p.err
	}
	if err != nil {
		return nil, err
	}
	res := &DumpResult{}
	for i, size := range d.chunkSizes {
		res.Chunks = append(res.Chunks, Chunk{Name: ChunkName(i), Size: size, SHA256: d.chunkSums[i]})
		res.Size += size
	}
	sr := d.scan.Result()
	res.Completed = sr.Completed
	res.Databases = sr.Databases
	for _, t := range sr.Tables {
		res.Tables = append(res.Tables, Table{Database: t.Database, Name: t.Name, Engine: t.Engine, Rows: t.Rows, View: t.View, Versioned: t.Versioned})
	}
	for _, o := range sr.Objects {
		res.Objects = append(res.Objects, Object{Database: o.Database, Kind: o.Kind, Name: o.Name})
	}
	return res, nil
}

// Abort ends a dump that failed: the pipeline stops and nothing more of
// the dump is written.
func (d *DumpWriter) Abort() {
	if !d.closed {
		d.p.fail(errDumpAborted)
		d.shutdown()
	}
}

// Err is the archive's error once writing it failed, else nil (also
// after Abort, which is the dump's failure, not the archive's).
func (d *DumpWriter) Err() error {
	select {
	case <-d.p.stop:
		if errors.Is(d.p.err, errDumpAborted) {
			return nil
		}
		return d.p.err
	default:
		return nil
	}
}

// shutdown closes the pipeline, waits for it, and lets the archive's
// streaming encoder go on after the dump.
func (d *DumpWriter) shutdown() {
	d.closed = true
	close(d.scanCh)
	close(d.chunkHashCh)
	close(d.compressCh)
	close(d.emitCh)
	d.compressors.Wait()
	d.wg.Wait()
	d.p.enc.Close()
	d.w.zw.Reset(d.w.dst)
}

// AddDump reads the dump stream to its end and stores it as fixed-size
// chunk entries, scanning and hashing it on the way. A read error (the
// dump failed) is returned as is.
func (w *Writer) AddDump(ctx context.Context, r io.Reader) (*DumpResult, error) {
	d, err := w.StartDump(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := d.ReadFrom(r); err != nil {
		d.Abort()
		return nil, err
	}
	return d.Finish()
}

// emit writes each chunk once whole: its tar header, its blocks' frames
// in order, its padding. It returns the chunks' sizes.
func (p *dumpPipeline) emit(blocks <-chan *dumpBlock) []int64 {
	var sizes []int64
	var frames [][]byte
	var size int64
	for b := range blocks {
		select {
		case <-p.stop:
			// Drained without waiting, so that nothing upstream blocks:
			// once stopped, a block may never reach a compressor.
			continue
		default:
		}
		<-b.done
		if b.frame != nil {
			frames = append(frames, b.frame)
			size += int64(b.n)
		}
		if !b.endsChunk {
			continue
		}
		if err := p.writeChunk(len(sizes), size, frames); err != nil {
			p.fail(err)
			continue
		}
		sizes = append(sizes, size)
		p.recycle(frames)
		clear(frames)
		frames, size = frames[:0], 0
	}
	return sizes
}

func (p *dumpPipeline) writeChunk(i int, size int64, frames [][]byte) error {
	w := p.w
	name := ChunkName(i)
	if err := w.claim(name); err != nil {
		return err
	}
	var hdr bytes.Buffer
	th := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: w.opts.ModTime, Format: tar.FormatPAX}
	if err := tar.NewWriter(&hdr).WriteHeader(th); err != nil {
		return fmt.Errorf("writing dump chunk %s: %w", name, err)
	}
	raw := int64(hdr.Len()) + size
	if _, err := w.dst.Write(p.enc.EncodeAll(hdr.Bytes(), nil)); err != nil {
		return fmt.Errorf("writing dump chunk %s: %w", name, err)
	}
	for _, f := range frames {
		if _, err := w.dst.Write(f); err != nil {
			return fmt.Errorf("writing dump chunk %s: %w", name, err)
		}
	}
	if pad := (tarBlock - size%tarBlock) % tarBlock; pad > 0 {
		if _, err := w.dst.Write(p.enc.EncodeAll(make([]byte, pad), nil)); err != nil {
			return fmt.Errorf("writing dump chunk %s: %w", name, err)
		}
		raw += pad
	}
	w.raw.N += raw
	return nil
}

// tarBlock is tar's record unit: every entry's data is padded to it.
const tarBlock = 512
