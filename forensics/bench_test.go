package forensics

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/appwrite-dr/dr/archive"
)

// BenchmarkHashTar measures the live side's hashing of a volume stream:
// 256 files of 256 KiB.
func BenchmarkHashTar(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("appwrite upload "), 16<<10)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "volume/", Mode: 0o755})
	for i := range 256 {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("volume/f%03d", i), Mode: 0o644, Size: int64(len(body))})
		tw.Write(body)
	}
	tw.Close()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := HashTar(context.Background(), bytes.NewReader(data), archive.VolumeRoot); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompareVolumes compares two 100 000-entry volumes that differ
// in one file.
func BenchmarkCompareVolumes(b *testing.B) {
	mk := func() *Snapshot {
		v := make(map[string]FileState, 100_000)
		for i := range 100_000 {
			v[fmt.Sprintf("bucket%02d/file%06d", i%50, i)] = file(fmt.Sprintf("%064d", i))
		}
		return &Snapshot{Volumes: map[string]map[string]FileState{"uploads": v}}
	}
	a, c := mk(), mk()
	c.Volumes["uploads"]["bucket00/file000000"] = file("changed")
	for b.Loop() {
		if r := Compare(a, c); r.Total() != 1 {
			b.Fatalf("total %d", r.Total())
		}
	}
}
