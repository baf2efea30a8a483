package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// twoDestinations writes a dr.yaml with a local destination and a second
// one at remote (an rclone remote path), each with a 2s timeout.
func twoDestinations(t *testing.T, s *teststack.Stack, second, remote string) (cfgPath, local string) {
	t.Helper()
	local = t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	cfgPath = writeConfig(t, fmt.Sprintf(`stack:
  project: %s
  dir: %s
  volumes: []
destinations:
  - name: local
    remote: %s
    timeout: 2s
  - name: %s
    remote: "%s"
    timeout: 2s
archive: {chunk_size: 1MiB}
state_dir: %s
`, s.Project, s.Dir, local, second, strings.ReplaceAll(remote, `"`, `\"`), state))
	return cfgPath, local
}

// summaryLine is the line of a backup summary that starts with name.
func summaryLine(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

func listNames(t *testing.T, cfg string) ([]listedBackup, string) {
	t.Helper()
	out, errOut, code := run(t, nil, "list", "--json", "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr list: exit %d: %s", code, errOut)
	}
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("dr list --json printed %q: %v", out, err)
	}
	return listed, errOut
}

// A WebDAV destination whose server is down before the run: the backup
// commits on the local one and exits 1 naming the dead one; list, restore
// and a runbook work from the local one; when the server is back, the next
// backup commits on both.
func TestOneDestinationDown(t *testing.T) {
	s := stack.Get(t)
	davDir := t.TempDir()
	dav := remotetest.WebDAV(t, davDir, false)
	addr := dav.Addr()
	dav.Stop() // down before the run
	cfg, local := twoDestinations(t, s, "dav", dav.Remote+"backups")

	out, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitPartial {
		t.Fatalf("backup with dav down: exit %d, want %d (committed on the others)\n%s%s", code, exitPartial, out, errOut)
	}
	if !strings.HasPrefix(summaryLine(out, "local"), "committed") || !strings.HasPrefix(summaryLine(out, "dav"), "FAILED") || !strings.Contains(errOut, `"dav"`) {
		t.Errorf("backup with dav down does not say local committed and dav failed:\n%s%s", out, errOut)
	}
	listed, errOut := listNames(t, cfg)
	if len(listed) != 1 || strings.Join(listed[0].Destinations, ",") != "local" {
		t.Fatalf("list with dav down = %+v, want one backup on local", listed)
	}
	if !strings.Contains(errOut, `destination unreachable; working from the others" destination=dav`) {
		t.Errorf("list does not name the unreachable destination: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(local, listed[0].Name)); err != nil {
		t.Errorf("the local copy is missing: %v", err)
	}

	out, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "imported;") {
		t.Errorf("restore --latest with dav down: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "runbook", "run", "db-corrupted", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "verified on local") {
		t.Errorf("runbook db-corrupted with dav down: exit %d\n%s%s", code, out, errOut)
	}

	// The server returns: the next run commits on both.
	remotetest.WebDAVAt(t, davDir, addr)
	// Names carry seconds: the clock skips one instead of waiting for it.
	clock := &skewClock{}
	clock.skip(time.Second)
	out, errOut, code = runAt(t, clock.now, nil, "backup", "--config", cfg)
	if code != exitOK || !strings.HasPrefix(summaryLine(out, "dav"), "committed") {
		t.Fatalf("backup with dav back: exit %d\n%s%s", code, out, errOut)
	}
	listed, _ = listNames(t, cfg)
	if len(listed) != 2 || strings.Join(listed[0].Destinations, ",") != "local,dav" {
		t.Errorf("list with dav back = %+v, want the newest on local and dav", listed)
	}
}

// A destination that accepts connections and never answers (a paused
// server): the backup fails it after its timeout and commits on the local
// one; list works from the local one.
func TestPausedDestination(t *testing.T) {
	s := stack.Get(t)
	silent := remotetest.Silent(t)
	cfg, _ := twoDestinations(t, s, "paused", fmt.Sprintf(":webdav,url='http://%s':backups", silent))

	out, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitPartial || !strings.HasPrefix(summaryLine(out, "local"), "committed") || !strings.Contains(errOut, "did not answer within 2s") {
		t.Fatalf("backup with a paused destination: exit %d\n%s%s", code, out, errOut)
	}
	listed, errOut := listNames(t, cfg)
	if len(listed) != 1 || !strings.Contains(errOut, "destination=paused") {
		t.Errorf("list with a paused destination = %+v\n%s", listed, errOut)
	}
}

// A byte flipped in the first destination's copy: the restore passes it
// over, restores from the second, and the database equals the backup.
func TestRestoreFallsBackToTheNextCopy(t *testing.T) {
	s := stack.Get(t)
	second := t.TempDir()
	cfg, first := twoDestinations(t, s, "second", second)
	want := s.Checksums(t, "appwrite")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	listed, _ := listNames(t, cfg)
	if len(listed) != 1 || len(listed[0].Destinations) != 2 {
		t.Fatalf("list = %+v, want one backup on both", listed)
	}
	teststack.FlipByte(t, filepath.Join(first, listed[0].Name))
	s.SQL(t, "DELETE FROM appwrite._1_users LIMIT 1")

	out, errOut, code := run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg)
	if code != exitOK {
		t.Fatalf("restore with a damaged first copy: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "passed over the copy on local") || !strings.Contains(errOut, "verified the copy on second") {
		t.Errorf("the restore does not say it fell back:\n%s", errOut)
	}
	if got := s.Checksums(t, "appwrite"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the database differs from the backup after the fallback:\n got %v\nwant %v", got, want)
	}

	// Both copies damaged: refused, each copy's fault named.
	teststack.FlipByte(t, filepath.Join(second, listed[0].Name))
	_, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "did not verify on any destination") || !strings.Contains(errOut, "local:") || !strings.Contains(errOut, "second:") {
		t.Errorf("restore with every copy damaged: exit %d\n%s", code, errOut)
	}
}

