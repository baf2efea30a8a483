// Package storage is what the objects on a destination mean: backups
// and their sidecars (the commit protocol: a backup exists only when its
// sidecar manifest does), the catalog across destinations and the one
// rule that chooses a backup, pins, drill reports, trust, retention and
// the blobs backups share. Talking to the remote is package remote's.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
)

// maxSidecarSize bounds a sidecar read from a remote.
const maxSidecarSize = 64 << 20

// Destination is one opened remote read and written as dr's repository.
type Destination struct {
	r *remote.Remote
	// sidecars are the manifests the last ListAll read, by object, size
	// and time: a sidecar is written once and never changed, so a
	// backup's listing before its capture and its prune's after the commit
	// read each once; one written again (damaged, or rewritten by hand)
	// has another time. Only the last listing's are kept.
	sidecarsMu sync.Mutex
	sidecars   map[sidecarKey]*archive.Manifest
}

type sidecarKey struct {
	path string
	size int64
	// modTime is the listing's (the server's, see remote.Open): no call
	// of its own.
	modTime int64
}

func sidecarKeyOf(ctx context.Context, o remote.Object) sidecarKey {
	return sidecarKey{o.Name(), o.Size(), o.ModTime(ctx).UnixNano()}
}

// Open opens a destination (see remote.Open for what can fail).
func Open(ctx context.Context, opts remote.Options) (*Destination, error) {
	r, err := remote.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Destination{r: r}, nil
}

// Name is the configured destination name.
func (d *Destination) Name() string { return d.r.Name() }

// Remote is the rclone remote path with its credentials redacted, fit to
// print or log.
func (d *Destination) Remote() string { return d.r.Remote() }

// IsLocal says whether the destination is a directory on this host.
func (d *Destination) IsLocal() bool { return d.r.IsLocal() }

// CanStream says whether the destination takes an upload of unknown size
// as a stream (see remote.Remote.CanStream).
func (d *Destination) CanStream() bool { return d.r.CanStream() }

// Open streams one object (an archive) of the destination.
func (d *Destination) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return d.r.Open(ctx, name)
}

// DeleteObject removes one object; a missing object is not an error.
func (d *Destination) DeleteObject(ctx context.Context, name string) error {
	return d.r.DeleteObject(ctx, name)
}

// Probe proves the destination takes what a backup does (see
// remote.Remote.Probe).
func (d *Destination) Probe(ctx context.Context, appendOnly bool) (left string, err error) {
	return d.r.Probe(ctx, appendOnly)
}

// Backup is a complete backup on one destination.
type Backup struct {
	Name        string
	Stack       string
	Time        time.Time
	Encrypted   bool
	Size        int64
	ModTime     time.Time
	Manifest    *archive.Manifest
	Destination string
	// Pinned: a pin object keeps the backup from retention; PinNote is
	// the note it was pinned with (dr backup --pin --note), if any.
	Pinned  bool
	PinNote string
	// LastDrill is the report that stands for the backup's last drill
	// here (see newestDrill), or nil.
	LastDrill *DrillSummary
	// Uploaded is when the backup was committed here by the backend's
	// clock: the later of the archive's and the sidecar's times (zero
	// when the backend keeps neither). See Suspicious for how far it can
	// be trusted.
	Uploaded time.Time
}

// Leftover kinds.
const (
	ArchiveWithoutSidecar = "archive-without-sidecar"
	SidecarWithoutArchive = "sidecar-without-archive"
	InvalidSidecar        = "invalid-sidecar"
	// DrillReportWithoutBackup is a drill report whose backup is gone
	// (deleted between the drill and the report's write).
	DrillReportWithoutBackup = "drill-report-without-backup"
)

// Leftover is an object of dr's that does not make a complete backup: an
// upload that never committed, or a sidecar whose archive is gone.
type Leftover struct {
	Name    string // the object's name
	Kind    string
	ModTime time.Time
	Size    int64
	Reason  string
}

// Listing is a destination's backups and leftovers.
type Listing struct {
	Complete  []Backup // newest first
	Leftovers []Leftover
}

// List returns the complete backups, newest first.
func (d *Destination) List(ctx context.Context) ([]Backup, error) {
	l, err := d.ListAll(ctx)
	if err != nil {
		return nil, err
	}
	return l.Complete, nil
}

// ListAll lists every object of dr's on the destination. Objects dr did not
// write are ignored. A listing error is returned, never read as "empty".
func (d *Destination) ListAll(ctx context.Context) (*Listing, error) { return d.listing(ctx, true) }

