package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDrillCommand(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "drill:\n  memory: 512MiB\n  queries:\n    - {name: one, sql: SELECT 1, expect: \"1\"}\n")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{
		{"drill", "--latest", "some-name"},
		{"drill", "--cleanup", "--latest"},
		{"drill", "--before", "yesterday-ish"},
	} {
		if _, errOut, code := run(t, nil, append(args, "--config", cfg)...); code != exitUsage {
			t.Errorf("dr %v: exit %d, want %d (stderr %s)", args, code, exitUsage, errOut)
		}
	}

	out, errOut, code := run(t, nil, "drill", "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr drill: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"tables       passed", "query: one   passed", "restore time (RTO)", "report: ", "drill passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dr drill output lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = run(t, nil, "list", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "LAST DRILL") || !strings.Contains(out, "passed, RTO ") {
		t.Errorf("dr list after a drill: exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ = run(t, nil, "list", "--json", "--config", cfg)
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].LastDrill == nil || !listed[0].LastDrill.Passed || listed[0].LastDrill.RTOSeconds <= 0 {
		t.Fatalf("dr list --json = %s", out)
	}

	// A failing check: exit 1, and the summary names it.
	cfg2, _, _ := stackConfig(t, s, "drill:\n  memory: 512MiB\n  queries:\n    - {name: projects, sql: SELECT 0, expect: \"1\"}\n")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg2); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	out, errOut, code = run(t, nil, "drill", "--json", "--config", cfg2)
	if code != exitFailed || !strings.Contains(errOut, "query: projects") {
		t.Errorf("failing drill: exit %d, stderr %s", code, errOut)
	}
	var rep struct {
		Passed bool     `json:"passed"`
		Failed []string `json:"failed"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Passed || len(rep.Failed) != 1 {
		t.Errorf("dr drill --json = %s (%v)", out, err)
	}

	out, errOut, code = run(t, nil, "drill", "cleanup", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "removed 0 drill container(s)") {
		t.Errorf("dr drill cleanup: exit %d\n%s%s", code, out, errOut)
	}
}
