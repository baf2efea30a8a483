package backup

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// dr backup --pin on the fake engine and in-memory destinations: the pin
// follows the commit on each destination; one whose pin write fails is
// named with the command that pins it by hand, the other is pinned with
// the note, and pinning again keeps the note that stands.
func TestPinAfterCommitWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := fakeConfig(t)
	cfg.Destinations = []config.Destination{
		{Name: "good", Remote: remotetest.Memory(t), Retention: config.DefaultRetention()},
		{Name: "bad", Remote: remotetest.Memory(t), Retention: config.DefaultRetention()},
	}
	// The third write on "bad" is the pin: the archive and the sidecar
	// come first.
	wrap, faulty := remotetest.FailNth(3)
	opened := storage.OpenAll(ctx, []remote.Options{
		{Name: "good", Remote: cfg.Destinations[0].Remote},
		{Name: "bad", Remote: cfg.Destinations[1].Remote, WrapFs: wrap},
	})
	dests, err := opened.Require()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, &fakeEngine{project: "fake", rows: 100}, cfg, dests, Options{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := Pin(ctx, res, dests, "before 1.8.1", time.Now())
	if faulty.Fired.Load() != 1 {
		t.Fatal("the pin's write never failed: the test proves nothing")
	}
	if err == nil || !strings.Contains(err.Error(), "dr pin "+res.Name+` --note "before 1.8.1"`) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Pin = %v; want the failed destination named and the command that pins by hand", err)
	}
	if len(outs) != 2 || outs[0].Err != nil || outs[0].Existing != nil || outs[1].Err == nil {
		t.Errorf("outcomes = %+v; want good pinned anew, bad failed", outs)
	}
	l, err := dests[0].List(ctx)
	if err != nil || len(l) != 1 || !l[0].Pinned || l[0].PinNote != "before 1.8.1" {
		t.Errorf("good lists %+v, %v; want the backup pinned with its note", l, err)
	}
	if l, err := dests[1].List(ctx); err != nil || len(l) != 1 || l[0].Pinned {
		t.Errorf("bad lists %+v, %v; want the backup, committed and not pinned", l, err)
	}

	outs, err = Pin(ctx, res, dests, "another note", time.Now())
	if err != nil || len(outs) != 2 || outs[0].Existing == nil || outs[0].Existing.Note != "before 1.8.1" || outs[1].Existing != nil {
		t.Errorf("pinning again = %+v, %v; want good's standing pin kept and bad pinned now", outs, err)
	}
}
