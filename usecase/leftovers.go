package usecase

import (
	"context"

	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/usecase/leftovers"
)

// LabelLister finds containers and volumes by label.
type LabelLister = leftovers.Lister

// LeftBehind names, one sentence each, what runs of stateDir killed with
// kill -9 left: services a backup stopped and never started again, a
// drill's containers (each holding the drill's CPU and memory), volume
// helpers (each holding its volume mounted). eng may be nil (no engine):
// only the services are then looked for. While a run holds the lock,
// all of these may be that run's and in use, so nothing is named; the
// lock is held only for the look.
func LeftBehind(ctx context.Context, eng LabelLister, stateDir string) []string {
	// Held (a *lock.HeldError): what is labelled is a live run's. Any
	// other failure: nothing can be told apart either.
	held, err := leftovers.Hold(stateDir, "status")
	if err != nil || held == nil {
		return nil
	}
	defer held.Release()
	var out []string
	if rec, err := journal.ReadStopped(stateDir); err != nil {
		out = append(out, redact.String(err.Error()))
	} else if rec != nil {
		out = append(out, rec.Describe()+"; "+leftovers.StoppedFix(rec))
	}
	if eng == nil {
		return out
	}
	if c, v, err := leftovers.Drills(ctx, eng, stateDir); err == nil && len(c)+len(v) > 0 {
		out = append(out, leftovers.DrillsLeft(c, v)+"; remove them: dr drill cleanup")
	}
	if c, _, err := eng.ListLabelled(ctx, leftovers.HelperLabel(stateDir)); err == nil && len(c) > 0 {
		out = append(out, leftovers.HelpersLeft(c)+"; the next dr backup, dr restore or dr doctor removes them")
	}
	return out
}
