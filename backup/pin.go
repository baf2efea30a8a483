package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/appwrite-dr/dr/storage"
)

// PinOutcome is the pin of a fresh backup on one destination.
type PinOutcome struct {
	Destination string
	// Existing is the pin that stood already (another run pinned the
	// backup first): its note is the one kept.
	Existing *storage.PinInfo
	Err      error
}

// Pin pins a backup Run has just committed, with a note, on every
// destination that holds it (dr backup --pin --note, before an upgrade).
// It runs after the commit: a backup is never pinned that does not exist.
// A pin that cannot be written fails that destination alone, and the
// error says how to pin it by hand.
func Pin(ctx context.Context, res *Result, dests []*storage.Destination, note string, at time.Time) ([]PinOutcome, error) {
	var out []PinOutcome
	var errs []error
	for _, name := range res.Committed() {
		d := findDest(dests, name)
		if d == nil {
			continue
		}
		existing, err := d.PinWithNote(ctx, res.Name, at, note)
		out = append(out, PinOutcome{Destination: name, Existing: existing, Err: err})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("backup %s is committed but not pinned everywhere; pin it with dr pin %s --note %q: %w", res.Name, res.Name, note, errors.Join(errs...))
	}
	return out, nil
}
