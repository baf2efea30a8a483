package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

// CatalogEntry is one backup as seen across destinations: the same archive
// name committed on one or more of them.
type CatalogEntry struct {
	Name         string
	Stack        string
	Time         time.Time
	Encrypted    bool
	Size         int64
	Manifest     *archive.Manifest
	Destinations []string
	// LastDrill is the newest drill report of the backup on any
	// destination, or nil.
	LastDrill *DrillSummary
}

// Catalog merges the complete backups of every destination, newest first.
// A destination that cannot be listed is reported in the error (joined per
// destination) while the others' backups are still returned, so an operator
// in a crisis sees what is reachable.
func Catalog(ctx context.Context, dests []*Destination) ([]CatalogEntry, error) {
	byName := map[string]*CatalogEntry{}
	var errs []error
	for _, d := range dests {
		backups, err := d.List(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing destination %q: %w", d.Name(), err))
			continue
		}
		for _, b := range backups {
			e, ok := byName[b.Name]
			if !ok {
				e = &CatalogEntry{Name: b.Name, Stack: b.Stack, Time: b.Time, Encrypted: b.Encrypted, Size: b.Size, Manifest: b.Manifest}
				byName[b.Name] = e
			}
			e.Destinations = append(e.Destinations, d.Name())
			if b.LastDrill != nil && (e.LastDrill == nil || b.LastDrill.Started.After(e.LastDrill.Started)) {
				e.LastDrill = b.LastDrill
			}
		}
	}
	entries := make([]CatalogEntry, 0, len(byName))
	for _, e := range byName {
		entries = append(entries, *e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].Time.Equal(entries[j].Time) {
			return entries[i].Time.After(entries[j].Time)
		}
		return entries[i].Name > entries[j].Name
	})
	return entries, errors.Join(errs...)
}

// ErrNoBackup says no complete backup matches.
var ErrNoBackup = errors.New("no complete backup found")

// Select picks a backup from a catalog: by name, else the newest one taken
// before before (when not zero), else the newest.
func Select(entries []CatalogEntry, name string, before time.Time) (CatalogEntry, error) {
	for _, e := range entries {
		switch {
		case name != "":
			if e.Name == name {
				return e, nil
			}
		case !before.IsZero():
			if e.Time.Before(before) {
				return e, nil
			}
		default:
			return e, nil
		}
	}
	switch {
	case name != "":
		return CatalogEntry{}, fmt.Errorf("backup %q: %w (dr list shows the complete ones)", name, ErrNoBackup)
	case !before.IsZero():
		return CatalogEntry{}, fmt.Errorf("%w taken before %s", ErrNoBackup, before.UTC().Format(time.RFC3339))
	}
	return CatalogEntry{}, ErrNoBackup
}
