package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/storage"
)

// ErrAppendOnly says a destination's retention mode forbids this host to
// delete.
var ErrAppendOnly = errors.New("retention.mode is append-only: this host never deletes; prune from a host whose credentials may delete")

// PolicyOf is a destination's retention as storage applies it.
func PolicyOf(r config.Retention, loc *time.Location) storage.Policy {
	return storage.Policy{
		Last: r.KeepLast, Hourly: r.KeepHourly, Daily: r.KeepDaily, Weekly: r.KeepWeekly,
		Monthly: r.KeepMonthly, Yearly: r.KeepYearly, Location: loc,
		Within: storage.Within{Years: r.KeepWithin.Years, Months: r.KeepWithin.Months, Days: r.KeepWithin.Days, Hours: r.KeepWithin.Hours},
	}
}

// PruneOptions tune Prune.
type PruneOptions struct {
	DryRun bool
	Now    time.Time
	Logger *slog.Logger
	// Committed are backups just committed by the calling run: never
	// deleted (see storage.PruneOptions.Committed).
	Committed []string
}

// Prune applies each destination's retention policy. An append-only
// destination is refused (a dry run still shows its plan). Every
// destination is pruned even when one fails; the reports say what each
// did, the error joins the failures.
func Prune(ctx context.Context, cfg *config.Config, dests []*storage.Destination, opts PruneOptions) ([]*storage.PruneReport, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var reports []*storage.PruneReport
	var errs []error
	for _, d := range dests {
		dc, _ := cfg.Destination(d.Name())
		r := dc.Retention
		if r.Mode == config.ModeAppendOnly && !opts.DryRun {
			errs = append(errs, fmt.Errorf("destination %q: %w", d.Name(), ErrAppendOnly))
			continue
		}
		rep, err := d.Prune(ctx, storage.PruneOptions{
			Policy: PolicyOf(r, cfg.Location()), Grace: time.Duration(r.IncompleteGrace), Now: opts.Now, DryRun: opts.DryRun,
			Stack: cfg.Stack.Project, Committed: opts.Committed,
		})
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil {
			errs = append(errs, err)
			log.Error("prune failed", "destination", d.Name(), "err", err)
			continue
		}
		if !opts.DryRun {
			log.Info("pruned", "destination", d.Name(), "removed", rep.Removed(), "deleted_objects", len(rep.Deleted))
		}
	}
	return reports, errors.Join(errs...)
}

// PruneError is a prune that failed after a backup committed everywhere:
// the backup exists; old ones may not all be gone.
type PruneError struct{ Err error }

func (e *PruneError) Error() string {
	return "the backup is committed, but pruning failed: " + e.Err.Error()
}

func (e *PruneError) Unwrap() error { return e.Err }

// pruneAfterBackup prunes the destinations the backup named committed on,
// except the append-only ones, and never deletes that backup.
func pruneAfterBackup(ctx context.Context, cfg *config.Config, dests []*storage.Destination, committed string, now time.Time, log *slog.Logger) ([]*storage.PruneReport, error) {
	var prunable []*storage.Destination
	for _, d := range dests {
		if dc, ok := cfg.Destination(d.Name()); ok && dc.Retention.Mode != config.ModeAppendOnly {
			prunable = append(prunable, d)
		}
	}
	if len(prunable) == 0 {
		return nil, nil
	}
	reports, err := Prune(ctx, cfg, prunable, PruneOptions{Now: now, Logger: log, Committed: []string{committed}})
	if err != nil {
		return reports, &PruneError{Err: err}
	}
	return reports, nil
}
