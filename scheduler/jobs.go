package scheduler

import (
	"context"
	"log/slog"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/usecase"
)

// jobEnv is what the daemon's jobs give the use cases: no Lock, since
// the daemon takes the state dir's lock around each job itself, with its
// wait and skip rules.
func jobEnv(toolVersion string, log *slog.Logger) usecase.Env {
	return usecase.Env{Logger: log, ToolVersion: toolVersion}
}

// BackupJob is the scheduled backup: what dr backup does (every
// destination, then retention) through the same use case. backup.Run
// refuses while a restore is unfinished; that refusal is the job's error.
func BackupJob(eng backup.Engine, toolVersion string, log *slog.Logger) JobFunc {
	return func(ctx context.Context, cfg *config.Config) (JobResult, error) {
		res, err := usecase.Backup(ctx, jobEnv(toolVersion, log), eng, cfg, usecase.BackupRequest{})
		var out JobResult
		if res != nil {
			out.Backup, out.Bytes = res.Name, res.ArchiveBytes
			if res.Manifest != nil {
				out.Lacks = res.Manifest.Database.Lacks()
			}
			for _, d := range res.Destinations {
				out.Destinations = append(out.Destinations, destinationOutcome(d.Name, d.Err))
			}
		}
		return out, err
	}
}

// DrillJob is the scheduled drill: what dr drill --latest does, through
// the same use case. identities open encrypted backups; without them an
// encrypted backup's drill fails its archive check, which is what the
// operator must hear.
func DrillJob(eng drill.Engine, identities []age.Identity, toolVersion string, log *slog.Logger) JobFunc {
	return func(ctx context.Context, cfg *config.Config) (JobResult, error) {
		rep, err := usecase.Drill(ctx, jobEnv(toolVersion, log), eng, cfg, usecase.DrillRequest{Request: drill.Request{Identities: identities}})
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

// VerifyJob is the scheduled verify: what dr verify --latest does
// (every reachable copy of the newest complete backup downloaded,
// decrypted and checked against its sidecar), through the same use case.
// A damaged copy fails the job and is named in its destination outcomes.
func VerifyJob(identities []age.Identity, log *slog.Logger) JobFunc {
	return func(ctx context.Context, cfg *config.Config) (JobResult, error) {
		res, err := usecase.Verify(ctx, jobEnv("", log), cfg, usecase.VerifyRequest{
			Identities: func(bool) ([]age.Identity, error) { return identities, nil },
		})
		var out JobResult
		if res == nil {
			return out, err
		}
		out.Backup, out.Bytes = res.Backup, res.Size
		for _, r := range res.Copies {
			out.Destinations = append(out.Destinations, destinationOutcome(r.Destination, r.Err))
		}
		return out, err
	}
}

// destinationOutcome is one destination's line in a job's history.
func destinationOutcome(name string, err error) DestinationOutcome {
	o := DestinationOutcome{Name: name}
	if err != nil {
		o.Error = err.Error()
	}
	return o
}
