package usecase

import (
	"context"
	"errors"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// List is the configured stack's complete backups on the named (or all)
// destinations, newest first. A destination that cannot be opened or
// listed is warned about and the others are listed: during an outage that
// is what the operator needs, so it is no error.
func List(ctx context.Context, env Env, cfg *config.Config, destinations []string) ([]storage.CatalogEntry, error) {
	dests, err := OpenDestinations(ctx, env, cfg, destinations, "working from the others")
	if err != nil {
		return nil, err
	}
	entries, err := storage.Catalog(ctx, dests.Reachable)
	var un *storage.Unreachable
	if errors.As(err, &un) && error(un) == err {
		env.listed(nil, un, "this is from the others")
		err = nil
	}
	return storage.OfStack(entries, cfg.Stack.Project), err
}
