package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// Status judges the daemon's state now, as dr status would.
func (d *Daemon) Status(ctx context.Context) health.Status {
	snap := d.Snapshot()
	return health.Evaluate(health.StatusInput{
		Config: snap.Config, History: &snap.History, Next: snap.Next, Running: snap.Running,
		Destinations: snap.Destinations, UnfinishedRestore: UnfinishedRestore(snap.Config.StateDir), Now: d.clock.Now(),
	})
}

// ListDestinations finds each destination's newest complete backup. A
// destination that cannot be opened or listed is reported in its entry;
// the others are still listed.
func ListDestinations(ctx context.Context, cfg *config.Config) []health.DestinationStatus {
	out := make([]health.DestinationStatus, 0, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		st := health.DestinationStatus{Name: d.Name}
		dests, err := backup.OpenReachable(ctx, cfg, []string{d.Name})
		if err == nil {
			var list []storage.Backup
			list, err = dests[0].List(ctx) // newest first
			if err == nil && len(list) > 0 {
				st.Newest, st.Time, st.Size = list[0].Name, list[0].Time, list[0].Size
			}
		}
		if err != nil {
			st.Error = redact.String(err.Error())
		}
		out = append(out, st)
	}
	return out
}

// UnfinishedRestore describes the restore journal's unfinished restore,
// or returns "".
func UnfinishedRestore(stateDir string) string {
	j, err := restore.Unfinished(stateDir)
	if err != nil {
		return "the restore journal cannot be read: " + redact.String(err.Error())
	}
	if j == nil {
		return ""
	}
	msg := fmt.Sprintf("a restore of %s started %s did not finish (phase: %s)", j.Backup, j.StartedAt.UTC().Format(time.RFC3339), j.Phase)
	if j.Command != "" {
		msg += "; finish it with: " + j.Command
	}
	return msg
}