// Two stacks share one destination, the other's backup the newer: every
// command picks this stack's backups only.
func TestTwoStacksShareADestination(t *testing.T) {
	s := stack.Get(t)
	cfg, dest, _ := stackConfig(t, s, "")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	mine, _ := listNames(t, cfg)
	if len(mine) != 1 {
		t.Fatalf("list = %+v", mine)
	}
	theirs := otherStackBackup(t, dest, mine[0].Name, "otherstack", time.Now().Add(time.Hour))

	listed, _ := listNames(t, cfg)
	if len(listed) != 1 || listed[0].Name != mine[0].Name {
		t.Errorf("list shows %+v, want this stack's backup only", listed)
	}
	out, errOut, code := run(t, nil, "verify", "--latest", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "verify "+mine[0].Name) {
		t.Errorf("verify --latest: exit %d, want this stack's backup verified\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "restore", "--latest", "--dry-run", "--config", cfg)
	if code != exitOK || !strings.Contains(out, mine[0].Name) || strings.Contains(out, theirs) {
		t.Errorf("restore --latest --dry-run: exit %d, want this stack's backup\n%s%s", code, out, errOut)
	}
	_, errOut, code = run(t, nil, "restore", theirs, "--dry-run", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "not of the configured stack.project") {
		t.Errorf("restore of the other stack's backup by name: exit %d, stderr %s", code, errOut)
	}
	// keep_last 1 would remove this stack's older backup only; the other
	// stack's newer one is not this host's to judge.
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("second backup: exit %d: %s", code, errOut)
	}
	policy := writeConfig(t, strings.Replace(mustRead(t, cfg), "remote:", "retention: {keep_last: 1, keep_daily: 0, keep_weekly: 0, keep_monthly: 0}\n    remote:", 1))
	out, errOut, code = run(t, nil, "prune", "--config", policy)
	if code != exitOK || !strings.Contains(out, "keep 1, remove 1") {
		t.Errorf("prune: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dest, theirs)); err != nil {
		t.Errorf("the prune touched the other stack's backup: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, mine[0].Name)); err == nil {
		t.Errorf("the prune kept this stack's older backup %s", mine[0].Name)
	}
}

// otherStackBackup copies a committed backup on a local destination as if
// another stack had taken it at another time.
func otherStackBackup(t *testing.T, dest, name, stack string, at time.Time) string {
	t.Helper()
	p, err := archive.ParseObjectName(name)
	if err != nil {
		t.Fatal(err)
	}
	other := archive.ObjectName(stack, at, p.Encrypted)
	body, err := os.ReadFile(filepath.Join(dest, name))
	if err != nil {
		t.Fatal(err)
	}
	sidecar, err := os.ReadFile(filepath.Join(dest, archive.SidecarName(name)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := archive.ParseManifest(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	m.Name, m.Stack, m.StartedAt, m.FinishedAt = other, stack, at, at
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, other), body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, archive.SidecarName(other)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return other
}
