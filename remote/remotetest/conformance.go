package remotetest

import (
	"os"
	"path/filepath"
	"testing"
)

// kinds are the remote kinds every conformance test runs against: the
// local backend, rclone's in-memory one (the store of the fakes), and
// rclone's own servers started in-process. A new kind added here gets
// every conformance test, of the transport and of the repository.
var kinds = []struct {
	name   string
	remote func(t *testing.T) string
}{
	{"local", func(t *testing.T) string { return t.TempDir() }},
	{"memory", func(t *testing.T) string { return Memory(t) }},
	{"sftp", func(t *testing.T) string { return StartSFTP(t, t.TempDir()) }},
	{"webdav", func(t *testing.T) string { return StartWebDAV(t, t.TempDir(), false) }},
	{"s3", func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "drbackups"), 0o755); err != nil {
			t.Fatal(err)
		}
		return StartS3(t, dir)
	}},
}

// Conformance runs fn against a fresh, empty remote of every kind, each
// in a subtest named after its kind.
func Conformance(t *testing.T, fn func(t *testing.T, remote string)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { fn(t, k.remote(t)) })
	}
}
