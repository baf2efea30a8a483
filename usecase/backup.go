package usecase

import (
	"context"
	"errors"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// BackupRequest is dr backup's (and the scheduled backup's) request.
type BackupRequest struct {
	// Destinations limits the run to these (all when empty).
	Destinations []string
	// Full reads and stores every volume file again.
	Full bool
	// Pin pins the backup once committed, with Note.
	Pin  bool
	Note string
	// Progress hears the run's progress (nil: nobody listens).
	Progress func(backup.Progress)
}

// BackupResult is what a backup run did.
type BackupResult struct {
	*backup.Result
	// Pins is where the backup was pinned, with Pin, and Note the note a
	// fresh pin holds.
	Pins []PinOutcome
	Note string
}

// Backup makes one backup to every reachable destination, commits it
// where it verified, prunes, and pins it when asked. A destination that
// cannot be opened is one failed destination of the run: the backup
// commits on the others.
func Backup(ctx context.Context, env Env, eng backup.Engine, cfg *config.Config, req BackupRequest) (*BackupResult, error) {
	if req.Note != "" && !req.Pin {
		return nil, errors.New("a note goes with a pin: it is kept in the pin")
	}
	if err := storage.CheckNote(req.Note); err != nil {
		return nil, err
	}
	dests, err := OpenDestinations(ctx, env, cfg, req.Destinations, "backing up to the others")
	if err != nil {
		return nil, err
	}
	release, err := env.lock(cfg, "backup")
	if err != nil {
		return nil, err
	}
	defer release()
	env.LimitMemory(int64(cfg.Archive.ChunkSize))
	res, err := backup.Run(ctx, eng, cfg, dests.Reachable, backup.Options{
		ToolVersion: env.ToolVersion,
		Logger:      env.logger(),
		Progress:    req.Progress,
		Unreachable: dests.Unreachable,
		Full:        req.Full,
		Now:         env.Now,
	})
	if res == nil {
		return nil, err
	}
	out := &BackupResult{Result: res, Note: req.Note}
	if req.Pin && len(res.Committed()) > 0 {
		var pinErr error
		out.Pins, pinErr = pinAll(ctx, holding(dests.Reachable, res.Committed()), res.Name, req.Note, env.now(), false)
		err = errors.Join(err, pinErr)
	}
	// backup.Run names the destinations it could not open among its
	// failed ones.
	return out, outcome(len(res.Committed()) > 0, nil, err)
}

// BackupPlan is dr backup --dry-run: everything checked, nothing dumped
// or written.
func BackupPlan(ctx context.Context, env Env, eng backup.Engine, cfg *config.Config, destinations []string) (*backup.Plan, error) {
	dests, err := OpenDestinations(ctx, env, cfg, destinations, "planning for the others")
	if err != nil {
		return nil, err
	}
	plan, err := backup.DryRun(ctx, eng, cfg, dests.Reachable, env.now())
	if err != nil {
		return nil, err
	}
	return plan, dests.Err()
}
