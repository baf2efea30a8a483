package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// OpenDestinations opens the configured destinations, all of them or the
// named ones. A name that is not configured is an error naming the ones
// that are.
func OpenDestinations(ctx context.Context, cfg *config.Config, names []string) ([]*storage.Destination, error) {
	var known []string
	for _, d := range cfg.Destinations {
		known = append(known, d.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("--destination %q is not configured (destinations: %s)", n, strings.Join(known, ", "))
		}
	}
	var dests []*storage.Destination
	for _, d := range cfg.Destinations {
		if len(names) > 0 && !slices.Contains(names, d.Name) {
			continue
		}
		dest, err := storage.Open(ctx, storage.Options{Name: d.Name, Remote: d.Remote, RcloneConfig: cfg.RcloneConfig})
		if err != nil {
			return nil, err
		}
		dests = append(dests, dest)
	}
	return dests, nil
}
