package scheduler

import (
	"context"

	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/usecase"
)

// Status judges the daemon's state now, as dr status would.
func (d *Daemon) Status(ctx context.Context) health.Status {
	snap := d.Snapshot()
	return health.Evaluate(health.StatusInput{
		Config: snap.Config, History: &snap.History, Next: snap.Next, Running: snap.Running,
		Destinations: snap.Destinations, UnfinishedRestore: usecase.UnfinishedRestore(snap.Config.StateDir), Now: d.clock.Now(),
	})
}
