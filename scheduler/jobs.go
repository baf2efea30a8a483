package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// BackupJob is the scheduled backup: what dr backup does (every
// destination, then retention), without the CLI's lock, which the daemon
// takes itself. backup.Run refuses while a restore is unfinished; that
// refusal is the job's error.
func BackupJob(eng backup.Engine, toolVersion string, log *slog.Logger) JobFunc {
	return func(ctx context.Context, cfg *config.Config) (JobResult, error) {
		// A destination that cannot be opened is one failed destination
		// of the run; the backup commits on the others.
		opened, err := backup.OpenDestinations(ctx, cfg, nil)
		if err != nil {
			return JobResult{}, err
		}
		res, err := backup.Run(ctx, eng, cfg, opened.Healthy, backup.Options{ToolVersion: toolVersion, Logger: log, Unreachable: opened.Failed})
		var out JobResult
		if res != nil {
			out.Backup, out.Bytes = res.Name, res.ArchiveBytes
			if res.Manifest != nil {
				out.Lacks = res.Manifest.Database.Lacks()
			}
			for _, d := range res.Destinations {
				o := DestinationOutcome{Name: d.Name}
				if d.Err != nil {
					o.Error = d.Err.Error()
				}
				out.Destinations = append(out.Destinations, o)
			}
		}
		return out, err
	}
}

// DrillJob is the scheduled drill: what dr drill --latest does, without
// the CLI's lock, which the daemon takes itself. identities open encrypted
// backups; without them an encrypted backup's drill fails its archive
// check, which is what the operator must hear.
func DrillJob(eng drill.Engine, identities []age.Identity, toolVersion string, log *slog.Logger) JobFunc {
	return func(ctx context.Context, cfg *config.Config) (JobResult, error) {
		// The drill reads from whatever is reachable, as dr drill does.
		opened, err := backup.OpenDestinations(ctx, cfg, nil)
		if err != nil {
			return JobResult{}, err
		}
		for _, f := range opened.Failed {
			log.Warn("destination unreachable; the drill reads from the others", "destination", f.Destination, "err", f.Err)
		}
		dests, err := opened.Require()
		if err != nil {
			return JobResult{}, err
		}
		host, _ := os.Hostname()
		rep, err := drill.Run(ctx, eng, cfg, dests, drill.Request{
			Identities: identities, Logger: log, Host: host, ToolVersion: toolVersion,
		})
		var out JobResult
		if rep != nil {
			out.Backup = rep.Backup
			out.Drill = &DrillOutcome{
				RTOSeconds: rep.RTOSeconds, BackupAgeSeconds: rep.BackupAgeSeconds,
				Passed: rep.Passed, Checks: len(rep.Checks), Failed: rep.Failed,
			}
		}
		return out, err
	}
}

// VerifyJob is the scheduled verify: what dr verify --latest does (every
// reachable copy of the newest complete backup downloaded, decrypted and
// checked against its sidecar), without the CLI's lock, which the daemon
// takes itself. A damaged copy fails the job and is named in its
// destination outcomes.
func VerifyJob(identities []age.Identity, log *slog.Logger) JobFunc {
	return func(ctx context.Context, cfg *config.Config) (JobResult, error) {
		opened, err := backup.OpenDestinations(ctx, cfg, nil)
		if err != nil {
			return JobResult{}, err
		}
		for _, f := range opened.Failed {
			log.Warn("destination unreachable; verifying the copies on the others", "destination", f.Destination, "err", f.Err)
		}
		dests, err := opened.Require()
		if err != nil {
			return JobResult{}, err
		}
		entry, _, err := storage.ChooseFrom(ctx, dests, storage.Query{Stack: cfg.Stack.Project})
		if err != nil {
			return JobResult{}, fmt.Errorf("finding the newest backup to verify: %w", err)
		}
		out := JobResult{Backup: entry.Name, Bytes: entry.Size}
		if entry.Encrypted && len(identities) == 0 {
			return out, fmt.Errorf("verifying %s: the backup is encrypted and the daemon has no identity; start it with -i FILE or DR_IDENTITY", entry.Name)
		}
		reports, err := restore.Verify(ctx, dests, entry, identities)
		for _, r := range reports {
			o := DestinationOutcome{Name: r.Destination}
			if r.Err != nil {
				o.Error = r.Err.Error()
			}
			out.Destinations = append(out.Destinations, o)
		}
		// restore.Verify's error names the backup and the damaged copies.
		return out, err
	}
}
