package drill

import (
	"context"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/scan/scantest"
)

// planted is the "malware" of these tests: clamd knows it by the MD5
// signature sigtool makes of it at test time.
const planted = "planted-by-dr-test: not a real virus\n"

const plantedEntry = "volumes/appwrite-uploads/app-console/bucket1/evil.php"

// TestDrillScansUploads drills a clean backup (the scan passes, every
// upload scanned), then one with a file clamd knows planted in the
// uploads volume: the scan check fails and the report lists that file.
func TestDrillScansUploads(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	clamd := scantest.StartClamd(t, map[string][]byte{"evil.php": []byte(planted)})
	cfg, dests := setup(t, s)
	cfg.Scan.Clamd = "unix:" + clamd.Socket

	clean := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, clean)
	if err != nil {
		t.Fatalf("drill of the clean backup: %v", err)
	}
	if rep.Scan == nil || rep.Scan.Files < 4 || len(rep.Scan.Infected) != 0 || rep.Scan.Scanner != "unix:"+clamd.Socket {
		t.Fatalf("scan of the clean backup: %+v", rep.Scan)
	}

	s.Exec(t, "appwrite", "printf '"+strings.TrimSuffix(planted, "\n")+"\\n' > /storage/uploads/app-console/bucket1/evil.php")
	t.Cleanup(func() { s.Exec(t, "appwrite", "rm -f /storage/uploads/app-console/bucket1/evil.php") })
	infected := takeBackup(t, eng, cfg, dests)
	rep, err = drillNow(t, context.Background(), eng, cfg, dests, infected)
	assertFailedOn(t, rep, err, CheckScan)
	want := scan.Infected{File: plantedEntry, Signature: clamd.Signatures["evil.php"]}
	if rep.Scan == nil || len(rep.Scan.Infected) != 1 || rep.Scan.Infected[0] != want {
		t.Fatalf("scan: %+v, want only %+v", rep.Scan, want)
	}
	// The report written beside the backup says so too.
	reports := readReports(t, cfg, infected)
	if len(reports) != 1 || reports[0].Scan == nil || len(reports[0].Scan.Infected) != 1 || reports[0].Scan.Infected[0] != want {
		t.Fatalf("reports beside the backup: %+v", reports)
	}
	assertNothingLeft(t, eng, cfg)
}

// TestDrillWithUnreachableClamd: a scanner that does not answer fails the
// scan check with a clear error, never a silent pass; the other checks
// still run.
func TestDrillWithUnreachableClamd(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Scan.Clamd = "unix:/nonexistent/clamd.ctl"
	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, CheckScan)
	for _, c := range rep.Checks {
		if c.Name == CheckScan && !strings.Contains(c.Detail, "clamd at unix:/nonexistent/clamd.ctl cannot be reached") {
			t.Errorf("scan check detail %q does not say clamd cannot be reached", c.Detail)
		}
	}
	if rep.Scan != nil {
		t.Errorf("a scan section without a scan: %+v", rep.Scan)
	}
}