// listManifests is ListAll without reading any backup's pin or drill
// reports (each an object of its own): for what asks only which backups
// are complete and what their manifests say, such as which blobs they
// need.
func (d *Destination) listManifests(ctx context.Context) (*Listing, error) {
	return d.listing(ctx, false)
}

// listing lists the destination; notes reads each complete backup's pin
// note and drill reports.
func (d *Destination) listing(ctx context.Context, notes bool) (*Listing, error) {
	objects, err := d.r.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("listing destination %q (%s): %w", d.Name(), d.Remote(), err)
	}
	archives := map[string]remote.Object{}
	sidecars := map[string]remote.Object{}
	pins := map[string]remote.Object{}
	drills := map[string][]remote.Object{}
	for _, o := range objects {
		name := o.Name()
		if backup, _, ok := ParseDrillReportName(name); ok {
			drills[backup] = append(drills[backup], o)
			continue
		}
		switch {
		case strings.HasSuffix(name, archive.SidecarSuffix):
			base := strings.TrimSuffix(name, archive.SidecarSuffix)
			if _, err := archive.ParseObjectName(base); err == nil {
				sidecars[base] = o
			}
		case strings.HasSuffix(name, archive.PinSuffix):
			base := strings.TrimSuffix(name, archive.PinSuffix)
			if _, err := archive.ParseObjectName(base); err == nil {
				pins[base] = o
			}
		default:
			if _, err := archive.ParseObjectName(name); err == nil {
				archives[name] = o
			}
		}
	}
	l := &Listing{}
	now := time.Now()
	defer d.keepSidecars(ctx, sidecars)
	for name, a := range archives {
		s, ok := sidecars[name]
		if !ok {
			l.Leftovers = append(l.Leftovers, Leftover{Name: name, Kind: ArchiveWithoutSidecar, ModTime: a.ModTime(ctx), Size: a.Size(), Reason: "no sidecar: the upload never committed"})
			continue
		}
		m, err := d.readSidecar(ctx, s)
		if err == nil {
			err = checkSidecar(m, name, a.Size())
		}
		if err != nil {
			l.Leftovers = append(l.Leftovers, Leftover{Name: archive.SidecarName(name), Kind: InvalidSidecar, ModTime: s.ModTime(ctx), Size: s.Size(), Reason: err.Error()})
			continue
		}
		p, _ := archive.ParseObjectName(name)
		pin, pinned := pins[name]
		b := Backup{
			Name: name, Stack: p.Stack, Time: p.Time, Encrypted: p.Encrypted, Size: a.Size(),
			ModTime: a.ModTime(ctx), Uploaded: d.uploadTime(ctx, a, s), Manifest: m, Destination: d.Name(), Pinned: pinned,
		}
		if notes {
			b.PinNote = d.pinNote(ctx, pin, pinned)
			b.LastDrill = d.lastDrill(ctx, drills[name], backupFacts{name: name, taken: p.Time, archiveSHA256: m.Object.SHA256}, now)
		}
		l.Complete = append(l.Complete, b)
	}
	for backup, reports := range drills {
		if _, ok := archives[backup]; ok {
			continue
		}
		for _, o := range reports {
			l.Leftovers = append(l.Leftovers, Leftover{Name: o.Name(), Kind: DrillReportWithoutBackup, ModTime: o.ModTime(ctx), Size: o.Size(), Reason: "a drill report whose backup is gone"})
		}
	}
	for name, s := range sidecars {
		if _, ok := archives[name]; !ok {
			l.Leftovers = append(l.Leftovers, Leftover{Name: archive.SidecarName(name), Kind: SidecarWithoutArchive, ModTime: s.ModTime(ctx), Size: s.Size(), Reason: "the archive is gone"})
		}
	}
	sort.Slice(l.Complete, func(i, j int) bool {
		if !l.Complete[i].Time.Equal(l.Complete[j].Time) {
			return l.Complete[i].Time.After(l.Complete[j].Time)
		}
		return l.Complete[i].Name > l.Complete[j].Name
	})
	sort.Slice(l.Leftovers, func(i, j int) bool { return l.Leftovers[i].Name < l.Leftovers[j].Name })
	return l, nil
}

