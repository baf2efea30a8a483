package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/archive/dumpscan"
)

// The dump is the one entry as big as the database, so it takes its own
// path through the writer, laid out as a pipeline on bounded buffers:
//
//	reader ──block──┬──> scanner (dumpscan)
//	                ├──> chunk hasher (each chunk's sha256)
//	                ├──> dump hasher (the whole dump's sha256)
//	                └──> compressors (one per core) ──in order──> emitter
//
// The reader only reads: every other step runs beside it and beside each
// other, so the dump client is drained at its own pace. Each block is
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
	stop    chan struct{} // closed when the emitter failed
	stopped sync.Once
	err     error // the emitter's, read after wg.Wait
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

// AddDump reads the dump stream to its end and stores it as fixed-size
// chunk entries, scanning and hashing it on the way. A read error (the
// dump failed) is returned as is. Memory stays bounded: a few raw blocks
// in flight and the chunk being filled, compressed.
func (w *Writer) AddDump(ctx context.Context, r io.Reader) (*DumpResult, error) {
	level := zstd.SpeedDefault
	if w.opts.Level > 0 {
		level = zstd.EncoderLevelFromZstd(w.opts.Level)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(w.opts.Concurrency),
		zstd.WithWindowSize(dumpBlockSize))
	if err != nil {
		return nil, fmt.Errorf("starting the dump compressor: %w", err)
	}
	defer enc.Close()
	// The frames of the dump go around the archive's streaming encoder:
	// its open frame ends here (after the previous entry's padding) and a
	// new one starts for what comes after the dump.
	if err := w.tw.Flush(); err != nil {
		return nil, fmt.Errorf("writing the archive before the dump: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return nil, fmt.Errorf("writing the archive before the dump: %w", err)
	}
	defer w.zw.Reset(w.dst)

	p := &dumpPipeline{w: w, enc: enc, free: make(chan []byte, dumpBlocksInFlight), stop: make(chan struct{})}
	for range dumpBlocksInFlight {
		p.free <- make([]byte, dumpBlockSize)
	}
	scanCh := make(chan *dumpBlock, dumpBlocksInFlight)
	chunkHashCh := make(chan *dumpBlock, dumpBlocksInFlight)
	dumpHashCh := make(chan *dumpBlock, dumpBlocksInFlight)
	compressCh := make(chan *dumpBlock, dumpBlocksInFlight)
	emitCh := make(chan *dumpBlock, dumpBlocksInFlight)

	var wg sync.WaitGroup
	scan := dumpscan.New()
	wg.Go(func() {
		for b := range scanCh {
			scan.Write(b.raw)
			p.release(b)
		}
	})
	var chunkSums []string
	wg.Go(func() {
		h := sha256.New()
		for b := range chunkHashCh {
			h.Write(b.raw)
			if b.endsChunk {
				chunkSums = append(chunkSums, hex.EncodeToString(h.Sum(nil)))
				h.Reset()
			}
			p.release(b)
		}
	})
	whole := sha256.New()
	wg.Go(func() { hashAll(p, whole, dumpHashCh) })
	var compressors sync.WaitGroup
	for range w.opts.Concurrency {
		compressors.Go(func() {
			for b := range compressCh {
				if len(b.raw) > 0 {
					b.frame = p.enc.EncodeAll(b.raw, make([]byte, 0, len(b.raw)/4))
				}
				p.release(b)
				close(b.done)
			}
		})
	}
	var chunkSizes []int64
	wg.Go(func() { chunkSizes = p.emit(emitCh) })

	readErr := p.read(ctx, r, []chan *dumpBlock{scanCh, chunkHashCh, dumpHashCh, compressCh}, emitCh)
	close(scanCh)
	close(chunkHashCh)
	close(dumpHashCh)
	close(compressCh)
	close(emitCh)
	compressors.Wait()
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	if p.err != nil {
		return nil, p.err
	}

	res := &DumpResult{SHA256: hex.EncodeToString(whole.Sum(nil))}
	for i, size := range chunkSizes {
		res.Chunks = append(res.Chunks, Chunk{Name: ChunkName(i), Size: size, SHA256: chunkSums[i]})
		res.Size += size
	}
	sr := scan.Result()
	res.Completed = sr.Completed
	res.Databases = sr.Databases
	for _, t := range sr.Tables {
		res.Tables = append(res.Tables, Table{Database: t.Database, Name: t.Name, Engine: t.Engine, Rows: t.Rows, View: t.View})
	}
	for _, o := range sr.Objects {
		res.Objects = append(res.Objects, Object{Database: o.Database, Kind: o.Kind, Name: o.Name})
	}
	return res, nil
}

func hashAll(p *dumpPipeline, h hash.Hash, blocks <-chan *dumpBlock) {
	for b := range blocks {
		h.Write(b.raw)
		p.release(b)
	}
}

// read fills blocks from r and hands each to every step. It returns the
// read error, ctx's, or nil at the end of the stream (or when the emitter
// failed: its error is p.err).
func (p *dumpPipeline) read(ctx context.Context, r io.Reader, readers []chan *dumpBlock, emitCh chan *dumpBlock) error {
	chunkSize := p.w.opts.ChunkSize
	var inChunk int64
	send := func(b *dumpBlock) bool {
		b.users.Store(int32(len(readers)))
		b.done = make(chan struct{})
		// The emitter first: it waits for each block's frame in order.
		for _, ch := range append([]chan *dumpBlock{emitCh}, readers...) {
			select {
			case ch <- b:
			case <-p.stop:
				// Steps already holding the block release it; the rest
				// never will, and the pipeline is ending anyway.
				return false
			}
		}
		return true
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return nil
		}
		want := min(int64(len(buf)), chunkSize-inChunk)
		n, err := io.ReadFull(r, buf[:want])
		if n > 0 {
			inChunk += int64(n)
			b := &dumpBlock{raw: buf[:n], n: n, endsChunk: inChunk == chunkSize}
			if b.endsChunk {
				inChunk = 0
			}
			if !send(b) {
				return nil
			}
		} else {
			p.free <- buf
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if inChunk > 0 {
				// The last chunk ends with the stream.
				if !send(&dumpBlock{endsChunk: true}) {
					return nil
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// emit writes each chunk once whole: its tar header, its blocks' frames
// in order, its padding. It returns the chunks' sizes.
func (p *dumpPipeline) emit(blocks <-chan *dumpBlock) []int64 {
	var sizes []int64
	var frames [][]byte
	var size int64
	for b := range blocks {
		if p.err != nil {
			// Drained without waiting, so that nothing upstream blocks:
			// once stopped, a block may never reach a compressor.
			continue
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
	w.raw.n += raw
	return nil
}

// tarBlock is tar's record unit: every entry's data is padded to it.
const tarBlock = 512
