package archive

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
)

// spoolBlock is the unit a chunk is held in while it fills.
const spoolBlock = 1 << 20

// ChunkSpool holds a dump chunk until it may go on, compressed: tar needs
// an entry's size before its bytes (and a restore checks a chunk's sha256
// before the database sees a byte of it), so a chunk must be whole before
// it is written, and SQL text held raw would cost the full chunk size in
// memory (64 MiB by default). Held as blocks compressed with S2 (Snappy's
// faster successor, in the same klauspost/compress module as zstd) it
// costs about a third of that: zstd's fastest level held a fifth for
// twice the CPU, which a restore spends while the server imports
// (BenchmarkChunkSpool).
type ChunkSpool struct {
	blocks  [][]byte // compressed, in order
	free    [][]byte // buffers of blocks written out, for the next chunk
	encoded []byte   // a block as it is compressed
	staging []byte   // the block being filled, raw
	scratch []byte   // a decompressed block on its way out
	size    int64
}

// NewChunkSpool makes an empty spool; Close releases it.
func NewChunkSpool() *ChunkSpool {
	return &ChunkSpool{staging: make([]byte, 0, spoolBlock)}
}

// Write adds bytes to the chunk.
func (s *ChunkSpool) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), spoolBlock-len(s.staging))
		s.staging = append(s.staging, p[:take]...)
		p = p[take:]
		if len(s.staging) == spoolBlock {
			s.hold()
			s.staging = s.staging[:0]
		}
	}
	s.size += int64(n)
	return n, nil
}

// hold compresses the staging block and keeps it, in a buffer a block
// written out left when one is large enough: a chunk after the first
// allocates little.
func (s *ChunkSpool) hold() {
	if s.encoded == nil {
		s.encoded = make([]byte, s2.MaxEncodedLen(spoolBlock))
	}
	enc := s2.Encode(s.encoded, s.staging)
	var b []byte
	for i, f := range s.free {
		if cap(f) >= len(enc) {
			b = f[:len(enc)]
			s.free = append(s.free[:i], s.free[i+1:]...)
			break
		}
	}
	if b == nil {
		b = make([]byte, len(enc), len(enc)+len(enc)/8)
	}
	copy(b, enc)
	s.blocks = append(s.blocks, b)
}

// Size is the raw bytes held.
func (s *ChunkSpool) Size() int64 { return s.size }

// WriteTo writes the chunk out, raw, and empties the spool.
func (s *ChunkSpool) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for i, b := range s.blocks {
		out, err := s2.Decode(s.scratch[:cap(s.scratch)], b)
		if err != nil {
			return total, fmt.Errorf("reading back the chunk spool: %w", err)
		}
		s.scratch = out
		n, err := w.Write(out)
		total += int64(n)
		if err != nil {
			return total, err
		}
		s.free = append(s.free, b)
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
	for _, b := range s.blocks {
		if b != nil {
			s.free = append(s.free, b)
		}
	}
	clear(s.blocks)
	s.blocks = s.blocks[:0]
	s.staging = s.staging[:0]
	s.size = 0
}

// Close releases the spool's blocks.
func (s *ChunkSpool) Close() {
	s.Reset()
	s.staging, s.scratch, s.encoded, s.free = nil, nil, nil, nil
}