// checkSidecar is what makes a sidecar a commit of this archive.
func checkSidecar(m *archive.Manifest, name string, size int64) error {
	switch {
	case m.Name != name:
		return fmt.Errorf("sidecar names %q, not %q", m.Name, name)
	case m.Status != archive.StatusComplete:
		return fmt.Errorf("sidecar status is %q, not complete", m.Status)
	case m.Object == nil:
		return errors.New("sidecar lacks the archive object's size and hash")
	case m.Object.Size != size:
		return fmt.Errorf("sidecar says the archive is %d bytes; it is %d", m.Object.Size, size)
	}
	return nil
}

// readSidecar is a listing's read of a sidecar: what the last listing read of
// it, when it was not written again since.
func (d *Destination) readSidecar(ctx context.Context, o remote.Object) (*archive.Manifest, error) {
	key := sidecarKeyOf(ctx, o)
	d.sidecarsMu.Lock()
	m, ok := d.sidecars[key]
	d.sidecarsMu.Unlock()
	if ok {
		return m, nil
	}
	m, err := d.fetchSidecar(ctx, o)
	if err != nil {
		return nil, err
	}
	d.sidecarsMu.Lock()
	if d.sidecars == nil {
		d.sidecars = map[sidecarKey]*archive.Manifest{}
	}
	d.sidecars[key] = m
	d.sidecarsMu.Unlock()
	return m, nil
}

// keepSidecars forgets the manifests of sidecars a listing no longer
// shows.
func (d *Destination) keepSidecars(ctx context.Context, listed map[string]remote.Object) {
	keep := make(map[sidecarKey]bool, len(listed))
	for _, o := range listed {
		keep[sidecarKeyOf(ctx, o)] = true
	}
	d.sidecarsMu.Lock()
	defer d.sidecarsMu.Unlock()
	for key := range d.sidecars {
		if !keep[key] {
			delete(d.sidecars, key)
		}
	}
}

func (d *Destination) fetchSidecar(ctx context.Context, o remote.Object) (*archive.Manifest, error) {
	if o.Size() > maxSidecarSize {
		return nil, fmt.Errorf("sidecar %s is %d bytes, more than a manifest can be", o.Name(), o.Size())
	}
	data, err := d.r.ReadAll(ctx, o, maxSidecarSize)
	if err != nil {
		return nil, fmt.Errorf("reading sidecar %s: %w", o.Name(), err)
	}
	m, err := archive.ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("sidecar %s: %w", o.Name(), err)
	}
	return m, nil
}

// ReadSidecar fetches and checks the sidecar of a complete backup: a
// fresh read, never what a listing kept, as a restore and a verify go by it.
func (d *Destination) ReadSidecar(ctx context.Context, name string) (*archive.Manifest, error) {
	s, err := d.r.Stat(ctx, archive.SidecarName(name))
	if err != nil {
		return nil, fmt.Errorf("backup %s on %q has no sidecar: %w", name, d.Name(), err)
	}
	a, err := d.r.Stat(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("backup %s on %q: archive missing: %w", name, d.Name(), err)
	}
	m, err := d.fetchSidecar(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := checkSidecar(m, name, a.Size()); err != nil {
		return nil, fmt.Errorf("backup %s on %q: %w", name, d.Name(), err)
	}
	return m, nil
}

// Commit writes the sidecar that makes an uploaded archive a backup. It is
// written once: an existing sidecar is never replaced, and its error then
// wraps remote.ErrNameTaken (the name is another run's: leave its archive alone).
func (d *Destination) Commit(ctx context.Context, m *archive.Manifest) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	err = d.r.PutOnce(ctx, archive.SidecarName(m.Name), data, time.Now())
	if errors.Is(err, remote.ErrNameTaken) {
		return fmt.Errorf("committing %s on %q: a sidecar already exists; dr never overwrites one: %w", m.Name, d.Name(), remote.ErrNameTaken)
	}
	if err != nil {
		return fmt.Errorf("committing %s on %q: %w", m.Name, d.Name(), err)
	}
	return nil
}

// Delete removes a backup: the sidecar first, so that an interrupted
// delete never leaves a listed backup without its archive; its drill
// reports go with it (those an interrupted delete leaves are leftovers
// the next prune removes).
func (d *Destination) Delete(ctx context.Context, name string) error {
	if err := d.DeleteObject(ctx, archive.SidecarName(name)); err != nil {
		return err
	}
	if err := d.DeleteObject(ctx, name); err != nil {
		return err
	}
	if err := d.deleteDrillReports(ctx, name); err != nil {
		return err
	}
	return d.DeleteObject(ctx, archive.PinName(name))
}
