package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Before an upgrade: dr backup --pin --note; dr list shows the note, in
// text and JSON; pinning again keeps the first note; the upgrade-failed
// runbook restores the pinned backup, not the newer one.
func TestBackupPinNoteListUpgradeFailed(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "")
	clock := &skewClock{}

	out, errOut, code := runAt(t, clock.now, nil, "backup", "--pin", "--note", "before 1.8.1", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "on local (note: before 1.8.1)") {
		t.Fatalf("dr backup --pin --note: exit %d\n%s%s", code, out, errOut)
	}
	clock.skip(time.Second) // names carry seconds
	if _, errOut, code := runAt(t, clock.now, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("dr backup: exit %d: %s", code, errOut)
	}

	out, _, code = run(t, nil, "list", "--json", "--config", cfg)
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); code != exitOK || err != nil || len(listed) != 2 {
		t.Fatalf("dr list --json: exit %d, %v\n%s", code, err, out)
	}
	newest, pinned := listed[0], listed[1]
	if newest.Pinned || newest.Note != "" || !pinned.Pinned || pinned.Note != "before 1.8.1" {
		t.Errorf("dr list --json = %+v; want the older backup pinned with its note, the newer one not", listed)
	}
	if !strings.Contains(out, `"note": "before 1.8.1"`) || !strings.Contains(out, `"pinned": false`) {
		t.Errorf("dr list --json lacks the pinned and note keys:\n%s", out)
	}
	out, _, code = run(t, nil, "list", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "PINNED") || !strings.Contains(out, "yes: before 1.8.1") {
		t.Errorf("dr list: exit %d, want a PINNED column with the note:\n%s", code, out)
	}

	out, errOut, code = run(t, nil, "pin", pinned.Name, "--note", "another reason", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "pinned already (note: before 1.8.1)") || !strings.Contains(out, "written once") {
		t.Errorf("dr pin --note of a pinned backup: exit %d, want the first note kept and said so\n%s%s", code, out, errOut)
	}

	out, errOut, code = run(t, nil, "runbook", "run", "upgrade-failed", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "the newest pinned backup: "+pinned.Name+", pinned with note: before 1.8.1") ||
		!strings.Contains(out, "[10/10] done") || !strings.Contains(out, "restored from "+pinned.Name) {
		t.Errorf("dr runbook run upgrade-failed: exit %d\n%s%s", code, out, errOut)
	}
}
