package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/appwrite-dr/dr/storage"
)

// ReportedChecksums are the table checksums of the newest drill of backup
// that recorded them, across the destinations: a backup records none,
// its drill sums the tables it imported. A report bound to the archive
// (archiveSHA256, from the sidecar) is taken before an unbound one of an
// older dr, and one about another archive never: its sums would compare
// the live database with some other backup. The drill report's object
// name is returned to say where the sums came from.
func ReportedChecksums(ctx context.Context, log *slog.Logger, dests []*storage.Destination, backup, archiveSHA256 string) (map[string]uint64, string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var best *Report
	var bestObject string
	var errs []error
	for _, d := range dests {
		names, err := d.DrillReports(ctx, backup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Newest first: the first with checksums is this destination's.
		for i := len(names) - 1; i >= 0; i-- {
			data, err := d.ReadDrillReport(ctx, names[i])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rep, err := ParseReport(data)
			if err != nil {
				log.Warn("skipping an unreadable drill report", "report", names[i], "destination", d.Name(), "err", err)
				continue
			}
			if rep.Backup != backup || rep.Checksums == nil {
				continue
			}
			if rep.ArchiveSHA256 != "" && rep.ArchiveSHA256 != archiveSHA256 {
				log.Warn("skipping a drill report about another archive", "report", names[i], "destination", d.Name())
				continue
			}
			if best == nil || betterChecksumReport(rep, best) {
				best, bestObject = rep, d.Name()+":"+names[i]
			}
			if rep.ArchiveSHA256 != "" {
				break // the newest bound report here; older ones lose to it
			}
		}
	}
	if best == nil {
		err := fmt.Errorf("backup %s has no drill report with table checksums on the destinations (a backup records none, and drills made before dr recorded them hold none): run dr drill %s first, then this diff again", backup, backup)
		return nil, "", errors.Join(append([]error{err}, errs...)...)
	}
	return best.Checksums, bestObject, nil
}

// betterChecksumReport says whether a's sums are to be taken over b's: a
// report bound to the archive over an unbound one, then the newer.
func betterChecksumReport(a, b *Report) bool {
	if aBound, bBound := a.ArchiveSHA256 != "", b.ArchiveSHA256 != ""; aBound != bBound {
		return aBound
	}
	return a.Started.After(b.Started)
}
