// Package storage is dr's side of rclone: destinations that receive one
// archive stream each (written once, verified against the remote), the
// commit protocol (a backup exists only when its sidecar manifest does),
// listing, reading and deleting backups.
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

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/redact"
)

// maxSidecarSize bounds a sidecar read from a remote.
const maxSidecarSize = 64 << 20

// Options open one destination.
type Options struct {
	Name string
	// Remote is any rclone remote path: /var/backups/x, gdrive:appwrite,
	// or a connection string such as :webdav,url='http://127.0.0.1:8080':.
	Remote string
	// RcloneConfig is the rclone config file; "" means rclone's default.
	RcloneConfig string
	// Timeout bounds every call to the remote (DefaultTimeout when 0):
	// opening it and each metadata call (list, read a sidecar, delete)
	// as a whole, and each read or write of a transfer as an idle
	// timeout, so a remote that stops answering fails in bounded time.
	Timeout time.Duration
	// WrapFs, for tests only, wraps the opened remote (fault injection
	// around a real backend).
	WrapFs func(fs.Fs) fs.Fs
}

// DefaultTimeout is a destination's timeout when Options sets none.
const DefaultTimeout = time.Minute

// openLowLevelRetries is rclone's retries of one call to a destination:
// rclone's default of ten, each waiting out the timeout, kept a command
// on a remote that had stopped answering for many minutes.
const openLowLevelRetries = 3

// Destination is one opened remote path.
type Destination struct {
	name string
	// remote is the remote with its credentials redacted: the raw string
	// is handed to rclone in Open and kept nowhere, so no error, log line
	// or summary can quote it.
	remote string
	f      fs.Fs
	// timeout bounds each metadata call (see Options.Timeout).
	timeout time.Duration
	// cancel ends the context the backend was opened with; it is never
	// called while the destination is in use (some backends keep that
	// context for their connection pools), only kept with it.
	cancel context.CancelFunc
	// sidecars are the manifests the last Scan read, by object, size
	// and time: a sidecar is written once and never changed, so a
	// backup's scan before its capture and its prune's after the commit
	// read each once; one written again (damaged, or rewritten by hand)
	// has another time. Only the last listing's are kept.
	sidecarsMu sync.Mutex
	sidecars   map[sidecarKey]*archive.Manifest
}

type sidecarKey struct {
	path string
	size int64
	// modTime is the listing's (the server's, see Open): no call of
	// its own.
	modTime int64
}

func sidecarKeyOf(ctx context.Context, o fs.Object) sidecarKey {
	return sidecarKey{o.Remote(), o.Size(), o.ModTime(ctx).UnixNano()}
}

