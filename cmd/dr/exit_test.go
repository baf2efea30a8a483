package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/usecase"
)

// Exit codes of the outcomes several destinations produce: a run done on
// some destinations and failed on others is partial (4); one that did
// nothing is a failure (1), never a usage error, whatever wraps it.
func TestExitCodesOfDestinationOutcomes(t *testing.T) {
	down := storage.Failure{Destination: "dav", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"backup committed on some", &usecase.PartialError{Err: &backup.PartialError{Failed: []backup.DestinationResult{{Name: "dav", Err: down}}}}, exitPartial},
		{"backup failed everywhere", fmt.Errorf("backup b failed on every destination: %w", &backup.PartialError{Failed: []backup.DestinationResult{{Name: "dav", Err: down}}}), exitFailed},
		{"interrupted", fmt.Errorf("dumping: %w", context.Canceled), exitInterrupted},
		{"interrupted while partly done", &usecase.PartialError{Err: context.Canceled}, exitInterrupted},
		{"prune with one unreachable", &storage.Unreachable{Failed: []storage.Failure{down}}, exitFailed},
		{"none reachable", fmt.Errorf("%w: %w", storage.ErrNoDestination, down), exitFailed},
		{"no copy verified", &restore.NoCopyError{Backup: "b", Faults: []restore.CopyFault{{Destination: "dav", Err: down.Err}}}, exitFailed},
		{"a named backup of another stack", fmt.Errorf("backup: %w", storage.ErrOtherStack), exitFailed},
		{"unknown destination", fmt.Errorf("x: %w", backup.ErrUnknownDestination), exitUsage},
		{"locked", &lock.HeldError{}, exitLocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
