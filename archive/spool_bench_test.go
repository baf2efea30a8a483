package archive

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/appwrite-dr/dr/internal/sakila"
)

// BenchmarkChunkSpool holds a 64 MiB chunk of a dump in a spool and
// writes it out, as a restore does with every chunk, and reports how much
// of the raw size the spool held: DR_BENCH_DUMP names the dump, else
// sakila's data is used, repeated.
//
//	go test -run X -bench ChunkSpool ./archive
func BenchmarkChunkSpool(b *testing.B) {
	path := os.Getenv("DR_BENCH_DUMP")
	if path == "" {
		path = filepath.Join(sakila.Dir(), "sakila-data.sql")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no dump to hold (set DR_BENCH_DUMP): %v", err)
	}
	chunk := make([]byte, 0, DefaultChunkSize)
	for len(chunk) < DefaultChunkSize {
		chunk = append(chunk, data[:min(len(data), DefaultChunkSize-len(chunk))]...)
	}
	s, err := NewChunkSpool()
	if err != nil {
		b.Fatal(err)
	}
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
