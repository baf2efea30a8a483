package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

// cloneBackup copies a committed backup on a local destination to the
// name it would have had if taken at another time: the same archive
// object, and a sidecar that names it (its object size and sha256 still
// hold).
func cloneBackup(t *testing.T, dest, name string, at time.Time) string {
	t.Helper()
	p, err := archive.ParseObjectName(name)
	if err != nil {
		t.Fatal(err)
	}
	clone := archive.ObjectName(p.Stack, at, p.Encrypted)
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
	m.Name, m.StartedAt, m.FinishedAt = clone, at, at
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, clone), body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, archive.SidecarName(clone)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return clone
}

// pruneLine is the line dr prune printed for a backup.
func pruneLine(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, name) {
			return l
		}
	}
	return ""
}

// TestPruneKeepWithinOneMonth: keep_within: 1m in dr.yaml is one month,
// as in restic and borg. A real backup of the stack and copies of it dated
// back in time on a local destination; dr prune keeps every backup less
// than a month older than the newest and removes the rest. Before, 1m was
// one minute and dr prune removed all but the newest.
func TestPruneKeepWithinOneMonth(t *testing.T) {
	s := stack.Get(t)
	cfg, dest, _ := stackConfig(t, s, "")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	var newest string
	for _, e := range entries {
		if _, err := archive.ParseObjectName(e.Name()); err == nil {
			newest = e.Name()
		}
	}
	p, err := archive.ParseObjectName(newest)
	if err != nil {
		t.Fatalf("no backup on the destination: %v", err)
	}
	day := func(n int) time.Time { return p.Time.AddDate(0, 0, -n) }
	young := []string{newest}
	for _, n := range []int{1, 10, 25} { // no month is shorter than 28 days
		young = append(young, cloneBackup(t, dest, newest, day(n)))
	}
	// Two on the same day, 400 days back: the older is the oldest backup.
	longAgo := day(400).Truncate(24 * time.Hour)
	old := []string{
		cloneBackup(t, dest, newest, day(40)), // no month is longer than 31 days
		cloneBackup(t, dest, newest, day(70)),
		cloneBackup(t, dest, newest, longAgo.Add(12*time.Hour)),
	}
	oldest := cloneBackup(t, dest, newest, longAgo.Add(11*time.Hour))
	old = append(old, oldest)

	// keep_yearly 10 has room after two or three years: the oldest backup
	// is kept too, and dry-run says why.
	yearly := writeConfig(t, strings.Replace(mustRead(t, cfg), "remote:", "retention: {keep_last: 0, keep_daily: 0, keep_weekly: 0, keep_monthly: 0, keep_yearly: 10}\n    remote:", 1))
	out, errOut, code := run(t, nil, "prune", "--dry-run", "--config", yearly)
	if code != exitOK {
		t.Fatalf("prune --dry-run with keep_yearly: exit %d\n%s%s", code, out, errOut)
	}
	if l := pruneLine(out, oldest); !strings.HasPrefix(strings.TrimSpace(l), "keep") || !strings.Contains(l, "oldest, while the yearly rule has room") {
		t.Errorf("keep_yearly 10: the oldest backup's line is %q, want it kept as the oldest\n%s", l, out)
	}

	policy := writeConfig(t, strings.Replace(mustRead(t, cfg), "remote:", "retention: {keep_last: 0, keep_daily: 0, keep_weekly: 0, keep_monthly: 0, keep_within: 1m}\n    remote:", 1))
	out, errOut, code = run(t, nil, "prune", "--dry-run", "--config", policy)
	if code != exitOK || !strings.Contains(out, "keep 4, remove 4") {
		t.Fatalf("prune --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range young {
		if l := pruneLine(out, name); !strings.Contains(l, "within 1 month of the newest") {
			t.Errorf("%s: %q, want it kept within 1 month of the newest", name, l)
		}
	}
	out, errOut, code = run(t, nil, "prune", "--config", policy)
	if code != exitOK {
		t.Fatalf("prune: exit %d\n%s%s", code, out, errOut)
	}
	entries, err = os.ReadDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		if _, err := archive.ParseObjectName(e.Name()); err == nil {
			left = append(left, e.Name())
		}
	}
	slices.Sort(left)
	slices.Sort(young)
	if !slices.Equal(left, young) {
		t.Errorf("after dr prune with keep_within: 1m the destination holds %v, want the backups of the last month %v (removed should be %v)", left, young, old)
	}
}