// Open opens a destination. A malformed rclone config or an unknown remote
// is a clear error naming the file and the remote; a remote that does not
// answer within the timeout is an error saying so.
func Open(ctx context.Context, opts Options) (*Destination, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The backend builds its HTTP client or SSH dialer from this config
	// now: its idle timeout then guards every later read and write too.
	octx, ci := fs.AddConfig(ctx)
	ci.Timeout = fs.Duration(timeout)
	ci.ConnectTimeout = fs.Duration(min(timeout, time.Duration(ci.ConnectTimeout)))
	ci.LowLevelRetries = min(ci.LowLevelRetries, openLowLevelRetries)
	// An object's time is then the one the server recorded at upload
	// (S3, Azure Blob, Swift), not the mtime metadata the uploader sent,
	// which whoever holds the credentials can forge (see trust.go).
	ci.UseServerModTime = true
	octx, cancel := context.WithCancel(octx)
	type opened struct {
		f   fs.Fs
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := newFs(octx, opts.Name, opts.Remote, opts.RcloneConfig)
		done <- opened{f, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var f fs.Fs
	select {
	case r := <-done:
		// Not cancelled on success: some backends keep the context they
		// were opened with for their connection pools.
		if r.err != nil {
			cancel()
			return nil, r.err
		}
		f = r.f
	case <-timer.C:
		cancel()
		return nil, fmt.Errorf("destination %q: opening remote %q: %w", opts.Name, redact.String(opts.Remote), &TimeoutError{After: timeout})
	case <-ctx.Done():
		cancel()
		return nil, fmt.Errorf("destination %q: opening remote %q: %w", opts.Name, redact.String(opts.Remote), ctx.Err())
	}
	if opts.WrapFs != nil {
		f = opts.WrapFs(f)
	}
	return &Destination{name: opts.Name, remote: redact.String(opts.Remote), f: f, timeout: timeout, cancel: cancel}, nil
}

// TimeoutError says a remote left a call unanswered for the destination's
// timeout.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the remote did not answer within %s (destinations[].timeout)", e.After)
}

func (d *Destination) timeoutOr() time.Duration {
	if d.timeout <= 0 {
		return DefaultTimeout
	}
	return d.timeout
}

// call bounds one metadata call to the remote by the destination's
// timeout, and names a deadline it hit as that timeout.
func (d *Destination) call(ctx context.Context) (context.Context, context.CancelFunc) {
	t := d.timeoutOr()
	return context.WithTimeoutCause(ctx, t, &TimeoutError{After: t})
}

// timedOut replaces a deadline error of a call with its cause, the
// destination's timeout, so the operator reads which knob it was.
func timedOut(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var te *TimeoutError
	if cause := context.Cause(ctx); errors.As(cause, &te) && !errors.As(err, &te) {
		return fmt.Errorf("%w: %w", te, err)
	}
	return err
}

// Name is the configured destination name.
func (d *Destination) Name() string { return d.name }

// Remote is the rclone remote path with its credentials redacted, fit to
// print or log.
func (d *Destination) Remote() string { return d.remote }

// IsLocal says whether the destination is a directory on this host (where
// an unencrypted .env is no worse off than in the stack directory).
func (d *Destination) IsLocal() bool { return d.f.Features().IsLocal }

// CanStream says whether the backend takes an upload of unknown size as a
// stream. Where it cannot (WebDAV, for one), rclone spools the archive to
// a temporary file (in $TMPDIR) before sending it.
func (d *Destination) CanStream() bool { return d.f.Features().PutStream != nil }

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
	l, err := d.Scan(ctx)
	if err != nil {
		return nil, err
	}
	return l.Complete, nil
}

// Scan lists every object of dr's on the destination. Objects dr did not
// write are ignored. A listing error is returned, never read as "empty".
func (d *Destination) Scan(ctx context.Context) (*Listing, error) { return d.scan(ctx, true) }

// scanManifests is Scan without reading any backup's pin or drill
// reports (each an object of its own): for what asks only which backups
// are complete and what their manifests say, such as which blobs they
// need.
func (d *Destination) scanManifests(ctx context.Context) (*Listing, error) {
	return d.scan(ctx, false)
}

