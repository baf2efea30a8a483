package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestDiffChecksumFindsRowsChangedInPlace: an UPDATE that keeps every row
// count is invisible to dr diff --live, and found by --checksum against
// the drill's checksums, naming exactly that table. Without a drill the
// checksum diff refuses, saying to run one.
func TestDiffChecksumFindsRowsChangedInPlace(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "drill:\n  memory: 512MiB\n")
	a := backupName(t, cfg, nil)

	_, errOut, code := run(t, nil, "diff", a, "--live", "--checksum", "--config", cfg)
	if code != exitDiffTrouble || !strings.Contains(errOut, "run dr drill "+a+" first") {
		t.Fatalf("--checksum without a drill: exit %d, want %d naming the fix; stderr %s", code, exitDiffTrouble, errOut)
	}
	t.Logf("dr diff --live --checksum before a drill: %s", errOut)
	_, errOut, code = run(t, nil, "diff", a, a, "--checksum", "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, "--live") {
		t.Errorf("--checksum without --live: exit %d, stderr %s", code, errOut)
	}

	out, errOut, code := run(t, nil, "drill", a, "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr drill: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "diff", a, "--live", "--checksum", "--config", cfg)
	if code != exitOK || !strings.HasSuffix(out, "no differences\n") {
		t.Fatalf("checksum diff of an untouched stack: exit %d\n%s%s", code, out, errOut)
	}

	orig := s.SQL(t, "SELECT QUOTE(provider) FROM appwrite._1_sessions WHERE _id = 1")
	t.Cleanup(func() { s.SQL(t, "UPDATE appwrite._1_sessions SET provider = "+orig+" WHERE _id = 1") })
	s.SQL(t, "UPDATE appwrite._1_sessions SET provider = 'attacker' WHERE _id = 1")

	out, errOut, code = run(t, nil, "diff", a, "--live", "--config", cfg)
	if code != exitOK {
		t.Fatalf("row counts alone should not see an in-place update: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "diff", a, "--live", "--checksum", "--config", cfg)
	if code != exitDiffers {
		t.Fatalf("checksum diff after an in-place update: exit %d, want %d\n%s%s", code, exitDiffers, out, errOut)
	}
	var tables []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "~ table ") || strings.HasPrefix(l, "+ table ") || strings.HasPrefix(l, "- table ") {
			name, _, _ := strings.Cut(l, ":")
			tables = append(tables, name)
		}
	}
	t.Logf("dr diff --live --checksum after the update:\n%s", out)
	if !reflect.DeepEqual(tables, []string{"~ table appwrite._1_sessions"}) || !strings.Contains(out, "(same row count)") || !strings.HasSuffix(out, "1 difference\n") {
		t.Errorf("checksum diff printed\n%s\nwant exactly one changed table, appwrite._1_sessions", out)
	}
}
