package usecase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// PinOutcome is a pin (or unpin) on one destination.
type PinOutcome struct {
	Destination string
	// Existing is the pin that stood already (another run pinned the
	// backup first): its note is the one kept.
	Existing *storage.PinInfo
	Err      error
}

// PinRequest names the backup to pin or unpin, and where.
type PinRequest struct {
	Name         string
	Note         string
	Destinations []string
	Unpin        bool
}

// PinResult is what dr pin and dr unpin did.
type PinResult struct {
	Backup string
	Note   string
	Unpin  bool
	Pins   []PinOutcome
	// Unreachable are the destinations that could not be opened or
	// listed; the pin went on without them.
	Unreachable []storage.Failure
}

// Pin pins (or unpins) a backup on every destination that holds it. A
// destination that refuses fails alone: the others are still pinned,
// and the error names each failure.
func Pin(ctx context.Context, env Env, cfg *config.Config, req PinRequest) (*PinResult, error) {
	if err := storage.CheckNote(req.Note); err != nil {
		return nil, fmt.Errorf("--note: %w", err)
	}
	dests, err := OpenDestinations(ctx, env, cfg, req.Destinations, "pinning on the others")
	if err != nil {
		return nil, err
	}
	entry, listErr, err := storage.ChooseFrom(ctx, dests.Reachable, storage.Query{Stack: cfg.Stack.Project, Name: req.Name})
	res := &PinResult{Note: req.Note, Unpin: req.Unpin, Unreachable: dests.Unreachable}
	if err != nil {
		res.Unreachable = env.listed(res.Unreachable, listErr, "pinning on the others")
		return res, err
	}
	res.Backup = entry.Name
	res.Pins, err = pinAll(ctx, holding(dests.Reachable, entry.Destinations), entry.Name, req.Note, env.now(), req.Unpin)
	res.Unreachable = env.listed(res.Unreachable, listErr, "pinning on the others")
	done := false
	for _, p := range res.Pins {
		done = done || p.Err == nil
	}
	return res, outcome(done, res.Unreachable, err)
}

// holding are the destinations among dests that hold the backup, by name.
func holding(dests []*storage.Destination, names []string) []*storage.Destination {
	var out []*storage.Destination
	for _, d := range dests {
		if slices.Contains(names, d.Name()) {
			out = append(out, d)
		}
	}
	return out
}

// pinAll is the one pin loop, for dr pin, dr unpin and dr backup --pin:
// every destination is tried, whatever the one before it answered.
func pinAll(ctx context.Context, dests []*storage.Destination, name, note string, at time.Time, unpin bool) ([]PinOutcome, error) {
	var out []PinOutcome
	var errs []error
	for _, d := range dests {
		o := PinOutcome{Destination: d.Name()}
		if unpin {
			o.Err = d.Unpin(ctx, name)
		} else {
			o.Existing, o.Err = d.PinWithNote(ctx, name, at, note)
		}
		out = append(out, o)
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name(), o.Err))
		}
	}
	if len(errs) == 0 {
		return out, nil
	}
	if unpin {
		return out, fmt.Errorf("unpinning %s: %w", name, errors.Join(errs...))
	}
	return out, fmt.Errorf("backup %s is not pinned everywhere; pin it again with dr pin %s --note %q: %w", name, name, note, errors.Join(errs...))
}
