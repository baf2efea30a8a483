package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

// PruneOptions tune one prune of a destination.
type PruneOptions struct {
	Policy Policy
	// Grace is how old an upload that never committed (or a sidecar whose
	// archive is gone) must be before it is deleted: a younger one may
	// belong to a backup still running.
	Grace  time.Duration
	Now    time.Time
	DryRun bool
	// Stack, when set, is the configured stack: only its backups and
	// leftovers are judged, never another stack's sharing the destination
	// (its own host prunes it by its own policy).
	Stack string
	// Committed are the backups the run that prunes has just committed:
	// kept whatever the policy says. A run reports its backup as made, so
	// its own prune must never be what deletes it, even when a newer name
	// is already there (another host's clock, a destination it could not
	// list when it picked its name).
	Committed []string
}

// LeftoverDecision is what a prune does with a leftover object.
type LeftoverDecision struct {
	Leftover
	Delete bool
	Reason string
}

// PruneReport is a prune's plan and, unless a dry run, what it deleted.
type PruneReport struct {
	Destination string
	// Stacks are the decisions per stack: a destination shared by several
	// stacks has each judged on its own.
	Decisions []Decision
	Leftovers []LeftoverDecision
	Deleted   []string
	// Blobs is what was done with each stack's blobs: those no kept
	// backup needs are deleted once older than the grace period.
	Blobs  []BlobSweep
	DryRun bool
}

// Removed counts the backups the policy removes.
func (r *PruneReport) Removed() int {
	n := 0
	for _, d := range r.Decisions {
		if !d.Keep {
			n++
		}
	}
	return n
}

// Prune applies the policy to the destination's complete backups (each
// stack's on their own) and deletes what no rule keeps, sidecar first so
// an interrupted prune never leaves a listed backup without its archive;
// it deletes leftovers older than the grace period. A listing error
// deletes nothing. Deletion goes on past a failed one; the error joins
// every failure, and the report says what was deleted.
func (d *Destination) Prune(ctx context.Context, opts PruneOptions) (*PruneReport, error) {
	rep := &PruneReport{Destination: d.Name(), DryRun: opts.DryRun}
	l, err := d.ListAll(ctx)
	if err != nil {
		return rep, fmt.Errorf("pruning %q: nothing was deleted: %w", d.Name(), err)
	}
	byStack := map[string][]Candidate{}
	for _, b := range l.Complete {
		if opts.Stack != "" && b.Stack != opts.Stack {
			continue
		}
		byStack[b.Stack] = append(byStack[b.Stack], Candidate{Name: b.Name, Time: b.Time, Pinned: b.Pinned,
			DrillPassed: b.LastDrill.ProvesPass()})
	}
	stacks := make([]string, 0, len(byStack))
	for s := range byStack {
		stacks = append(stacks, s)
	}
	sort.Strings(stacks)
	for _, s := range stacks {
		rep.Decisions = append(rep.Decisions, Apply(opts.Policy, byStack[s], opts.Now)...)
	}
	for i, dec := range rep.Decisions {
		if !dec.Keep && slices.Contains(opts.Committed, dec.Name) {
			rep.Decisions[i].Keep = true
			rep.Decisions[i].Reasons = append(rep.Decisions[i].Reasons, "just committed by this run")
		}
	}
	for _, lo := range l.Leftovers {
		if opts.Stack != "" && stackOf(lo.Name) != opts.Stack {
			continue
		}
		ld := LeftoverDecision{Leftover: lo}
		switch {
		case lo.Kind == InvalidSidecar:
			ld.Reason = "kept: the sidecar does not commit its archive (" + lo.Reason + "); look at it, dr will not delete it"
		case opts.Now.Sub(lo.ModTime) < opts.Grace:
			ld.Reason = fmt.Sprintf("kept: younger than the grace period (%s); a backup may still be running", opts.Grace)
		default:
			ld.Delete = true
			ld.Reason = lo.Reason + fmt.Sprintf("; older than the grace period (%s)", opts.Grace)
		}
		rep.Leftovers = append(rep.Leftovers, ld)
	}
	if opts.Stack != "" && !slices.Contains(stacks, opts.Stack) {
		stacks = append(stacks, opts.Stack)
	}
	if opts.DryRun {
		removed := map[string]bool{}
		for _, dec := range rep.Decisions {
			removed[dec.Name] = !dec.Keep
		}
		var errs []error
		for _, s := range stacks {
			sw, err := d.sweepBlobs(ctx, s, l, removed, opts.Grace, opts.Now, true)
			rep.Blobs = append(rep.Blobs, *sw)
			errs = append(errs, err)
		}
		return rep, errors.Join(errs...)
	}
	var errs []error
	for _, dec := range rep.Decisions {
		if dec.Keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		if err := d.Delete(ctx, dec.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Deleted = append(rep.Deleted, dec.Name)
	}
	for _, ld := range rep.Leftovers {
		if !ld.Delete {
			continue
		}
		if err := d.DeleteObject(ctx, ld.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Deleted = append(rep.Deleted, ld.Name)
	}
	// Blobs last: a prune killed before here leaves blobs no backup
	// needs, which the next prune deletes; never a backup without its
	// blobs. They are judged against the destination as it is now, once
	// for every stack.
	if after, err := d.listManifests(ctx); err != nil {
		errs = append(errs, fmt.Errorf("listing the backups left, to delete the blobs none needs: %w", err))
	} else {
		for _, s := range stacks {
			sw, err := d.sweepBlobs(ctx, s, after, nil, opts.Grace, opts.Now, false)
			rep.Blobs = append(rep.Blobs, *sw)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("pruning %q: %w", d.Name(), errors.Join(errs...))
	}
	return rep, nil
}

// Pin writes the pin object that keeps a backup from retention. Pinning a
// pinned backup changes nothing (the pin is written once).
func (d *Destination) Pin(ctx context.Context, name string, at time.Time) error {
	_, err := d.PinWithNote(ctx, name, at, "")
	return err
}

// Unpin removes a backup's pin; retention judges it again.
func (d *Destination) Unpin(ctx context.Context, name string) error {
	return d.DeleteObject(ctx, archive.PinName(name))
}

// stackOf is the stack an object of dr's belongs to (a drill report's
// too), "" when its name is not one of dr's.
func stackOf(object string) string {
	p, ok := backupOfObject(object)
	if !ok {
		return ""
	}
	return p.Stack
}
