package backup

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// openMemory gives a config for the fake stack with one in-memory
// destination under the retention given, and that destination opened.
func openMemory(t *testing.T, retention config.Retention, wrap func(fs.Fs) fs.Fs) (*config.Config, *storage.Destination) {
	t.Helper()
	cfg := fakeConfig(t)
	mem := remotetest.Memory(t)
	cfg.Destinations = []config.Destination{{Name: "mem", Remote: mem, Retention: retention}}
	d, err := storage.Open(context.Background(), remote.Options{Name: "mem", Remote: mem, WrapFs: wrap})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, d
}

func listedNames(t *testing.T, d *storage.Destination) []string {
	t.Helper()
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return names
}

// TestBackToBackBackupsKeepTheirOwnWithFakes runs twelve backups 300 ms
// apart, as back-to-back runs of a small stack go, with keep_last: 1. A
// second's name taken pushes the next run's name a second ahead; a later
// run must still be named after it (not take an earlier second the
// prune freed), so that each run's backup is the newest, is the one its
// own prune keeps, and is what --latest picks.
func TestBackToBackBackupsKeepTheirOwnWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg, d := openMemory(t, config.Retention{KeepLast: 1}, nil)
	eng := &fakeEngine{Project: "fake", Rows: 10}
	first := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	var previous string
	for i := range 12 {
		at := first.Add(time.Duration(i) * 300 * time.Millisecond)
		res, err := Run(ctx, eng, cfg, []*storage.Destination{d}, Options{Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if res.Name <= previous {
			t.Errorf("run %d is named %s, not after the run before it, %s", i+1, res.Name, previous)
		}
		for _, p := range res.Prune {
			if slices.Contains(p.Deleted, res.Name) {
				t.Errorf("run %d deleted its own backup %s", i+1, res.Name)
			}
		}
		if got := listedNames(t, d); !slices.Equal(got, []string{res.Name}) {
			t.Errorf("after run %d the destination holds %v, want its backup %s alone", i+1, got, res.Name)
		}
		entries, err := storage.Catalog(ctx, []*storage.Destination{d})
		if err != nil {
			t.Fatal(err)
		}
		if latest, err := storage.Choose(entries, storage.Query{Stack: "fake"}); err != nil || latest.Name != res.Name {
			t.Errorf("after run %d --latest picks %s (%v), want %s", i+1, latest.Name, err, res.Name)
		}
		previous = res.Name
	}
}

// listFailsOnce is a destination whose first listing fails (a transient
// error while the run picks its name) and whose later ones work.
type listFailsOnce struct {
	fs.Fs
	failed atomic.Bool
}

func (l *listFailsOnce) List(ctx context.Context, dir string) (fs.DirEntries, error) {
	if l.failed.CompareAndSwap(false, true) {
		return nil, errors.New("injected: listing failed")
	}
	return l.Fs.List(ctx, dir)
}

// TestBackupNeverPrunesItsOwnWithFakes: when a run's name is not the
// newest after all (the destination could not be listed when the run
// picked it, and holds a newer backup), its prune under keep_last: 1
// still keeps the backup it just committed, and says why.
func TestBackupNeverPrunesItsOwnWithFakes(t *testing.T) {
	ctx := context.Background()
	var flaky *listFailsOnce
	cfg, d := openMemory(t, config.Retention{KeepLast: 1}, nil)
	eng := &fakeEngine{Project: "fake", Rows: 10}
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	newer, err := Run(ctx, eng, cfg, []*storage.Destination{d}, Options{Now: func() time.Time { return at.Add(5 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	reopened, err := storage.Open(ctx, remote.Options{Name: "mem", Remote: cfg.Destinations[0].Remote,
		WrapFs: func(f fs.Fs) fs.Fs { flaky = &listFailsOnce{Fs: f}; return flaky }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, eng, cfg, []*storage.Destination{reopened}, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if !flaky.failed.Load() {
		t.Fatal("the listing never failed: the run saw the newer backup, and the test proves nothing")
	}
	if res.Name >= newer.Name {
		t.Fatalf("the run is named %s, after %s: the test proves nothing", res.Name, newer.Name)
	}
	if got, want := listedNames(t, d), []string{res.Name, newer.Name}; !slices.Equal(got, want) {
		t.Errorf("the destination holds %v, want %v: the run's prune deleted its own backup", got, want)
	}
	if len(res.Prune) != 1 || res.Prune[0].Removed() != 0 {
		t.Fatalf("prune reports %+v, want one that removed nothing", res.Prune)
	}
	for _, dec := range res.Prune[0].Decisions {
		if dec.Name == res.Name && !slices.Contains(dec.Reasons, "just committed by this run") {
			t.Errorf("the run's backup is kept for %q, want the reason that this run just committed it", dec.Reasons)
		}
	}
}

// TestDurationCountsFromTheRealStartWithFakes: a run started 0.9 s into a
// second and ended 1.2 s later took 1.2 s, not the 2.1 s since its name's
// second.
func TestDurationCountsFromTheRealStartWithFakes(t *testing.T) {
	cfg, d := openMemory(t, config.Retention{KeepLast: 1}, nil)
	start := time.Date(2026, 11, 25, 8, 0, 0, 900*int(time.Millisecond), time.UTC)
	var calls atomic.Int32
	clock := func() time.Time {
		if calls.Add(1) == 1 {
			return start
		}
		return start.Add(1200 * time.Millisecond)
	}
	res, err := Run(context.Background(), &fakeEngine{Project: "fake", Rows: 10}, cfg, []*storage.Destination{d}, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duration != 1200*time.Millisecond {
		t.Errorf("duration %s, want 1.2s from the run's start", res.Duration)
	}
	if !res.Manifest.StartedAt.Equal(start) {
		t.Errorf("the manifest says the run started at %s, want %s", res.Manifest.StartedAt, start)
	}
}
