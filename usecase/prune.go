package usecase

import (
	"context"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// PruneRequest is dr prune's request.
type PruneRequest struct {
	Destinations []string
	DryRun       bool
}

// PruneResult is each destination's prune, and the ones not reached.
type PruneResult struct {
	Reports     []*storage.PruneReport
	Unreachable []storage.Failure
}

// Prune applies each destination's retention policy. A dry run deletes
// nothing and takes no lock.
func Prune(ctx context.Context, env Env, cfg *config.Config, req PruneRequest) (*PruneResult, error) {
	dests, err := OpenDestinations(ctx, env, cfg, req.Destinations, "pruning the others")
	if err != nil {
		return nil, err
	}
	if !req.DryRun {
		release, err := env.lock(cfg, "prune")
		if err != nil {
			return nil, err
		}
		defer release()
	}
	reports, err := backup.Prune(ctx, cfg, dests.Reachable, backup.PruneOptions{DryRun: req.DryRun, Logger: env.logger(), Now: env.now()})
	return &PruneResult{Reports: reports, Unreachable: dests.Unreachable}, outcome(len(reports) > 0, dests.Unreachable, err)
}
