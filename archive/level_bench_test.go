package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/internal/sakila"
)

// benchDump is the dump a benchmark works on: the file DR_BENCH_DUMP
// names, else sakila's data; without either the benchmark is skipped.
func benchDump(b *testing.B) (path string, data []byte) {
	path = os.Getenv("DR_BENCH_DUMP")
	if path == "" {
		path = filepath.Join(sakila.Dir(), "sakila-data.sql")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no dump to work on (set DR_BENCH_DUMP): %v", err)
	}
	return path, data
}

// BenchmarkZstdLevel compresses a dump in the pipeline's 1 MiB frames at
// zstd levels 1 (the default) and 3, and reports each one's ratio beside
// its speed: DR_BENCH_DUMP names the dump, else sakila's data is used.
//
//	go test -run X -bench ZstdLevel ./archive
func BenchmarkZstdLevel(b *testing.B) {
	path, data := benchDump(b)
	for _, level := range []int{1, 3} {
		b.Run(fmt.Sprintf("%s/level-%d", filepath.Base(path), level), func(b *testing.B) {
			enc, err := zstd.NewWriter(nil, encoderOptions(WriterOptions{Level: level, Concurrency: 1}, zstd.WithWindowSize(dumpBlockSize))...)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			b.SetBytes(int64(len(data)))
			dst := make([]byte, 0, dumpBlockSize)
			var out int
			for b.Loop() {
				out = 0
				for off := 0; off < len(data); off += dumpBlockSize {
					dst = enc.EncodeAll(data[off:min(off+dumpBlockSize, len(data))], dst[:0])
					out += len(dst)
				}
			}
			b.ReportMetric(float64(len(data))/float64(out), "ratio")
		})
	}
}
