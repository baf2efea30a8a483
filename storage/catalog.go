package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
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
	// Uploaded is each destination's upload time of the backup (see
	// Backup.Uploaded), by destination name.
	Uploaded map[string]time.Time
	// LastDrill is the report that stands for the backup's last drill
	// on any destination (see newestDrill), or nil.
	LastDrill *DrillSummary
	// Pinned: some destination holds a pin of it; PinNote is the first
	// note found.
	Pinned  bool
	PinNote string
}

// Catalog merges the complete backups of every destination, newest first.
// A destination that cannot be listed is reported in the error (an
// *Unreachable) while the others' backups are still returned, so an
// operator in a crisis sees what is reachable. Destinations are listed at
// once, so several that do not answer cost one timeout.
func Catalog(ctx context.Context, dests []*Destination) ([]CatalogEntry, error) {
	listings := make([][]Backup, len(dests))
	errs := make([]error, len(dests))
	var wg sync.WaitGroup
	for i, d := range dests {
		wg.Go(func() { listings[i], errs[i] = d.List(ctx) })
	}
	wg.Wait()
	byName := map[string]*CatalogEntry{}
	var failed []Failure
	for i, d := range dests {
		if errs[i] != nil {
			failed = append(failed, Failure{Destination: d.Name(), Err: errs[i]})
			continue
		}
		for _, b := range listings[i] {
			e, ok := byName[b.Name]
			if !ok {
				e = &CatalogEntry{Name: b.Name, Stack: b.Stack, Time: b.Time, Encrypted: b.Encrypted, Size: b.Size, Manifest: b.Manifest}
				byName[b.Name] = e
			}
			e.Destinations = append(e.Destinations, d.Name())
			if b.Pinned {
				e.Pinned = true
				e.PinNote = cmp.Or(e.PinNote, b.PinNote)
			}
			if !b.Uploaded.IsZero() {
				if e.Uploaded == nil {
					e.Uploaded = map[string]time.Time{}
				}
				e.Uploaded[d.Name()] = b.Uploaded
			}
			e.LastDrill = newestDrill([]*DrillSummary{e.LastDrill, b.LastDrill})
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
	if len(failed) > 0 {
		return entries, &Unreachable{Failed: failed}
	}
	return entries, nil
}

// Query says which backup the operator meant: by Name, else the newest
// taken before Before (when not zero), else the newest. Stack, when set,
// is the configured stack: only its backups are ever chosen.
type Query struct {
	Stack  string
	Name   string
	Before time.Time
	// Pinned chooses among the pinned backups only (the upgrade-failed
	// runbook: the one kept before an upgrade). A Name is taken as it is.
	Pinned bool
}

// OfStack keeps the entries of one stack; stack "" keeps them all.
func OfStack(entries []CatalogEntry, stack string) []CatalogEntry {
	if stack == "" {
		return entries
	}
	var mine []CatalogEntry
	for _, e := range entries {
		if e.Stack == stack {
			mine = append(mine, e)
		}
	}
	return mine
}

// Choose is the one selection rule every command uses. Without a
// configured stack, --latest and --before refuse to choose between the
// backups of several stacks sharing a destination; a named backup of
// another stack than the configured one is refused.
func Choose(entries []CatalogEntry, q Query) (CatalogEntry, error) {
	if q.Name != "" {
		for _, e := range entries {
			if e.Name == q.Name && q.Stack != "" && e.Stack != q.Stack {
				return CatalogEntry{}, fmt.Errorf("backup %q is of stack %q, not of the configured stack.project %q: %w", q.Name, e.Stack, q.Stack, ErrOtherStack)
			}
		}
		return chooseAmong(entries, q.Name, q.Before)
	}
	mine := OfStack(entries, q.Stack)
	if q.Stack == "" {
		if stacks := Stacks(mine); len(stacks) > 1 {
			return CatalogEntry{}, fmt.Errorf("the destinations hold backups of several stacks (%s); set stack.project or name the backup", strings.Join(stacks, ", "))
		}
	}
	if q.Pinned {
		mine = Pinned(mine)
	}
	e, err := chooseAmong(mine, "", q.Before)
	if err != nil && q.Pinned {
		of := ""
		if q.Stack != "" {
			of = fmt.Sprintf(" of stack %q", q.Stack)
		}
		return e, fmt.Errorf("%w among the pinned backups%s: dr backup --pin --note TEXT makes one before an upgrade, dr pin NAME pins one there is", err, of)
	}
	if err != nil && q.Stack != "" {
		return e, fmt.Errorf("%w of stack %q", err, q.Stack)
	}
	return e, err
}

// ErrOtherStack says a named backup belongs to another stack.
var ErrOtherStack = errors.New("it belongs to another stack")

// Stacks lists the stacks the entries are of, sorted.
func Stacks(entries []CatalogEntry) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range entries {
		if !seen[e.Stack] {
			seen[e.Stack] = true
			out = append(out, e.Stack)
		}
	}
	sort.Strings(out)
	return out
}

// ChooseFrom lists the destinations and chooses the backup the query means. When
// nothing is found and some destination could not be listed, the error
// says so; when a backup is found, the unreachable ones are returned too
// (nil when all answered), for the caller to report.
func ChooseFrom(ctx context.Context, dests []*Destination, q Query) (CatalogEntry, *Unreachable, error) {
	entries, listErr := Catalog(ctx, dests)
	var un *Unreachable
	errors.As(listErr, &un)
	e, err := Choose(entries, q)
	if err != nil && un != nil {
		return e, un, fmt.Errorf("%w (and %w)", err, un)
	}
	return e, un, err
}

// ErrNoBackup says no complete backup matches.
var ErrNoBackup = errors.New("no complete backup found")

// chooseAmong chooses a backup from a catalog: by name, else the newest one taken
// before before (when not zero), else the newest.
func chooseAmong(entries []CatalogEntry, name string, before time.Time) (CatalogEntry, error) {
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
