package usecase

import (
	"context"
	"os"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/drill"
)

// DrillRequest is dr drill's (and the scheduled drill's) request; the
// drill.Request's Logger, Host, ToolVersion and Now are filled here.
type DrillRequest struct {
	drill.Request
	Destinations []string
}

// Drill restores a backup into a throwaway container and checks it. The
// report is returned whenever a backup was chosen, also when a check
// failed (the error is then a *drill.FailedError).
func Drill(ctx context.Context, env Env, eng drill.Engine, cfg *config.Config, req DrillRequest) (*drill.Report, error) {
	dests, err := OpenDestinations(ctx, env, cfg, req.Destinations, "the drill reads from the others")
	if err != nil {
		return nil, err
	}
	release, err := env.lock(cfg, "drill")
	if err != nil {
		return nil, err
	}
	defer release()
	env.LimitMemory(int64(cfg.Archive.ChunkSize))
	r := req.Request
	r.Logger, r.ToolVersion, r.Now = env.logger(), env.ToolVersion, env.now
	if r.Host == "" {
		r.Host, _ = os.Hostname()
	}
	return drill.Run(ctx, eng, cfg, dests.Reachable, r)
}

// DrillCleanup removes the containers and volumes killed drills left.
// It opens no destination: it must work while the remotes are down,
// which is when an operator cleans up. It takes the lock, so a drill
// that is running keeps its container.
func DrillCleanup(ctx context.Context, env Env, eng drill.Engine, cfg *config.Config) (containers, volumes []string, err error) {
	release, err := env.lock(cfg, "drill cleanup")
	if err != nil {
		return nil, nil, err
	}
	defer release()
	return drill.Cleanup(ctx, eng, cfg.StateDir)
}
