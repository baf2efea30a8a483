package usecase

import (
	"context"
	"errors"
	"testing"

	"github.com/appwrite-dr/dr/backup/backuptest"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/lock"
)

// cleanupEngine records what a drill cleanup asks the engine to remove.
type cleanupEngine struct {
	backuptest.Engine
	removed []string
}

func (e *cleanupEngine) RunThrowaway(context.Context, engine.Throwaway) (string, error) {
	return "", errors.New("a cleanup starts no container")
}

func (e *cleanupEngine) RemoveThrowaway(context.Context, string) error { return nil }

func (e *cleanupEngine) RemoveLabelled(_ context.Context, label string) ([]string, []string, error) {
	e.removed = append(e.removed, label)
	return []string{"c1"}, []string{"v1"}, nil
}

var _ drill.Engine = (*cleanupEngine)(nil)

// dr drill cleanup works while every remote is down (it reads none), and
// leaves a running drill's container alone (it needs the lock).
func TestDrillCleanupNeedsNoDestinationWithFakes(t *testing.T) {
	ctx := context.Background()
	cfg := backuptest.Config(t)
	cfg.Destinations = []config.Destination{{Name: "down", Remote: "nosuchremote:bucket", Retention: config.DefaultRetention()}}

	eng := &cleanupEngine{}
	c, v, err := DrillCleanup(ctx, Env{Lock: lockFor(t)}, eng, cfg)
	if err != nil || len(c) != 1 || len(v) != 1 {
		t.Fatalf("DrillCleanup with every destination down = %v, %v, %v; want the leftovers removed", c, v, err)
	}
	if want := drill.LabelOwner + "=" + drill.Owner(cfg.StateDir); len(eng.removed) != 1 || eng.removed[0] != want {
		t.Errorf("removed %v; want what this state dir's drills left (%s)", eng.removed, want)
	}

	held, err := lock.Acquire(cfg.StateDir, "drill")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	eng = &cleanupEngine{}
	var heldErr *lock.HeldError
	if _, _, err := DrillCleanup(ctx, Env{Lock: lockFor(t)}, eng, cfg); !errors.As(err, &heldErr) || len(eng.removed) != 0 {
		t.Errorf("DrillCleanup while a drill runs = %v, removed %v; want the lock refused and nothing removed", err, eng.removed)
	}
}

// lockFor is the CLI's lock: taken at once, or refused.
func lockFor(t *testing.T) func(string, string) (func() error, error) {
	return func(dir, what string) (func() error, error) {
		l, err := lock.Acquire(dir, what)
		if err != nil {
			return nil, err
		}
		return l.Release, nil
	}
}
