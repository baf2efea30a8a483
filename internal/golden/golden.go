// Package golden compares a test's output with a file under testdata/,
// or rewrites the file when the test runs with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is a test binary's flag: a package whose tests use Check must not
// define its own -update.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// Update says whether the test binary runs with -update: for a test that
// rewrites a file of its own (docs/cli) under the same flag.
func Update() bool { return *update }

// Check compares got with testdata/name, or writes it there under -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file %s (run go test -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s\nwant:\n%s\n(run go test -update if the change is intended)", name, got, want)
	}
}
