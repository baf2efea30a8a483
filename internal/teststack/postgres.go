package teststack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// PostgresImage is the test PostgreSQL image's reference, built by
// testdata/postgres-image/build.sh when missing: dr-test/postgres:<major>,
// the PostgreSQL of the machine's Debian release, with the official
// postgres image's environment contract. DR_TEST_PG_IMAGE names another
// one. It skips (or fails, see Skip) without an engine.
func PostgresImage(t testing.TB) string {
	t.Helper()
	Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), imageTimeout)
	defer cancel()
	img, err := ensurePostgresImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ensurePostgresImage runs the build script, which does nothing but name
// the image when it is present, under the same lock as the MariaDB
// image's build: two bootstraps at once would only slow each other.
func ensurePostgresImage(ctx context.Context) (string, error) {
	if img := os.Getenv("DR_TEST_PG_IMAGE"); img != "" {
		if exec.CommandContext(ctx, "docker", "image", "inspect", img).Run() == nil {
			return img, nil
		}
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "dr-test-image.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("opening the image build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("taking the image build lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(Root(), "testdata", "postgres-image", "build.sh"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building the test PostgreSQL image (bash testdata/postgres-image/build.sh): %v\n%s", err, stderr.String())
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return "", fmt.Errorf("testdata/postgres-image/build.sh printed no image tag\n%s", stderr.String())
	}
	return lines[len(lines)-1], nil
}
