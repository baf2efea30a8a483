package archive

import (
	"io"
	"testing"
)

// BenchmarkChunkSpool holds a 64 MiB chunk of a dump in a spool and
// writes it out, as a restore does with every chunk, and reports how much
// of the raw size the spool held: DR_BENCH_DUMP names the dump, else
// sakila's data is used, repeated.
//
//	go test -run X -bench ChunkSpool ./archive
func BenchmarkChunkSpool(b *testing.B) {
	_, data := benchDump(b)
	chunk := make([]byte, 0, DefaultChunkSize)
	for len(chunk) < DefaultChunkSize {
		chunk = append(chunk, data[:min(len(data), DefaultChunkSize-len(chunk))]...)
	}
	s := NewChunkSpool()
	defer s.Close()
	b.SetBytes(int64(len(chunk)))
	var held int
	for b.Loop() {
		for off := 0; off < len(chunk); off += 256 << 10 {
			s.Write(chunk[off:min(off+256<<10, len(chunk))])
		}
		held = s.held()
		if _, err := s.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(held)/float64(len(chunk)), "held/raw")
}

// held is the bytes the spool holds for its chunk.
func (s *ChunkSpool) held() int {
	n := len(s.staging)
	for _, b := range s.blocks {
		n += len(b)
	}
	return n
}
