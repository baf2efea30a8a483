package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkOutFile refuses a value of a flag that names a file to write when
// it cannot name one: empty (a script's unset variable) or a directory.
// The write would otherwise fail with a link or rename error about a
// temporary file, or, for a directory that exists, claim the file exists.
// example is a file name to suggest, the flag's default.
func checkOutFile(flag, path, example string) error {
	if strings.TrimSpace(path) == "" {
		return usagef("--%s is empty: give the file to write, e.g. --%s %s", flag, flag, example)
	}
	isDir := strings.HasSuffix(path, string(filepath.Separator))
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		isDir = true
	}
	if isDir {
		return usagef("--%s %s is a directory: give a file in it, e.g. --%s %s", flag, path, flag, filepath.Join(path, example))
	}
	return nil
}

// checkOutDir refuses a file to write whose directory does not exist (or
// is not a directory), instead of creating it: for a file that must end
// up somewhere on purpose (an identity meant for a removable drive that
// is not mounted), writing it into a new directory on this host's disk
// is worse than stopping.
func checkOutDir(flag, path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef("--%s %s: the directory %s does not exist; create it first (or check that its drive is mounted)", flag, path, dir)
	case err != nil:
		return usagef("--%s %s: checking its directory: %w", flag, path, err)
	case !st.IsDir():
		return usagef("--%s %s: %s is not a directory", flag, path, dir)
	}
	return nil
}
