// Package restore turns a committed backup back into a running stack:
// verification, restore plans and their execution, and the crisis runbooks.
package restore

import (
	"context"
	"fmt"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/iocount"
	"github.com/appwrite-dr/dr/storage"
)

// CopyReport is the verification of one destination's copy of a backup.
type CopyReport struct {
	Destination string
	Report      *archive.Report
	Bytes       int64
	Duration    time.Duration
	Err         error
}

// Verify downloads the backup's copy on every given destination that holds
// it, decrypts it when needed, and checks it entry by entry against its
// sidecar, without touching any database. It returns one report per copy;
// the error is non-nil when any copy failed.
func Verify(ctx context.Context, dests []*storage.Destination, entry storage.CatalogEntry, ids []age.Identity) ([]CopyReport, error) {
	var reports []CopyReport
	failed := 0
	for _, d := range dests {
		if !contains(entry.Destinations, d.Name()) {
			continue
		}
		start := time.Now()
		rep, n, err := verifyCopy(ctx, d, entry.Name, ids)
		if err != nil {
			failed++
		}
		reports = append(reports, CopyReport{Destination: d.Name(), Report: rep, Bytes: n, Duration: time.Since(start), Err: err})
	}
	if len(reports) == 0 {
		return nil, fmt.Errorf("backup %s is on none of the chosen destinations", entry.Name)
	}
	if failed > 0 {
		return reports, fmt.Errorf("verifying %s: %d of %d copies are damaged", entry.Name, failed, len(reports))
	}
	return reports, nil
}

func verifyCopy(ctx context.Context, d *storage.Destination, name string, ids []age.Identity) (*archive.Report, int64, error) {
	sidecar, err := d.ReadSidecar(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	return verifyAgainst(ctx, d, name, sidecar, ids)
}

// verifyAgainst checks the archive against a sidecar already read: a
// restore verifies against the very manifest it planned from, so a
// sidecar replaced on the remote between planning and verification
// cannot slip past.
func verifyAgainst(ctx context.Context, d *storage.Destination, name string, sidecar *archive.Manifest, ids []age.Identity) (*archive.Report, int64, error) {
	rc, err := d.Open(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	counted := &iocount.Reader{R: rc}
	rep, err := archive.Verify(ctx, counted, sidecar, archive.ReaderOptions{Identities: ids, Blobs: d})
	if err != nil {
		return rep, counted.N, fmt.Errorf("verifying %s on %q: %w", name, d.Name(), err)
	}
	return rep, counted.N, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
