package backup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// A backup with one faulty destination beside a healthy one, on the fake
// engine and in-memory destinations: the healthy one commits, the run is
// a *PartialError naming only the faulty one, and the faulty one holds
// nothing, no partial archive and no sidecar.
func TestBackupFailurePathsWithFakes(t *testing.T) {
	type fault struct {
		remote func(t *testing.T) string // default: a memory store
		wrap   func(fs.Fs) fs.Fs
		fired  func() int32 // nil: the fault is in the remote itself
		// rows of the fake dump; 0 for a small one
		rows int
	}
	for _, tc := range []struct {
		name  string
		fault func() fault
		is    func(error) bool
	}{
		{"refuses to open", func() fault {
			return fault{remote: func(t *testing.T) string { return remotetest.Refused(t) }}
		}, func(err error) bool { return strings.Contains(err.Error(), "connection refused") }},
		{"fails the archive's write", func() fault {
			w, f := remotetest.FailNth(1)
			return fault{wrap: w, fired: f.Fired.Load}
		}, is(remotetest.ErrNthWrite)},
		{"fails the commit's write", func() fault {
			w, f := remotetest.FailNth(2)
			return fault{wrap: w, fired: f.Fired.Load}
		}, is(remotetest.ErrNthWrite)},
		{"fails mid-stream", func() fault {
			w, f := remotetest.Wrap(remotetest.FailAfter, 4<<10)
			return fault{wrap: w, fired: f.Fired.Load}
		}, is(remotetest.ErrInjected)},
		{"truncates silently", func() fault {
			w, f := remotetest.Wrap(remotetest.Truncate, 4<<10)
			return fault{wrap: w, fired: f.Fired.Load}
		}, func(err error) bool { return strings.Contains(err.Error(), "corrupted on transfer") }},
		{"stalls", func() fault {
			w, f := remotetest.Wrap(remotetest.Stall, 4<<10)
			// An archive of some MiB, above what rclone reads ahead of
			// the put (its streaming cutoff and the upload's buffer): a
			// stall inside what it read ahead comes after the upload took
			// every byte, where only a real backend's network timeout
			// (which the fakes have none of) ends it.
			return fault{wrap: w, fired: f.Fired.Load, rows: 120000}
		}, func(err error) bool { var te *remote.TimeoutError; return errors.As(err, &te) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := tc.fault()
			badRemote := remotetest.Memory(t)
			if f.remote != nil {
				badRemote = f.remote(t)
			}
			cfg := fakeConfig(t)
			cfg.Destinations = []config.Destination{
				{Name: "good", Remote: remotetest.Memory(t), Retention: config.DefaultRetention()},
				{Name: "bad", Remote: badRemote, Retention: config.DefaultRetention()},
			}
			opened := storage.OpenAll(ctx, []remote.Options{
				// Only the faulty destination's deadline is short: the
				// healthy one must commit also on a machine so busy that
				// 300 ms pass between two of its writes.
				{Name: "good", Remote: cfg.Destinations[0].Remote, Timeout: time.Minute},
				{Name: "bad", Remote: badRemote, Timeout: 300 * time.Millisecond, WrapFs: f.wrap},
			})
			rows := max(f.rows, 2000)
			res, err := Run(ctx, &fakeEngine{Project: "fake", Rows: rows}, cfg, opened.Healthy, Options{ToolVersion: "test", Unreachable: opened.Failed})
			if f.fired != nil && f.fired() == 0 {
				t.Fatal("the fault never fired: the test proves nothing")
			}
			var partial *PartialError
			if !errors.As(err, &partial) {
				t.Fatalf("Run = %v, want a *PartialError", err)
			}
			if len(partial.Failed) != 1 || partial.Failed[0].Name != "bad" || !tc.is(partial.Failed[0].Err) {
				t.Fatalf("failed = %+v, want bad alone, with the injected fault", partial.Failed)
			}
			if got := res.Committed(); !slices.Equal(got, []string{"good"}) {
				t.Errorf("committed on %v, want good", got)
			}
			if n, _ := res.Manifest.Database.Counts(); n != 1 {
				t.Errorf("the manifest counts %d tables, want the fake's one", n)
			}
			if l, err := opened.Healthy[0].List(ctx); err != nil || len(l) != 1 || l[0].Name != res.Name {
				t.Errorf("good lists %+v, %v; want %s", l, err, res.Name)
			}
			if len(opened.Healthy) == 2 {
				if l, err := opened.Healthy[1].ListAll(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
					t.Errorf("bad holds %+v (%v); want nothing", l, err)
				}
			}
		})
	}
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// With every destination failing there is no backup: the error says it
// failed everywhere, and still names each.
func TestBackupFailingEverywhereWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := fakeConfig(t)
	w1, _ := remotetest.FailNth(1)
	w2, _ := remotetest.Wrap(remotetest.FailAfter, 1<<10)
	opened := storage.OpenAll(ctx, []remote.Options{
		{Name: "one", Remote: remotetest.Memory(t), WrapFs: w1},
		{Name: "two", Remote: remotetest.Memory(t), WrapFs: w2},
		{Name: "three", Remote: remotetest.Refused(t), Timeout: time.Second},
	})
	res, err := Run(ctx, &fakeEngine{Project: "fake", Rows: 500}, cfg, opened.Healthy, Options{Unreachable: opened.Failed})
	var partial *PartialError
	if !errors.As(err, &partial) || !strings.Contains(err.Error(), "failed on every destination") {
		t.Fatalf("Run = %v, want failed on every destination", err)
	}
	var names []string
	for _, f := range partial.Failed {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"one", "three", "two"}) || len(res.Committed()) != 0 {
		t.Errorf("failed %v, committed %v; want all three failed", names, res.Committed())
	}
	none := storage.OpenAll(ctx, []remote.Options{{Name: "down", Remote: remotetest.Refused(t), Timeout: time.Second}})
	if _, err := Run(ctx, &fakeEngine{Project: "fake"}, cfg, none.Healthy, Options{Unreachable: none.Failed}); !errors.Is(err, storage.ErrNoDestination) || !strings.Contains(err.Error(), `"down"`) {
		t.Errorf("Run with no destination reachable = %v, want ErrNoDestination naming down", err)
	}
}

