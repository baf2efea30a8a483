package archive

import (
	"context"
	"io"
	"os"
	"testing"
)

// BenchmarkAddDumpFile archives a real dump file named by DR_BENCH_DUMP
// (e.g. one taken from the bench database), for CPU profiles of the dump
// path on data as mariadb-dump writes it:
//
//	DR_BENCH_DUMP=/tmp/dump.sql go test -run X -bench AddDumpFile -cpuprofile cpu.out ./archive
func BenchmarkAddDumpFile(b *testing.B) {
	path := os.Getenv("DR_BENCH_DUMP")
	if path == "" {
		b.Skip("DR_BENCH_DUMP names no dump file")
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		w, err := NewWriter(io.Discard, WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.AddDump(context.Background(), f); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(&Manifest{Name: "x", Stack: "y"}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
