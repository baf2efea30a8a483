// Package sakila reads the Sakila sample database (views, triggers,
// routines, spatial and fulltext indexes, BLOBs) from ../shared/datasets,
// beside the repository, for the tests that need a real dataset nobody
// here wrote. It is never copied into the project.
package sakila

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is where the dataset is expected.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "datasets", "sakila")
}

// Files returns the dataset's schema and data scripts. Without them the
// test skips, naming where it looked, so a newcomer's make test on a clone
// with nothing beside it passes; with DR_SAKILA=required (as .ci/run sets,
// and CI always has the dataset) it fails instead, so a missing dataset
// cannot pass CI unseen. It is a variable of its own, not
// DR_INTEGRATION, because make test requires the engine (it installs one)
// but cannot conjure the dataset.
func Files(t testing.TB) (schema, data []byte) {
	t.Helper()
	dir := Dir()
	schema, err1 := os.ReadFile(filepath.Join(dir, "sakila-schema.sql"))
	data, err2 := os.ReadFile(filepath.Join(dir, "sakila-data.sql"))
	if err1 != nil || err2 != nil {
		msg := "the sakila dataset is not at " + dir + " (CI has it)"
		if os.Getenv("DR_SAKILA") == "required" {
			t.Fatalf("%s (DR_SAKILA=required, so this is a failure): %v %v", msg, err1, err2)
		}
		t.Skipf("%s: %v %v", msg, err1, err2)
	}
	return schema, data
}
