package main

import (
	"strings"
	"testing"
)

// TestDropAsideDryRunDropsNothing: the deprecated dr restore --drop-aside
// with --dry-run says what it would drop and touches no server (it asks
// nothing, and needs no engine or config to get that far).
func TestDropAsideDryRunDropsNothing(t *testing.T) {
	out, errOut, code := run(t, map[string]string{"DR_CONFIG": "/nonexistent/dr.yaml"}, "restore", "--drop-aside", "dr_aside_appwrite_20261207T030000Z", "--dry-run")
	if code != exitOK || !strings.Contains(out, "nothing dropped") || !strings.Contains(out, "dr_aside_appwrite_20261207T030000Z") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}
