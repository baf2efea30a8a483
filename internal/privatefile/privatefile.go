// Package privatefile writes files only their owner can read, never half:
// a config with credentials, the state a backup compares against.
package privatefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrExists says path is there already and Write was not to replace it.
var ErrExists = errors.New("file exists")

// Write writes data to path with mode 0600, in a directory it makes 0700
// when missing. It goes to a temporary file beside path first, synced, so
// a crash leaves the old file or the new one. Without replace an existing
// path is left alone (os.Link refuses to replace it, so two writers cannot
// race past the check either) and the error wraps ErrExists.
func Write(path string, data []byte, replace bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // gone once linked or renamed; an undo otherwise
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if replace {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
