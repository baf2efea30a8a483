package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/scan/scantest"
)

// TestScanCommands: with scan.clamd set, dr drill lists a planted upload
// clamd knows, dr runbook run hacked --keep-infected restores it saying
// so, and with a clamd that does not answer both fail, the runbook
// before it restores anything.
func TestScanCommands(t *testing.T) {
	s := stack.Get(t)
	const planted = "planted-by-dr-test: not a real virus\n"
	clamd := scantest.StartClamd(t, map[string][]byte{"evil.php": []byte(planted)})
	s.Exec(t, teststack.AppService, "printf '"+strings.TrimSuffix(planted, "\n")+"\\n' > /storage/uploads/app-console/evil.php")
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -f /storage/uploads/app-console/evil.php") })
	dest, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	config := func(clamdAddr string) string {
		return writeConfig(t, fmt.Sprintf(`stack:
  project: %s
  dir: %s
  volumes: [appwrite-uploads]
destinations:
  - name: local
    remote: %s
archive: {chunk_size: 1MiB}
drill: {memory: 512MiB}
state_dir: %s
scan:
  clamd: %s
`, s.Project, s.Dir, dest, state, clamdAddr))
	}
	cfg := config("unix:" + clamd.Socket)
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	entry := "volumes/appwrite-uploads/app-console/evil.php"
	out, errOut, code := run(t, nil, "drill", "--config", cfg)
	if code != exitFailed || !strings.Contains(out, "infected files (dr runbook run hacked leaves them out):\n  "+entry+"  "+clamd.Signatures["evil.php"]+"\n") ||
		!strings.Contains(errOut, "drill failed: scan") {
		t.Errorf("dr drill: exit %d\n%s%s", code, out, errOut)
	}
	before := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out, errOut, code = run(t, nil, "runbook", "run", "hacked", "--before", before, "--keep-infected", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "INFECTED "+entry) || !strings.Contains(out, "--keep-infected: 1 file is restored all the same") {
		t.Errorf("dr runbook run hacked --keep-infected: exit %d\n%s%s", code, out, errOut)
	}
	if tree := s.VolumeTree(t, "appwrite-uploads"); tree["./app-console/evil.php"] == "" {
		t.Errorf("--keep-infected did not restore the file: %v", tree)
	}

	down := config("unix:/nonexistent/clamd.ctl")
	out, errOut, code = run(t, nil, "drill", "--config", down)
	if code != exitFailed || !strings.Contains(out, "not scanned: clamd at unix:/nonexistent/clamd.ctl cannot be reached") {
		t.Errorf("dr drill, clamd down: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "runbook", "run", "hacked", "--before", before, "--yes", "--config", down)
	if code != exitFailed || !strings.Contains(errOut, "(Scan the uploads for malware): nothing was restored") || strings.Contains(out, "] Write the compose files") {
		t.Errorf("dr runbook run hacked, clamd down: exit %d\n%s%s", code, out, errOut)
	}
}

func TestRunbookCommandLineKeepsKeepInfected(t *testing.T) {
	got := runbookCommand("hacked", runbookOptions{before: "2026-11-20T00:00:00Z", keepInfected: true}, "/etc/dr/dr.yaml")
	if want := "dr runbook run hacked --before 2026-11-20T00:00:00Z --config /etc/dr/dr.yaml --keep-infected --yes"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
