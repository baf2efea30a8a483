package drill

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/appwrite-dr/dr/mariadb"
)

// recordChecksums keeps CHECKSUM TABLE … EXTENDED of every base table of
// the imported backup in the report, for dr diff --live --checksum:
// backups record none (reading every table again would slow every
// backup), but a drill has the backup's data in a database anyway. It is
// not a check: a failure leaves the report without checksums, and says so.
func (d *driller) recordChecksums(ctx context.Context, srv *mariadb.Server) {
	var refs []mariadb.TableRef
	for _, t := range d.chosen.Manifest.Database.Tables {
		if !t.View {
			refs = append(refs, mariadb.TableRef{Database: t.Database, Name: t.Name})
		}
	}
	sums, err := srv.Checksums(ctx, refs)
	if err != nil {
		d.log.Warn("the drill report holds no table checksums (dr diff --live --checksum cannot use it)", "err", err)
		return
	}
	d.rep.Checksums = sums
}

// ParseReport decodes a drill report as written beside a backup; reports
// older than a field read without it.
func ParseReport(data []byte) (*Report, error) {
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("decoding drill report: %w", err)
	}
	return &rep, nil
}