// Retention runs where the backup committed; a destination that refuses
// deletes fails the prune, never the backup already committed there.
func TestBackupCommitsWhenPruneIsRefusedWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := fakeConfig(t)
	mem := remotetest.Memory(t)
	cfg.Destinations = []config.Destination{{Name: "mem", Remote: mem, Retention: config.Retention{KeepLast: 1}}}
	d, err := storage.Open(ctx, remote.Options{Name: "mem", Remote: mem})
	if err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{Project: "fake", Rows: 10}
	first := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	if _, err := Run(ctx, eng, cfg, []*storage.Destination{d}, Options{Now: func() time.Time { return first }}); err != nil {
		t.Fatal(err)
	}
	wrap, refused := remotetest.FailDeletes(0)
	d2, err := storage.Open(ctx, remote.Options{Name: "mem", Remote: mem, WrapFs: wrap})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, eng, cfg, []*storage.Destination{d2}, Options{Now: func() time.Time { return first.Add(time.Hour) }})
	if !errors.Is(err, remotetest.ErrDeleteRefused) || refused.Refused.Load() == 0 {
		t.Fatalf("Run = %v, want the refused delete", err)
	}
	if got := res.Committed(); !slices.Equal(got, []string{"mem"}) {
		t.Errorf("committed on %v, want mem", got)
	}
	if l, err := d.List(ctx); err != nil || len(l) != 2 {
		t.Errorf("the destination lists %d backups (%v), want both: the old one could not be pruned", len(l), err)
	}
}

// A dump cut short although its client exited 0 (what the engine can
// report for a client the container's end killed) is never committed; the
// error names the stopped container when the engine sees it stopped, and
// says the dump was cut short either way.
func TestCutDumpIsNeverCommittedWithFakes(t *testing.T) {
	stopped := &engine.ContainerStoppedError{Container: "fake-mariadb-1", Status: "exited", ExitCode: 137}
	for _, tc := range []struct {
		name      string
		stopped   *engine.ContainerStoppedError
		wantInErr []string
	}{
		{"container still runs", nil, []string{"cut short", `"-- Dump completed"`}},
		{"container stopped", stopped, []string{"cut short", "the container fake-mariadb-1 stopped", "during the dump", "docker logs fake-mariadb-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := fakeConfig(t)
			cfg.Destinations = []config.Destination{{Name: "mem", Remote: remotetest.Memory(t), Retention: config.DefaultRetention()}}
			opened := storage.OpenAll(ctx, []remote.Options{{Name: "mem", Remote: cfg.Destinations[0].Remote, Timeout: time.Minute}})
			_, err := Run(ctx, &fakeEngine{Project: "fake", Rows: 50, CutDump: true, StoppedUnder: tc.stopped}, cfg, opened.Healthy, Options{ToolVersion: "test"})
			if err == nil {
				t.Fatal("a cut dump was committed")
			}
			for _, want := range tc.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			var got *engine.ContainerStoppedError
			if errors.As(err, &got) != (tc.stopped != nil) {
				t.Errorf("errors.As(*engine.ContainerStoppedError) = %v, want %v: %v", got != nil, tc.stopped != nil, err)
			}
			if l, err := opened.Healthy[0].ListAll(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
				t.Errorf("the destination holds %+v (%v); want nothing", l, err)
			}
		})
	}
}
