package teststack

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// KillChildAt runs the test binary as a child process with env=spec (its
// TestMain runs what spec says instead of the tests) and kills it with
// SIGKILL once it prints line on stdout: a kill -9 at the very point a
// test wants one.
func KillChildAt(t testing.TB, env, spec, line string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), env+"="+spec)
	var childErr strings.Builder
	child.Stderr = &childErr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	reached := false
	for sc := bufio.NewScanner(out); sc.Scan(); {
		if sc.Text() == line {
			reached = true
			break
		}
	}
	if !reached {
		child.Wait()
		t.Fatalf("the child ended before it printed %q: %s", line, childErr.String())
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
}

// FlipByte damages the file at path: one bit of its middle byte flipped,
// as a disk or a remote that lost data would.
func FlipByte(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
