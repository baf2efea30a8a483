package remotetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FullDisk returns a directory on a real, tiny filesystem (a tmpfs of
// size bytes, mounted for the test and unmounted after it), so that a
// local destination there runs out of space for real. It returns "" where
// mounting is not allowed (not root, no mount(8)); callers then fall back
// to NoSpace around a real backend.
func FullDisk(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := exec.LookPath("mount"); err != nil {
		return ""
	}
	dir := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("mounting a tmpfs at %s: %v: %s (falling back to an injected ENOSPC)", dir, err, out)
		return ""
	}
	// Registered after TempDir's own cleanup, so it runs first.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting the tmpfs at %s: %v: %s", dir, err, out)
		}
	})
	return dir
}
