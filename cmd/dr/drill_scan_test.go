package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/scan"
)

func TestDrillReportListsInfectedFiles(t *testing.T) {
	var out bytes.Buffer
	a := &app{streams: streams{out: &out}}
	rep := &drill.Report{Backup: "appwrite-20261125T080000Z.tar.zst", Checks: []drill.Check{{Name: drill.CheckScan, Detail: "5 files … 1 infected"}},
		Failed: []string{drill.CheckScan},
		Scan: &scan.Report{Scanner: "unix:/run/clamav/clamd.ctl", Files: 5,
			Infected:  []scan.Infected{{File: "volumes/appwrite-uploads/a/evil.php", Signature: "Php.Webshell"}},
			Unscanned: []scan.Unscanned{{File: "volumes/appwrite-uploads/a/big.mp4", Reason: "too large"}}}}
	printDrillReport(a, rep)
	for _, want := range []string{
		"infected files (dr runbook run hacked leaves them out):\n  volumes/appwrite-uploads/a/evil.php  Php.Webshell\n",
		"files clamd could not scan:\n  volumes/appwrite-uploads/a/big.mp4  too large\n",
		"drill FAILED: scan",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	rep.Scan = nil
	printDrillReport(a, rep)
	if strings.Contains(out.String(), "infected files") {
		t.Errorf("a report without a scan lists infected files:\n%s", out.String())
	}
}
