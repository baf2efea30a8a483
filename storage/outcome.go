package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/appwrite-dr/dr/remote"
)

// Failure is one destination's failure: it could not be opened, listed,
// written or read. It is that destination's outcome, never the run's.
type Failure struct {
	Destination string
	Err         error
}

func (f Failure) Error() string { return f.Err.Error() }
func (f Failure) Unwrap() error { return f.Err }

// Opened is what OpenAll could open, in the order asked, and what it
// could not.
type Opened struct {
	Healthy []*Destination
	Failed  []Failure
}

// Names lists the healthy destinations' names.
func (o *Opened) Names() []string {
	names := make([]string, len(o.Healthy))
	for i, d := range o.Healthy {
		names[i] = d.Name()
	}
	return names
}

// FailedNames lists the destinations that could not be opened.
func (o *Opened) FailedNames() []string {
	return failureNames(o.Failed)
}

// Err is every failure joined, nil when there is none.
func (o *Opened) Err() error { return joinFailures(o.Failed) }

// ErrNoDestination says no destination could be used at all.
var ErrNoDestination = errors.New("no destination could be reached")

// Require returns the healthy destinations, or, when there is none, an
// error wrapping ErrNoDestination that says why each one failed.
func (o *Opened) Require() ([]*Destination, error) {
	if len(o.Healthy) == 0 {
		if len(o.Failed) == 0 {
			return nil, fmt.Errorf("%w: none is configured", ErrNoDestination)
		}
		return nil, fmt.Errorf("%w: %w", ErrNoDestination, o.Err())
	}
	return o.Healthy, nil
}

// OpenAll opens every destination at once, so that remotes which do not
// answer cost one timeout, not one each. A destination that cannot be
// opened is a Failure; the others are returned in the order given.
func OpenAll(ctx context.Context, opts []remote.Options) *Opened {
	dests := make([]*Destination, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i, o := range opts {
		wg.Go(func() { dests[i], errs[i] = Open(ctx, o) })
	}
	wg.Wait()
	out := &Opened{}
	for i, o := range opts {
		if errs[i] != nil {
			out.Failed = append(out.Failed, Failure{Destination: o.Name, Err: errs[i]})
			continue
		}
		out.Healthy = append(out.Healthy, dests[i])
	}
	return out
}

func failureNames(fs []Failure) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Destination
	}
	return names
}

func joinFailures(fs []Failure) error {
	if len(fs) == 0 {
		return nil
	}
	errs := make([]error, len(fs))
	for i, f := range fs {
		errs[i] = f
	}
	return errors.Join(errs...)
}

// Unreachable is the error of a command that worked from the reachable
// destinations while others failed: the command's output is whole for
// those, and the exit says the rest failed.
type Unreachable struct{ Failed []Failure }

func (e *Unreachable) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("unreachable destinations %s: %s", strings.Join(failureNames(e.Failed), ", "), strings.Join(parts, "; "))
}

func (e *Unreachable) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}
