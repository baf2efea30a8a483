package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReadsFormat1 reads an archive written by the format 1 writer (the
// last dr before format 2, with its whole-dump sha256 and zstd level 3),
// kept as it was written: every later dr must verify and restore it.
func TestReadsFormat1(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "format1.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join("testdata", "format1.sidecar.json"))
	if err != nil {
		t.Fatal(err)
	}
	sidecar, err := ParseManifest(js)
	if err != nil {
		t.Fatalf("parsing a format 1 sidecar: %v", err)
	}
	if sidecar.Format != 1 || sidecar.Database.DumpSHA256 == "" {
		t.Fatalf("fixture is format %d with dump_sha256 %q; want a format 1 one that has it", sidecar.Format, sidecar.Database.DumpSHA256)
	}
	rep, err := Verify(context.Background(), bytes.NewReader(data), sidecar, ReaderOptions{})
	if err != nil {
		t.Fatalf("verifying a format 1 archive: %v", err)
	}
	if rep.DumpBytes != int64(len(testDump)) || rep.Chunks != len(sidecar.Database.Chunks) {
		t.Errorf("verified %d dump bytes in %d chunks; want %d in %d", rep.DumpBytes, rep.Chunks, len(testDump), len(sidecar.Database.Chunks))
	}
}

// TestWritesNoWholeDumpSum: format 2 hashes each dump byte once, for its
// chunk; the whole dump's sum is gone from the manifest.
func TestWritesNoWholeDumpSum(t *testing.T) {
	_, sidecar := build(t, WriterOptions{ChunkSize: 64}, testDump)
	if sidecar.Format != FormatVersion || FormatVersion < 2 || sidecar.Database.DumpSHA256 != "" {
		t.Errorf("format %d, dump_sha256 %q; want format %d without it", sidecar.Format, sidecar.Database.DumpSHA256, FormatVersion)
	}
}
