package archive

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// spoolBlock is the unit a chunk is held in while it fills.
const spoolBlock = 1 << 20

// ChunkSpool holds a dump chunk until it may go on, compressed: tar needs
// an entry's size before its bytes (and a restore checks a chunk's sha256
// before the database sees a byte of it), so a chunk must be whole before
// it is written, and SQL text held raw would cost the full chunk size in
// memory (64 MiB by default). Held as blocks compressed at zstd's fastest
// level it costs about a tenth of that, for a fraction of a core.
type ChunkSpool struct {
	enc     *zstd.Encoder
	dec     *zstd.Decoder
	blocks  [][]byte // compressed, in order
	staging []byte   // the block being filled, raw
	scratch []byte   // a decompressed block on its way out
	size    int64
}

// NewChunkSpool makes an empty spool; Close releases it.
func NewChunkSpool() (*ChunkSpool, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(spoolBlock), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("starting the chunk spool: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(2*spoolBlock))
	if err != nil {
		return nil, fmt.Errorf("starting the chunk spool: %w", err)
	}
	return &ChunkSpool{enc: enc, dec: dec, staging: make([]byte, 0, spoolBlock)}, nil
}

// Write adds bytes to the chunk.
func (s *ChunkSpool) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), spoolBlock-len(s.staging))
		s.staging = append(s.staging, p[:take]...)
		p = p[take:]
		if len(s.staging) == spoolBlock {
			s.blocks = append(s.blocks, s.enc.EncodeAll(s.staging, nil))
			s.staging = s.staging[:0]
		}
	}
	s.size += int64(n)
	return n, nil
}

// Size is the raw bytes held.
func (s *ChunkSpool) Size() int64 { return s.size }

// WriteTo writes the chunk out, raw, and empties the spool.
func (s *ChunkSpool) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for i, b := range s.blocks {
		out, err := s.dec.DecodeAll(b, s.scratch[:0])
		if err != nil {
			return total, fmt.Errorf("reading back the chunk spool: %w", err)
		}
		s.scratch = out
		n, err := w.Write(out)
		total += int64(n)
		if err != nil {
			return total, err
		}
		s.blocks[i] = nil
	}
	n, err := w.Write(s.staging)
	total += int64(n)
	if err != nil {
		return total, err
	}
	s.Reset()
	return total, nil
}

// Reset empties the spool.
func (s *ChunkSpool) Reset() {
	clear(s.blocks)
	s.blocks = s.blocks[:0]
	s.staging = s.staging[:0]
	s.size = 0
}

// Close releases the encoder and decoder.
func (s *ChunkSpool) Close() {
	s.enc.Close()
	s.dec.Close()
}
