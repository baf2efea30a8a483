package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// ErrUnknownDestination is a --destination name the config does not have.
var ErrUnknownDestination = errors.New("destination is not configured")

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
			return nil, fmt.Errorf("--destination %q: %w (destinations: %s)", n, ErrUnknownDestination, strings.Join(known, ", "))
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
