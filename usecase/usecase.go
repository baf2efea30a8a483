// Package usecase runs what an operator asks of dr (back up, pin, verify,
// drill, prune) the same way whether the CLI or the daemon asks: which
// destinations are opened, who takes the state dir's lock, the memory
// limit and what the outcome says are decided here, once. Commands parse
// flags and print; the daemon schedules; both call these functions.
package usecase

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// Env is what every use case gets from its caller.
type Env struct {
	Logger      *slog.Logger
	ToolVersion string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Getenv reads the caller's environment (os.Getenv when nil).
	Getenv func(string) string
	// Lock takes the state dir's lock for a run that writes. nil means the
	// caller holds it already: the daemon takes it around each job, with
	// its own wait and skip rules.
	Lock func(stateDir, what string) (release func() error, err error)
}

func (e Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return os.Getenv(key)
	}
	return e.Getenv(key)
}

// lock takes the lock when the caller does not hold it; release is never
// nil.
func (e Env) lock(cfg *config.Config, what string) (release func() error, err error) {
	if e.Lock == nil {
		return func() error { return nil }, nil
	}
	return e.Lock(cfg.StateDir, what)
}

// memoryHeadroom is what a run holds live besides its chunk spool and the
// volume files on their way to be stored (backup.CaptureMemory): the zstd
// window and block buffers, rclone's read-ahead per destination, the tar
// and age layers.
const memoryHeadroom = 32 << 20

// limitMemory sets a soft heap limit just above what a run holds live, so
// the garbage collector keeps the footprint there instead of letting the
// heap grow to twice the live size (GOGC's default). A filling chunk is
// held compressed (archive.Writer.AddDump): half the chunk size covers
// dumps that compress poorly. GOMEMLIMIT, when the operator sets it, wins.
// The limit is the process's: a daemon's jobs run one at a time.
// chunkSize is the largest dump chunk the run holds.
func (e Env) LimitMemory(chunkSize int64) {
	if os.Getenv("GOMEMLIMIT") != "" || e.getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(max(64<<20, chunkSize/2+memoryHeadroom) + backup.CaptureMemory)
}

// Destinations are the ones a run could open, and the ones it could not.
type Destinations struct {
	Reachable   []*storage.Destination
	Unreachable []storage.Failure
}

// Err is the run's own outcome once it succeeded: the destinations it
// could not reach, or nil.
func (d Destinations) Err() error {
	if len(d.Unreachable) == 0 {
		return nil
	}
	return &storage.Unreachable{Failed: d.Unreachable}
}

// OpenDestinations opens the named (or all) destinations and warns about
// each that cannot be reached; the run goes on with the others. Only when
// none can be reached is that the run's error.
func OpenDestinations(ctx context.Context, env Env, cfg *config.Config, names []string, why string) (Destinations, error) {
	opened, err := backup.OpenDestinations(ctx, cfg, names)
	if err != nil {
		return Destinations{}, err
	}
	dests, err := opened.Require()
	if err != nil {
		return Destinations{}, err
	}
	for _, f := range opened.Failed {
		env.logger().Warn("destination unreachable; "+why, "destination", f.Destination, "err", f.Err)
	}
	return Destinations{Reachable: dests, Unreachable: opened.Failed}, nil
}

// listed adds the destinations a listing could not read to the ones not
// reached, warning about each: the run goes on from the others.
func (e Env) listed(unreachable []storage.Failure, listErr *storage.Unreachable, why string) []storage.Failure {
	if listErr == nil {
		return unreachable
	}
	for _, f := range listErr.Failed {
		e.logger().Warn("destination could not be listed; "+why, "destination", f.Destination, "err", f.Err)
	}
	return append(unreachable, listErr.Failed...)
}

// PartialError is the outcome of a run that did its work on some
// destinations and failed on, or could not reach, others: a backup
// committed somewhere, a pin written somewhere. It is not a success, and
// not the same failure as a run that did nothing (dr exits 4, not 1).
type PartialError struct{ Err error }

func (e *PartialError) Error() string { return e.Err.Error() }
func (e *PartialError) Unwrap() error { return e.Err }

// outcome is a run's error: err and the destinations it could not reach,
// a *PartialError when it did its work somewhere all the same.
func outcome(done bool, unreachable []storage.Failure, err error) error {
	if len(unreachable) > 0 {
		err = errors.Join(err, &storage.Unreachable{Failed: unreachable})
	}
	if err == nil || !done {
		return err
	}
	return &PartialError{Err: err}
}
