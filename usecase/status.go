package usecase

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

// Status judges the backups' health now, as dr status and the daemon's
// /healthz do: the job history in state_dir, each destination's newest
// complete backup, an unfinished restore, and what killed runs left.
// eng may be nil (no engine): only the services a killed backup stopped
// are then looked for, since a monitoring probe should not fail for
// that alone.
func Status(ctx context.Context, env Env, cfg *config.Config, eng LabelLister) (health.Status, error) {
	hist, err := health.LoadHistory(cfg.StateDir)
	if err != nil {
		return health.Status{}, err
	}
	return health.Evaluate(health.StatusInput{
		Config: cfg, History: hist, Destinations: ListDestinations(ctx, cfg),
		UnfinishedRestore: UnfinishedRestore(cfg.StateDir), LeftBehind: LeftBehind(ctx, eng, cfg.StateDir), Now: env.now().Round(0),
	}), nil
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
