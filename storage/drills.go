package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/redact"
)

// Drill reports are objects of their own beside the backup they prove,
// written once (the sidecar is never rewritten):
// <backup>.drill-<UTC yyyymmddThhmmssZ>.json.
const (
	drillInfix      = ".drill-"
	drillExt        = ".json"
	drillTimeLayout = "20060102T150405Z"
	// maxDrillReportSize bounds a report read from a remote.
	maxDrillReportSize = 16 << 20
)

// DrillReportName is the object name of a drill of backup started at at.
func DrillReportName(backup string, at time.Time) string {
	return backup + drillInfix + at.UTC().Format(drillTimeLayout) + drillExt
}

// ParseDrillReportName splits a drill report's object name into the
// backup's name and the drill's start; ok is false for any other name.
func ParseDrillReportName(name string) (backup string, at time.Time, ok bool) {
	if !strings.HasSuffix(name, drillExt) {
		return "", time.Time{}, false
	}
	i := strings.LastIndex(name, drillInfix)
	if i <= 0 {
		return "", time.Time{}, false
	}
	backup = name[:i]
	at, err := time.Parse(drillTimeLayout, strings.TrimSuffix(name[i+len(drillInfix):], drillExt))
	if err != nil {
		return "", time.Time{}, false
	}
	if _, err := archive.ParseObjectName(backup); err != nil {
		return "", time.Time{}, false
	}
	return backup, at.UTC(), true
}

// DrillSummary is what list and retention read of a drill report; the
// drill package writes the whole report.
type DrillSummary struct {
	// Object is the report's object name.
	Object     string    `json:"-"`
	Backup     string    `json:"backup"`
	Started    time.Time `json:"started"`
	Passed     bool      `json:"passed"`
	RTOSeconds float64   `json:"rto_seconds"`
	Failed     []string  `json:"failed,omitempty"`
}

// ParseDrillSummary decodes the summary fields of a drill report.
func ParseDrillSummary(data []byte) (*DrillSummary, error) {
	var s DrillSummary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decoding drill report: %w", err)
	}
	if s.Backup == "" || s.Started.IsZero() {
		return nil, errors.New("decoding drill report: backup and started are required")
	}
	return &s, nil
}

// PutDrillReport writes a drill report of backup beside it, once: an
// object of that name is never replaced. It returns the object's name.
func (d *Destination) PutDrillReport(ctx context.Context, backup string, started time.Time, data []byte) (string, error) {
	name := DrillReportName(backup, started)
	if err := d.putOnce(ctx, name, data, time.Now()); err != nil {
		return name, fmt.Errorf("writing drill report %s: %w", name, err)
	}
	return name, nil
}

// ReadDrillReport reads one drill report object, whole.
func (d *Destination) ReadDrillReport(ctx context.Context, name string) ([]byte, error) {
	o, err := d.object(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading drill report %s on %q: %w", name, d.name, err)
	}
	return d.readDrillObject(ctx, o)
}

func (d *Destination) readDrillObject(ctx context.Context, o fs.Object) ([]byte, error) {
	if o.Size() > maxDrillReportSize {
		return nil, fmt.Errorf("drill report %s is %d bytes, more than a report can be", o.Remote(), o.Size())
	}
	ctx, cancel := d.call(ctx)
	defer cancel()
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading drill report %s on %q: %w", o.Remote(), d.name, timedOut(ctx, err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxDrillReportSize))
	if err != nil {
		return nil, fmt.Errorf("reading drill report %s on %q: %w", o.Remote(), d.name, err)
	}
	return data, nil
}

// DrillReports lists the drill report objects of backup, oldest first.
func (d *Destination) DrillReports(ctx context.Context, backup string) ([]string, error) {
	lctx, cancel := d.call(ctx)
	entries, err := d.f.List(lctx, "")
	err = timedOut(lctx, err)
	cancel()
	if errors.Is(err, fs.ErrorDirNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing destination %q (%s): %w", d.name, d.remote, redact.Error(err))
	}
	var out []string
	for _, e := range entries {
		if b, _, ok := ParseDrillReportName(e.Remote()); ok && b == backup {
			out = append(out, e.Remote())
		}
	}
	return out, nil // rclone lists sorted by name, which sorts by time
}

// lastDrill reads the newest of a backup's drill reports. A report that
// cannot be read or decoded counts as a failed drill: it never lets
// retention keep a backup on its word.
func (d *Destination) lastDrill(ctx context.Context, reports []fs.Object) *DrillSummary {
	var newest fs.Object
	var newestAt time.Time
	for _, o := range reports {
		_, at, _ := ParseDrillReportName(o.Remote())
		if newest == nil || at.After(newestAt) {
			newest, newestAt = o, at
		}
	}
	if newest == nil {
		return nil
	}
	backup, _, _ := ParseDrillReportName(newest.Remote())
	data, err := d.readDrillObject(ctx, newest)
	var s *DrillSummary
	if err == nil {
		s, err = ParseDrillSummary(data)
	}
	if err != nil || s.Backup != backup {
		return &DrillSummary{Object: newest.Remote(), Backup: backup, Started: newestAt, Failed: []string{"unreadable report"}}
	}
	s.Object = newest.Remote()
	return s
}

// deleteDrillReports removes every drill report of backup.
func (d *Destination) deleteDrillReports(ctx context.Context, backup string) error {
	names, err := d.DrillReports(ctx, backup)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := d.DeleteObject(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
