package usecase

import (
	"context"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/restore/runbook"
)

// PrepareRestore chooses the backup and makes the restore's plan,
// touching nothing: the CLI shows it and asks before RunRestore.
func PrepareRestore(ctx context.Context, env Env, eng restore.Engine, cfg *config.Config, destinations []string, req restore.Request) (*restore.Plan, error) {
	dests, err := OpenDestinations(ctx, env, cfg, destinations, "restoring from the others")
	if err != nil {
		return nil, err
	}
	req.Logger = env.logger()
	return restore.Prepare(ctx, eng, cfg, dests.Reachable, req)
}

// RunRestore carries out a plan under the state dir's lock, with the
// memory limit its largest dump chunk needs.
func RunRestore(ctx context.Context, env Env, eng restore.Engine, cfg *config.Config, plan *restore.Plan, req restore.Request) (*restore.Result, error) {
	release, err := env.lock(cfg, "restore")
	if err != nil {
		return nil, err
	}
	defer release()
	env.LimitMemory(largestChunk(plan))
	req.Logger = env.logger()
	return restore.Execute(ctx, eng, plan, req)
}

func largestChunk(p *restore.Plan) int64 {
	var n int64
	if p.Manifest != nil && p.Manifest.Database != nil {
		for _, c := range p.Manifest.Database.Chunks {
			n = max(n, c.Size)
		}
	}
	return n
}

// RunRunbook carries out a runbook under the state dir's lock; renv holds
// the destinations (OpenDestinations) and the operator's choices.
func RunRunbook(ctx context.Context, env Env, cfg *config.Config, rb *runbook.Runbook, renv *runbook.Env) error {
	release, err := env.lock(cfg, "runbook "+rb.ID)
	if err != nil {
		return err
	}
	defer release()
	env.LimitMemory(int64(cfg.Archive.ChunkSize))
	renv.Logger = env.logger()
	return runbook.Run(ctx, rb, renv)
}