// scan lists the destination; notes reads each complete backup's pin
// note and drill reports.
func (d *Destination) scan(ctx context.Context, notes bool) (*Listing, error) {
	lctx, cancel := d.call(ctx)
	entries, err := d.f.List(lctx, "")
	err = timedOut(lctx, err)
	cancel()
	if errors.Is(err, fs.ErrorDirNotFound) {
		return &Listing{}, nil // a destination nothing was written to yet
	}
	if err != nil {
		return nil, fmt.Errorf("listing destination %q (%s): %w", d.name, d.remote, redact.Error(err))
	}
	archives := map[string]fs.Object{}
	sidecars := map[string]fs.Object{}
	pins := map[string]fs.Object{}
	drills := map[string][]fs.Object{}
	for _, e := range entries {
		o, ok := e.(fs.Object)
		if !ok {
			continue
		}
		name := o.Remote()
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
		b := Backup{
			Name: name, Stack: p.Stack, Time: p.Time, Encrypted: p.Encrypted, Size: a.Size(),
			ModTime: a.ModTime(ctx), Uploaded: uploadTime(ctx, a, s), Manifest: m, Destination: d.name, Pinned: pins[name] != nil,
		}
		if notes {
			b.PinNote = d.pinNote(ctx, pins[name])
			b.LastDrill = d.lastDrill(ctx, drills[name], backupFacts{name: name, taken: p.Time, archiveSHA256: m.Object.SHA256}, now)
		}
		l.Complete = append(l.Complete, b)
	}
	for backup, reports := range drills {
		if _, ok := archives[backup]; ok {
			continue
		}
		for _, o := range reports {
			l.Leftovers = append(l.Leftovers, Leftover{Name: o.Remote(), Kind: DrillReportWithoutBackup, ModTime: o.ModTime(ctx), Size: o.Size(), Reason: "a drill report whose backup is gone"})
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

// readSidecar is a scan's read of a sidecar: what the last scan read of
// it, when it was not written again since.
func (d *Destination) readSidecar(ctx context.Context, o fs.Object) (*archive.Manifest, error) {
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
func (d *Destination) keepSidecars(ctx context.Context, listed map[string]fs.Object) {
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

func (d *Destination) fetchSidecar(ctx context.Context, o fs.Object) (*archive.Manifest, error) {
	if o.Size() > maxSidecarSize {
		return nil, fmt.Errorf("sidecar %s is %d bytes, more than a manifest can be", o.Remote(), o.Size())
	}
	ctx, cancel := d.call(ctx)
	defer cancel()
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading sidecar %s: %w", o.Remote(), timedOut(ctx, err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSidecarSize))
	if err != nil {
		return nil, fmt.Errorf("reading sidecar %s: %w", o.Remote(), timedOut(ctx, err))
	}
	m, err := archive.ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("sidecar %s: %w", o.Remote(), err)
	}
	return m, nil
}

// ReadSidecar fetches and checks the sidecar of a complete backup: a
// fresh read, never what a scan kept, as a restore and a verify go by it.
func (d *Destination) ReadSidecar(ctx context.Context, name string) (*archive.Manifest, error) {
	s, err := d.object(ctx, archive.SidecarName(name))
	if err != nil {
		return nil, fmt.Errorf("backup %s on %q has no sidecar: %w", name, d.name, err)
	}
	a, err := d.object(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("backup %s on %q: archive missing: %w", name, d.name, err)
	}
	m, err := d.fetchSidecar(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := checkSidecar(m, name, a.Size()); err != nil {
		return nil, fmt.Errorf("backup %s on %q: %w", name, d.name, err)
	}
	return m, nil
}

// object looks an object up, bounded by the timeout.
func (d *Destination) object(ctx context.Context, name string) (fs.Object, error) {
	ctx, cancel := d.call(ctx)
	defer cancel()
	o, err := d.f.NewObject(ctx, name)
	return o, timedOut(ctx, err)
}

// Open streams an archive object. The stream itself is guarded by the
// backend's idle timeout, not a deadline: a large download that keeps
// moving is never cut.
func (d *Destination) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	o, err := d.object(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("opening %s on %q: %w", name, d.name, err)
	}
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening %s on %q: %w", name, d.name, err)
	}
	return rc, nil
}

// Commit writes the sidecar that makes an uploaded archive a backup. It is
// written once: an existing sidecar is never replaced, and its error then
// wraps ErrNameTaken (the name is another run's: leave its archive alone).
func (d *Destination) Commit(ctx context.Context, m *archive.Manifest) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	err = d.putOnce(ctx, archive.SidecarName(m.Name), data, time.Now())
	if errors.Is(err, ErrNameTaken) {
		return fmt.Errorf("committing %s on %q: a sidecar already exists; dr never overwrites one: %w", m.Name, d.name, ErrNameTaken)
	}
	if err != nil {
		return fmt.Errorf("committing %s on %q: %w", m.Name, d.name, err)
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

// DeleteObject removes one object; a missing object is not an error.
func (d *Destination) DeleteObject(ctx context.Context, name string) error {
	ctx, cancel := d.call(ctx)
	defer cancel()
	o, err := d.f.NewObject(ctx, name)
	err = timedOut(ctx, err)
	if errors.Is(err, fs.ErrorObjectNotFound) || errors.Is(err, fs.ErrorDirNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s on %q: %w", name, d.name, err)
	}
	if err := o.Remove(ctx); err != nil {
		return fmt.Errorf("deleting %s on %q: %w", name, d.name, timedOut(ctx, err))
	}
	return nil
}
