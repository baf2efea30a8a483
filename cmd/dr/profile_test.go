package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUProfileFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	if _, stderr, code := run(t, nil, "--cpuprofile", path, "version"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A profile is gzip-compressed protobuf.
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Errorf("%s holds %d bytes that are not a gzip'd profile", path, len(data))
	}
	_, stderr, code := run(t, nil, "--cpuprofile", filepath.Join(t.TempDir(), "missing", "cpu.pprof"), "version")
	if code != 2 || !strings.Contains(stderr, "--cpuprofile") {
		t.Errorf("an unwritable profile path: exit %d, %q; want 2 naming --cpuprofile", code, stderr)
	}
}
