package drill

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/iocount"
	"github.com/appwrite-dr/dr/scan"
)

// CheckScan: every file of scan.volumes is streamed from the archive to
// clamd, and none is infected.
const CheckScan = "scan"

// notConfigured is what a drill says when no scanner is set: it did not
// scan, rather than pretending the files are clean.
const notConfigured = "not scanned (scan.clamd not set)"

// scanRun is the malware scan riding on a drill's one pass over the
// archive.
type scanRun struct {
	scanner scan.Scanner
	rep     *scan.Report
	// volumes are the scanned volumes the backup holds.
	volumes []string
	// openErr is why no scanner answered.
	openErr error
	// skipped says why nothing was scanned, when that is no failure.
	skipped string
}

func (d *driller) startScan(ctx context.Context) *scanRun {
	if !d.cfg.Scan.Enabled() {
		return &scanRun{skipped: notConfigured}
	}
	s := &scanRun{}
	for _, v := range d.chosen.Manifest.Volumes {
		if slices.Contains(d.cfg.Scan.Volumes, v.Name) {
			s.volumes = append(s.volumes, v.Name)
		}
	}
	if len(s.volumes) == 0 {
		s.skipped = fmt.Sprintf("not scanned: the backup holds none of scan.volumes (%s)", strings.Join(d.cfg.Scan.Volumes, ", "))
		return s
	}
	s.scanner, s.openErr = scan.Open(ctx, d.cfg, d.eng)
	if s.openErr != nil {
		return s
	}
	s.rep = &scan.Report{Scanner: s.scanner.String(), Volumes: s.volumes}
	d.rep.Scan = s.rep
	d.step(fmt.Sprintf("scanning the files of %s with clamd at %s", strings.Join(s.volumes, ", "), s.scanner))
	return s
}

// wants says whether an archive entry is a file to scan.
func (s *scanRun) wants(name string) bool {
	if s.rep == nil || s.rep.Error != "" {
		return false
	}
	key, _, _ := strings.Cut(strings.TrimPrefix(name, archive.VolumesPrefix), "/")
	return slices.Contains(s.volumes, key)
}

// readAndScan reads one volume file to its end (r, the archive reader,
// checks it there), streaming it to clamd on the way when it is one to
// scan, and returns its size. Only a read of the archive fails it: the
// scanner's troubles are the scan check's.
func (s *scanRun) readAndScan(ctx context.Context, name string, r io.Reader) (int64, error) {
	cr := &iocount.Reader{R: r}
	if s.wants(name) {
		// The error is in the report; the rest of the file is read below.
		_ = s.rep.File(ctx, s.scanner, name, cr)
	}
	_, err := io.Copy(io.Discard, cr)
	return cr.N, err
}

func (s *scanRun) check() Check {
	c := Check{Name: CheckScan}
	switch {
	case s.skipped != "":
		c.Passed, c.Skipped, c.Detail = true, true, s.skipped
	case s.openErr != nil:
		c.Detail = "not scanned: " + s.openErr.Error()
	default:
		c.Figures = map[string]int64{"files": s.rep.Files, "bytes": s.rep.Bytes, "infected": int64(len(s.rep.Infected)), "unscanned": int64(len(s.rep.Unscanned))}
		c.Passed = s.rep.Clean()
		c.Detail = s.rep.Summary()
	}
	return c
}
