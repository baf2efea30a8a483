package drill

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestIncrementalDamagedBlobFailsTheDrillOfTheBackupThatNeedsIt: two
// backups, the second after a file was deleted; its content's blob,
// which only the first needs, is damaged on the destination. The first
// backup's drill fails naming the blob; the second's passes.
func TestIncrementalDamagedBlobFailsTheDrillOfTheBackupThatNeedsIt(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/inc") })
	s.Exec(t, teststack.AppService, "mkdir -p /storage/uploads/inc && head -c 40000 /dev/urandom > /storage/uploads/inc/gone.bin && head -c 30000 /dev/urandom > /storage/uploads/inc/kept.bin")
	first := takeBackup(t, eng, cfg, dests)
	s.Exec(t, teststack.AppService, "rm /storage/uploads/inc/gone.bin")
	second := takeBackup(t, eng, cfg, dests)

	m, err := dests[0].ReadSidecar(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	var blob string
	for _, e := range m.Entries {
		if e.Name == archive.VolumesPrefix+"appwrite-uploads/inc/gone.bin" {
			blob = e.Blob
		}
	}
	if blob == "" {
		t.Fatalf("the first backup's manifest has no blob for inc/gone.bin")
	}
	teststack.FlipByte(t, filepath.Join(cfg.Destinations[0].Remote, archive.BlobPath(s.Project, blob)))

	rep, err := drillNow(t, context.Background(), eng, cfg, dests, first)
	// The archive check reads every volume file's content from its
	// blob, as a restore would: it fails, and the drill stops there.
	assertFailedOn(t, rep, err, CheckArchive)
	var named bool
	for _, c := range rep.Checks {
		if !c.Passed && !c.Skipped && strings.Contains(c.Detail, blob) {
			named = true
		}
	}
	if !named {
		t.Errorf("no failed check names the damaged blob %s (failed %v): %v", blob, rep.Failed, err)
	}
	assertNothingLeft(t, eng, cfg)

	rep, err = drillNow(t, context.Background(), eng, cfg, dests, second)
	if err != nil || !rep.Passed {
		t.Errorf("the drill of the backup that does not need the damaged blob failed: %v (failed %v)", err, rep.Failed)
	}
	assertNothingLeft(t, eng, cfg)
}
