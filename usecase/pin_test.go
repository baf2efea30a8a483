package usecase

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/backup/backuptest"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// fakeStack is the fake engine's config with two in-memory destinations.
func fakeStack(t *testing.T) *config.Config {
	cfg := backuptest.Config(t)
	cfg.Destinations = []config.Destination{
		{Name: "first", Remote: remotetest.Memory(t), Retention: config.DefaultRetention()},
		{Name: "second", Remote: remotetest.Memory(t), Retention: config.DefaultRetention()},
	}
	return cfg
}

func open(t *testing.T, opts ...remote.Options) []*storage.Destination {
	t.Helper()
	dests, err := storage.OpenAll(context.Background(), opts).Require()
	if err != nil {
		t.Fatal(err)
	}
	return dests
}

func pinned(t *testing.T, d *storage.Destination) (bool, string) {
	t.Helper()
	l, err := d.List(context.Background())
	if err != nil || len(l) != 1 {
		t.Fatalf("%s lists %+v, %v; want the one backup", d.Name(), l, err)
	}
	return l[0].Pinned, l[0].PinNote
}

// The one pin loop goes on past a destination that refuses the pin (dr
// pin stopped at the first one), names it, and pins the others.
func TestPinTriesEveryDestinationWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := fakeStack(t)
	first, second := cfg.Destinations[0].Remote, cfg.Destinations[1].Remote
	res, err := backup.Run(ctx, &backuptest.Engine{Project: "fake", Rows: 10}, cfg,
		open(t, remote.Options{Name: "first", Remote: first}, remote.Options{Name: "second", Remote: second}), backup.Options{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	wrap, faulty := remotetest.FailNth(1)
	dests := open(t, remote.Options{Name: "first", Remote: first, WrapFs: wrap}, remote.Options{Name: "second", Remote: second})
	outs, err := pinAll(ctx, dests, res.Name, "before 1.8.1", time.Now(), false)
	if faulty.Fired.Load() != 1 {
		t.Fatal("the first destination's pin never failed: the test proves nothing")
	}
	if err == nil || !strings.Contains(err.Error(), "first") || !strings.Contains(err.Error(), "dr pin "+res.Name+` --note "before 1.8.1"`) {
		t.Errorf("pinAll = %v; want the refusing destination named, with the command that pins again", err)
	}
	if len(outs) != 2 || outs[0].Err == nil || outs[1].Err != nil {
		t.Errorf("outcomes = %+v; want first failed, second pinned", outs)
	}
	if ok, note := pinned(t, dests[1]); !ok || note != "before 1.8.1" {
		t.Errorf("second: pinned %v with note %q; want pinned with the note", ok, note)
	}
	if ok, _ := pinned(t, dests[0]); ok {
		t.Error("first is pinned, though its pin write failed")
	}
}

// dr backup --pin and dr pin run the same loop: the backup's pin that
// fails on one destination is a partial outcome naming the fix, and dr
// pin then pins that one, keeping the standing pin's note elsewhere.
func TestBackupPinThenPinWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := fakeStack(t)
	env := Env{ToolVersion: "test"}
	res, err := Backup(ctx, env, &backuptest.Engine{Project: "fake", Rows: 10}, cfg, BackupRequest{Pin: true, Note: "before 1.8.1"})
	if err != nil || res == nil || len(res.Pins) != 2 {
		t.Fatalf("Backup = %+v, %v; want it committed and pinned on both", res, err)
	}
	again, err := Pin(ctx, env, cfg, PinRequest{Name: res.Name, Note: "another note"})
	if err != nil || len(again.Pins) != 2 {
		t.Fatalf("Pin = %+v, %v", again, err)
	}
	for _, p := range again.Pins {
		if p.Existing == nil || p.Existing.Note != "before 1.8.1" {
			t.Errorf("%s: existing pin %+v; want the first note kept (pins are written once)", p.Destination, p.Existing)
		}
	}
	un, err := Pin(ctx, env, cfg, PinRequest{Name: res.Name, Unpin: true})
	if err != nil || len(un.Pins) != 2 || un.Pins[0].Err != nil || un.Pins[1].Err != nil {
		t.Errorf("unpin = %+v, %v; want both unpinned", un, err)
	}
}

// A pin that could not reach one destination is partly done: dr exits
// 4, and the unreachable one is named.
func TestPinWithAnUnreachableDestinationIsPartialWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := fakeStack(t)
	env := Env{ToolVersion: "test"}
	res, err := Backup(ctx, env, &backuptest.Engine{Project: "fake", Rows: 10}, cfg, BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Destinations = append(cfg.Destinations, config.Destination{Name: "down", Remote: "nosuchremote:bucket", Retention: config.DefaultRetention()})
	out, err := Pin(ctx, env, cfg, PinRequest{Name: res.Name, Note: "keep"})
	var partial *PartialError
	if !errors.As(err, &partial) || !strings.Contains(err.Error(), "down") {
		t.Fatalf("Pin = %v; want a *PartialError naming the unreachable destination", err)
	}
	if len(out.Pins) != 2 || out.Pins[0].Err != nil || out.Pins[1].Err != nil {
		t.Errorf("pins = %+v; want both reachable ones pinned", out.Pins)
	}
	if len(out.Unreachable) != 1 || out.Unreachable[0].Destination != "down" {
		t.Errorf("unreachable = %+v; want down", out.Unreachable)
	}
}

// outcome decides between success, failure and a partial success.
func TestOutcome(t *testing.T) {
	boom := errors.New("boom")
	down := []storage.Failure{{Destination: "down", Err: errors.New("dial: refused")}}
	for _, tc := range []struct {
		name        string
		done        bool
		unreachable []storage.Failure
		err         error
		wantErr     bool
		wantPartial bool
	}{
		{"all done", true, nil, nil, false, false},
		{"done, one unreachable", true, down, nil, true, true},
		{"done, one failed", true, nil, boom, true, true},
		{"nothing done", false, nil, boom, true, false},
		{"nothing done, one unreachable", false, down, boom, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := outcome(tc.done, tc.unreachable, tc.err)
			var partial *PartialError
			if (err != nil) != tc.wantErr || errors.As(err, &partial) != tc.wantPartial {
				t.Errorf("outcome = %v; want error %v, partial %v", err, tc.wantErr, tc.wantPartial)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("outcome = %v; lost the run's own error", err)
			}
		})
	}
}
