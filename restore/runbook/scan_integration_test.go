package runbook

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/scan/scantest"
)

// planted is the "malware": clamd knows it by the MD5 signature sigtool
// makes of it at test time.
const planted = "planted-by-dr-test: not a real virus\n"

const (
	plantedPath  = "/storage/uploads/app-console/bucket1/evil.php"
	plantedEntry = "volumes/appwrite-uploads/app-console/bucket1/evil.php"
	plantedKey   = "./app-console/bucket1/evil.php" // as teststack.VolumeTree names it
)

// TestHackedLeavesInfectedUploadsOut: the backup from before the breach
// already holds a file clamd knows; the hacked runbook lists it and
// restores the uploads without it, and with --keep-infected, with it.
func TestHackedLeavesInfectedUploadsOut(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	clamd := scantest.StartClamd(t, map[string][]byte{"evil.php": []byte(planted)})
	cfg, dests := setup(t, s)
	cfg.Scan.Clamd = "unix:" + clamd.Socket

	s.Exec(t, teststack.AppService, "printf '"+strings.TrimSuffix(planted, "\n")+"\\n' > "+plantedPath)
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -f "+plantedPath) })
	want := take(t, s)
	if _, ok := want.volumes["appwrite-uploads"][plantedKey]; !ok {
		t.Fatalf("the planted file is not in the uploads volume: %v", want.volumes["appwrite-uploads"])
	}
	clean := nextTime()
	name := backupAt(t, eng, cfg, dests, clean)

	var out bytes.Buffer
	env := runbookEnv(eng, cfg, dests, &out)
	env.Before = clean.Add(30 * time.Minute)
	log := runRunbook(t, "hacked", env)
	t.Logf("%s", log)
	sig := clamd.Signatures["evil.php"]
	if !strings.Contains(log, "INFECTED "+plantedEntry+" ("+sig+")") || !strings.Contains(log, "left out of the volume restore") {
		t.Errorf("the log does not list %s as infected and left out:\n%s", plantedEntry, log)
	}
	if rep := env.Scan(); rep == nil || len(rep.Infected) != 1 || rep.Files < 5 {
		t.Errorf("scan report %+v, want every upload scanned and one infected", rep)
	}
	got := take(t, s)
	uploads := maps.Clone(want.volumes["appwrite-uploads"])
	delete(uploads, plantedKey)
	if !maps.Equal(got.volumes["appwrite-uploads"], uploads) {
		t.Errorf("uploads after the restore:\n got %v\nwant %v (the backup's, without %s)", got.volumes["appwrite-uploads"], uploads, plantedKey)
	}
	want.volumes["appwrite-uploads"] = uploads
	assertRecovered(t, want, got)
	servicesRunning(t, s)

	// --keep-infected restores it all the same.
	out.Reset()
	env = runbookEnv(eng, cfg, dests, &out)
	env.Before = clean.Add(30 * time.Minute)
	env.KeepInfected = true
	log = runRunbook(t, "hacked", env)
	if !strings.Contains(log, name) || !strings.Contains(log, "--keep-infected: 1 file is restored all the same") {
		t.Errorf("the log does not say the infected file is kept:\n%s", log)
	}
	if _, ok := take(t, s).volumes["appwrite-uploads"][plantedKey]; !ok {
		t.Errorf("--keep-infected: %s was not restored", plantedKey)
	}
}

// TestHackedStopsWhenClamdIsUnreachable: with scan.clamd set and no clamd
// answering, the runbook stops at the scan, before anything is restored.
func TestHackedStopsWhenClamdIsUnreachable(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Scan.Clamd = "unix:/nonexistent/clamd.ctl"
	clean := nextTime()
	backupAt(t, eng, cfg, dests, clean)

	var out bytes.Buffer
	env := runbookEnv(eng, cfg, dests, &out)
	env.Before = clean.Add(30 * time.Minute)
	rb, err := Find("hacked")
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), rb, env)
	var se *StepError
	if !errors.As(err, &se) || se.Title != "Scan the uploads for malware" {
		t.Fatalf("got %v, want the scan step to fail", err)
	}
	for _, want := range []string{"nothing was restored", "clamd at unix:/nonexistent/clamd.ctl cannot be reached", "apt-get install clamav-daemon"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(out.String(), "["+itoa(se.Number+1)+"/") {
		t.Errorf("a step after the scan ran:\n%s", out.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
