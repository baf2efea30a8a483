package usecase

import (
	"context"
	"fmt"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// VerifyRequest names the backup to verify (the newest complete one when
// Name and Before are empty) and where.
type VerifyRequest struct {
	Name         string
	Before       time.Time
	Destinations []string
	// Identities gives the identities that open the backup, asked only
	// when it is encrypted: the CLI reads --identity then, the daemon
	// has them from its start.
	Identities func(encrypted bool) ([]age.Identity, error)
}

// VerifyResult is each copy's verification.
type VerifyResult struct {
	Backup string
	// Size is the archive's, as the sidecar records it.
	Size   int64
	Copies []restore.CopyReport
	// Unreachable are the destinations that could not be opened or
	// listed: their copies were not verified.
	Unreachable []storage.Failure
}

// Verify downloads every reachable copy of a backup, decrypts it and
// checks it against its sidecar, touching no database. A damaged copy
// fails the verify and is named; an unreachable destination is reported
// beside the copies that were checked.
func Verify(ctx context.Context, env Env, cfg *config.Config, req VerifyRequest) (*VerifyResult, error) {
	dests, err := OpenDestinations(ctx, env, cfg, req.Destinations, "verifying the copies on the others")
	if err != nil {
		return nil, err
	}
	res := &VerifyResult{Unreachable: dests.Unreachable}
	entry, listErr, err := storage.ChooseFrom(ctx, dests.Reachable, storage.Query{Stack: cfg.Stack.Project, Name: req.Name, Before: req.Before})
	res.Unreachable = env.listed(res.Unreachable, listErr, "verifying the copies on the others")
	if err != nil {
		return res, fmt.Errorf("choosing the backup to verify: %w", err)
	}
	res.Backup, res.Size = entry.Name, entry.Size
	var ids []age.Identity
	if req.Identities != nil {
		if ids, err = req.Identities(entry.Encrypted); err != nil {
			return res, err
		}
	}
	if entry.Encrypted && len(ids) == 0 {
		return res, fmt.Errorf("verifying %s: the backup is encrypted and no identity was given (--identity FILE or DR_IDENTITY)", entry.Name)
	}
	// restore.Verify's error names the backup and the damaged copies.
	res.Copies, err = restore.Verify(ctx, dests.Reachable, entry, ids)
	return res, err
}
