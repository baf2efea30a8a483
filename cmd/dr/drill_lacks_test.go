package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/drill"
)

// dr drill prints what the drilled backup, so a restore of it, lacks.
func TestDrillReportSaysWhatTheBackupLacks(t *testing.T) {
	var out bytes.Buffer
	a := &app{streams: streams{out: &out}}
	lack := "view appwrite.v is not in the backup: it cannot be opened (Table 'appwrite.gone' doesn't exist)"
	printDrillReport(a, &drill.Report{Backup: "appwrite-20261125T080000Z.tar.zst", Passed: true, Lacks: []string{lack}})
	if want := "missing from the backup, so from a restore of it: " + lack + "\n"; !strings.Contains(out.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, out.String())
	}
	out.Reset()
	printDrillReport(a, &drill.Report{Backup: "appwrite-20261125T080000Z.tar.zst", Passed: true})
	if strings.Contains(out.String(), "missing from the backup") {
		t.Errorf("a backup that holds everything is said to lack something:\n%s", out.String())
	}
}
