package restore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// Picked is the backup a request names, the destination it is read from,
// and its sidecar manifest, fetched first.
type Picked struct {
	Backup   storage.CatalogEntry
	Source   *storage.Destination
	Manifest *archive.Manifest
}

// Pick finds the backup as dr restore does (by name, else the newest
// before a time, else the newest of the configured stack), picks the first
// destination holding it, and fetches its sidecar. Drills pick with it, so
// a drill proves the backup a restore would use.
func Pick(ctx context.Context, cfg *config.Config, dests []*storage.Destination, name string, before time.Time) (*Picked, error) {
	entry, err := pick(ctx, cfg, dests, Request{Name: name, Before: before})
	if err != nil {
		return nil, err
	}
	var source *storage.Destination
	for _, d := range dests {
		if slices.Contains(entry.Destinations, d.Name()) {
			source = d
			break
		}
	}
	if source == nil {
		return nil, fmt.Errorf("backup %s is on none of the chosen destinations", entry.Name)
	}
	manifest, err := source.ReadSidecar(ctx, entry.Name)
	if err != nil {
		return nil, fmt.Errorf("fetching the manifest of %s: %w", entry.Name, err)
	}
	return &Picked{Backup: entry, Source: source, Manifest: manifest}, nil
}

// VerifyPicked downloads the whole backup and checks it against the
// sidecar Pick fetched.
func VerifyPicked(ctx context.Context, p *Picked, ids []age.Identity) error {
	_, _, err := verifyAgainst(ctx, p.Source, p.Backup.Name, p.Manifest, ids)
	return err
}
