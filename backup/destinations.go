package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

// ErrUnknownDestination is a --destination name the config does not have.
var ErrUnknownDestination = errors.New("destination is not configured")

// OpenDestinations opens the configured destinations, all of them or the
// named ones, at once. A name that is not configured is an error naming
// the ones that are; a destination that cannot be opened (down, refusing,
// not answering within its timeout) is a failure in the result, never the
// whole command's.
func OpenDestinations(ctx context.Context, cfg *config.Config, names []string) (*storage.Opened, error) {
	var known []string
	for _, d := range cfg.Destinations {
		known = append(known, d.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("--destination %q: %w (destinations: %s)", n, ErrUnknownDestination, strings.Join(known, ", "))
		}
	}
	var opts []remote.Options
	for _, d := range cfg.Destinations {
		if len(names) > 0 && !slices.Contains(names, d.Name) {
			continue
		}
		opts = append(opts, remote.Options{Name: d.Name, Remote: d.Remote, RcloneConfig: cfg.RcloneConfig, Timeout: time.Duration(d.Timeout)})
	}
	return storage.OpenAll(ctx, opts), nil
}

// OpenReachable opens the destinations and returns the reachable ones; an
// error only when none is (storage.ErrNoDestination) or a name is unknown.
func OpenReachable(ctx context.Context, cfg *config.Config, names []string) ([]*storage.Destination, error) {
	opened, err := OpenDestinations(ctx, cfg, names)
	if err != nil {
		return nil, err
	}
	return opened.Require()
}
