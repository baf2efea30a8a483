package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAcquireIsExclusiveAndReleasable(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(dir, "backup")
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	_, err = Acquire(dir, "prune")
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second acquire: got %v, want *HeldError", err)
	}
	if !strings.Contains(held.Holder, "(backup)") {
		t.Errorf("holder %q does not name the running operation", held.Holder)
	}
	if err := first.Release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	again, err := Acquire(dir, "prune")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	if err := again.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestAcquireCreatesStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l, err := Acquire(dir, "backup")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("lock file missing: %v", err)
	}
}

func TestAcquireUnusableDirIsAClearError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Acquire(file, "backup")
	if err == nil || !strings.Contains(err.Error(), "creating state directory") {
		t.Fatalf("got %v, want an error naming the state directory", err)
	}
}
