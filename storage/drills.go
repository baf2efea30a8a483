package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
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
	Object  string    `json:"-"`
	Backup  string    `json:"backup"`
	Started time.Time `json:"started"`
	// Passed is what the report says; ProvesPass says whether dr takes
	// its word.
	Passed     bool     `json:"passed"`
	RTOSeconds float64  `json:"rto_seconds"`
	Failed     []string `json:"failed,omitempty"`
	// ArchiveSHA256 is the sha256 of the archive object the drill
	// restored, as the backup's sidecar gave it; empty in reports of a dr
	// from before reports were bound to their archive.
	ArchiveSHA256 string `json:"archive_sha256,omitempty"`
	// Binding is how the report was found to relate to the backup it is
	// listed with (DrillBound, DrillUnbound or DrillInvalid).
	Binding string `json:"-"`
}

// How a drill report relates to the backup it sits beside. Anyone who
// can write to a destination can write a report, so a report is evidence
// of what a host holding the destination's credentials wrote, never
// proof: binding shows only that it was written about this exact archive.
const (
	// DrillBound: the report names the archive sha256 that the backup's
	// sidecar records.
	DrillBound = "bound"
	// DrillUnbound: the report names no archive (dr before the binding);
	// shown, never counted as a pass.
	DrillUnbound = "unbound"
	// DrillInvalid: the report cannot be read, names another backup or
	// archive, or is dated where no drill of the backup can be (before
	// it, in the future, or not at the time its object name says). It
	// counts as a failed drill.
	DrillInvalid = "invalid"
)

// drillClockSkew is how far in the future a report's start may be, for a
// drilling host whose clock runs ahead of this one.
const drillClockSkew = time.Hour

// ProvesPass says whether the report shows the backup's own archive
// passing its drill: it says passed and is bound to the archive. Only
// such a report makes retention keep a backup for its drill.
func (s *DrillSummary) ProvesPass() bool {
	return s != nil && s.Passed && s.Binding == DrillBound
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
	if err := d.r.PutOnce(ctx, name, data, time.Now()); err != nil {
		return name, fmt.Errorf("writing drill report %s: %w", name, err)
	}
	return name, nil
}

// ReadDrillReport reads one drill report object, whole.
func (d *Destination) ReadDrillReport(ctx context.Context, name string) ([]byte, error) {
	o, err := d.r.Stat(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading drill report %s on %q: %w", name, d.Name(), err)
	}
	return d.readDrillObject(ctx, o)
}

func (d *Destination) readDrillObject(ctx context.Context, o remote.Object) ([]byte, error) {
	if o.Size() > maxDrillReportSize {
		return nil, fmt.Errorf("drill report %s is %d bytes, more than a report can be", o.Name(), o.Size())
	}
	data, err := d.r.ReadAll(ctx, o, maxDrillReportSize)
	if err != nil {
		return nil, fmt.Errorf("reading drill report %s on %q: %w", o.Name(), d.Name(), err)
	}
	return data, nil
}

// DrillReports lists the drill report objects of backup, oldest first.
func (d *Destination) DrillReports(ctx context.Context, backup string) ([]string, error) {
	objects, err := d.r.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("listing destination %q (%s): %w", d.Name(), d.Remote(), err)
	}
	var out []string
	for _, o := range objects {
		if b, _, ok := ParseDrillReportName(o.Name()); ok && b == backup {
			out = append(out, o.Name())
		}
	}
	return out, nil // rclone lists sorted by name, which sorts by time
}

// backupFacts are what a drill report of a backup is checked against.
type backupFacts struct {
	name          string
	taken         time.Time // the time in the backup's name
	archiveSHA256 string    // from its sidecar
}

// lastDrill reads every drill report of a backup and returns the one that
// stands for its last drill (see newestDrill), or nil when there is none.
func (d *Destination) lastDrill(ctx context.Context, reports []remote.Object, b backupFacts, now time.Time) *DrillSummary {
	summaries := make([]*DrillSummary, 0, len(reports))
	for _, o := range reports {
		data, err := d.readDrillObject(ctx, o)
		summaries = append(summaries, judgeDrillReport(o.Name(), data, err, b, now))
	}
	return newestDrill(summaries)
}

// judgeDrillReport decodes one report object and decides its binding to
// backup b. A report that cannot be trusted to be about b's archive at
// the time it claims is DrillInvalid and counts as a failed drill: it
// never lets retention keep a backup on its word.
func judgeDrillReport(object string, data []byte, readErr error, b backupFacts, now time.Time) *DrillSummary {
	_, namedAt, _ := ParseDrillReportName(object)
	invalid := func(started time.Time, why string) *DrillSummary {
		return &DrillSummary{Object: object, Backup: b.name, Started: started, Failed: []string{why}, Binding: DrillInvalid}
	}
	if readErr != nil {
		return invalid(namedAt, "unreadable report")
	}
	s, err := ParseDrillSummary(data)
	if err != nil {
		return invalid(namedAt, "unreadable report")
	}
	if s.Backup != b.name {
		return invalid(namedAt, "report is about another backup")
	}
	s.Object = object
	switch {
	case !s.Started.Truncate(time.Second).Equal(namedAt):
		return invalid(s.Started, "report's object name and its start time disagree")
	case s.Started.After(now.Add(drillClockSkew)):
		return invalid(s.Started, "report dated in the future")
	case s.Started.Before(b.taken):
		return invalid(s.Started, "report dated before the backup was taken")
	case s.ArchiveSHA256 == "":
		s.Binding = DrillUnbound
	case s.ArchiveSHA256 != b.archiveSHA256:
		return invalid(s.Started, "report is about another archive (sha256 "+abbreviateSHA(s.ArchiveSHA256)+")")
	default:
		s.Binding = DrillBound
	}
	return s
}

func abbreviateSHA(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// bindingRank orders reports by how far they can be taken at their word.
func bindingRank(binding string) int {
	switch binding {
	case DrillBound:
		return 2
	case DrillUnbound:
		return 1
	default:
		return 0
	}
}

// newestDrill chooses the report that stands for a backup's last drill:
// a bound report over an unbound one over an invalid one (so that a
// planted or older-format report never hides a bound verdict), then the
// newest by the start time written inside, never by the object's name.
// Nil when there is none.
func newestDrill(reports []*DrillSummary) *DrillSummary {
	var best *DrillSummary
	for _, s := range reports {
		if s != nil && (best == nil || laterDrill(s, best)) {
			best = s
		}
	}
	return best
}

// laterDrill says whether a stands for the last drill rather than b.
func laterDrill(a, b *DrillSummary) bool {
	if ra, rb := bindingRank(a.Binding), bindingRank(b.Binding); ra != rb {
		return ra > rb
	}
	if !a.Started.Equal(b.Started) {
		return a.Started.After(b.Started)
	}
	return a.Object > b.Object
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
