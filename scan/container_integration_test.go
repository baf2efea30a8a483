package scan_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/scan/scantest"
)

// TestContainerClamd scans through container:SERVICE for real: a
// container labelled as service clamav of a compose project runs the
// host's own clamdscan (its root mounted read-only, entered with chroot,
// as no image with ClamAV can be pulled here) against the test's clamd.
// What is real is the path dr takes: the engine's exec, the file streamed
// on clamdscan's standard input, its output and exit code read back.
func TestContainerClamd(t *testing.T) {
	teststack.Skip(t)
	if _, err := exec.LookPath("clamdscan"); err != nil {
		if teststack.Required() {
			t.Fatal("this test needs clamdscan: apt-get install clamav-daemon (DR_INTEGRATION=required, so this is a failure)")
		}
		t.Skip("this test needs clamdscan: apt-get install clamav-daemon")
	}
	eng := teststack.Engine(t)
	planted := []byte("planted-by-dr-test: not a real virus\n")
	clamd := scantest.StartClamd(t, map[string][]byte{"evil.php": planted})

	dir, err := os.MkdirTemp("", "clamdscan")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "clamd.conf")
	wrapper := filepath.Join(dir, "clamdscan")
	if err := os.WriteFile(conf, []byte("LocalSocket "+clamd.Socket+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same paths on both sides: chroot enters the host's root.
	script := fmt.Sprintf("#!/bin/sh\nexec chroot /host clamdscan --config-file=%s \"$@\"\n", conf)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	project := fmt.Sprintf("drscan%d", time.Now().UnixNano()%1_000_000)
	name := project + "-clamav-1"
	out, err := exec.Command("docker", "run", "-d", "--name", name, "--network", "none",
		"--label", "com.docker.compose.project="+project, "--label", "com.docker.compose.service=clamav",
		"-v", "/:/host:ro", "-v", wrapper+":/usr/local/bin/clamdscan:ro",
		"--entrypoint", "sleep", teststack.Image(), "infinity").CombinedOutput()
	if err != nil {
		t.Fatalf("starting the clamav container: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "-v", name).Run() })

	cfg := config.Default()
	cfg.Stack.Project = project
	cfg.Scan.Clamd = "container:clamav"
	ctx := context.Background()
	s, err := scan.Open(ctx, cfg, eng)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Scan(ctx, strings.NewReader(string(planted)))
	if err != nil || !v.Infected || v.Signature != clamd.Signatures["evil.php"] {
		t.Fatalf("planted file: %+v, %v", v, err)
	}
	if v, err := s.Scan(ctx, strings.NewReader("an ordinary upload\n")); err != nil || v.Infected {
		t.Fatalf("clean file: %+v, %v", v, err)
	}
	// The container's clamd goes away: a clear error, not a clean verdict.
	clamd.Stop()
	if _, err := s.Scan(ctx, strings.NewReader("x")); !scan.IsUnreachable(err) || !strings.Contains(err.Error(), "container:clamav") {
		t.Fatalf("clamd stopped: got %v, want unreachable naming container:clamav", err)
	}
	// No container for the service at all.
	cfg.Scan.Clamd = "container:antivirus"
	if _, err := scan.Open(ctx, cfg, eng); !scan.IsUnreachable(err) || !strings.Contains(err.Error(), "service antivirus") {
		t.Fatalf("no such service: got %v", err)
	}
}
