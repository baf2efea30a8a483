// Package remote is dr's transport: it talks to one rclone remote (any
// backend rclone has) and knows nothing of what the objects mean. It
// opens the remote, streams and puts objects (each written once, checked
// against what the remote holds), lists, reads and deletes them, and
// bounds every call by the remote's timeout. Package storage gives the
// objects their meaning (backups, sidecars, pins, drill reports).
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"

	"github.com/appwrite-dr/dr/internal/redact"
)

// Options open one remote.
type Options struct {
	// Name is the configured destination's name, which every error
	// names.
	Name string
	// Remote is any rclone remote path: /var/backups/x, gdrive:appwrite,
	// or a connection string such as :webdav,url='http://127.0.0.1:8080':.
	Remote string
	// RcloneConfig is the rclone config file; "" means rclone's default.
	RcloneConfig string
	// Timeout bounds every call to the remote (DefaultTimeout when 0):
	// opening it and each metadata call (list, read a small object,
	// delete) as a whole, and each read or write of a transfer as an
	// idle timeout, so a remote that stops answering fails in bounded
	// time.
	Timeout time.Duration
	// WrapFs, for tests only, wraps the opened remote (fault injection
	// around a real backend).
	WrapFs func(fs.Fs) fs.Fs
}

// DefaultTimeout is a remote's timeout when Options sets none.
const DefaultTimeout = time.Minute

// openLowLevelRetries is rclone's retries of one call to a remote:
// rclone's default of ten, each waiting out the timeout, kept a command
// on a remote that had stopped answering for many minutes.
const openLowLevelRetries = 3

// ErrNotFound says an object is not on the remote. It is rclone's own
// error, so errors from any call can be tested against it.
var ErrNotFound = fs.ErrorObjectNotFound

// Remote is one opened remote path.
type Remote struct {
	name string
	// remote is the remote with its credentials redacted: the raw string
	// is handed to rclone in Open and kept nowhere, so no error, log line
	// or summary can quote it.
	remote string
	f      fs.Fs
	// timeout bounds each metadata call (see Options.Timeout).
	timeout time.Duration
	// cancel ends the context the backend was opened with; it is never
	// called while the remote is in use (some backends keep that
	// context for their connection pools), only kept with it.
	cancel context.CancelFunc
}

// Open opens a remote. A malformed rclone config or an unknown remote is
// a clear error naming the file and the remote; a remote that does not
// answer within the timeout is an error saying so.
func Open(ctx context.Context, opts Options) (*Remote, error) {
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
	// which whoever holds the credentials can forge (see storage's
	// trust.go).
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
	return &Remote{name: opts.Name, remote: redact.String(opts.Remote), f: f, timeout: timeout, cancel: cancel}, nil
}

// TimeoutError says a remote left a call unanswered for the remote's
// timeout.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the remote did not answer within %s (destinations[].timeout)", e.After)
}

// Timeout is how long the remote may leave one call unanswered.
func (r *Remote) Timeout() time.Duration {
	if r.timeout <= 0 {
		return DefaultTimeout
	}
	return r.timeout
}

// call bounds one metadata call to the remote by the remote's timeout,
// and names a deadline it hit as that timeout.
func (r *Remote) call(ctx context.Context) (context.Context, context.CancelFunc) {
	t := r.Timeout()
	return context.WithTimeoutCause(ctx, t, &TimeoutError{After: t})
}

// timedOut replaces a deadline error of a call with its cause, the
// remote's timeout, so the operator reads which knob it was.
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

// Name is the configured destination's name.
func (r *Remote) Name() string { return r.name }

// Remote is the rclone remote path with its credentials redacted, fit to
// print or log.
func (r *Remote) Remote() string { return r.remote }

// IsLocal says whether the remote is a directory on this host (where an
// unencrypted .env is no worse off than in the stack directory).
func (r *Remote) IsLocal() bool { return r.f.Features().IsLocal }

// CanStream says whether the backend takes an upload of unknown size as a
// stream. Where it cannot (WebDAV, for one), rclone spools the archive to
// a temporary file (in $TMPDIR) before sending it.
func (r *Remote) CanStream() bool { return r.f.Features().PutStream != nil }

// KeepsModTime says whether the backend records a time for each object;
// where it does not, an Object's ModTime means nothing.
func (r *Remote) KeepsModTime() bool { return r.f.Precision() != fs.ModTimeNotSupported }

// Object is one object as the remote showed it (in a listing, or asked
// by name).
type Object struct{ o fs.Object }

// Name is the object's path under the remote's root.
func (o Object) Name() string { return o.o.Remote() }

// Size is the object's size in bytes.
func (o Object) Size() int64 { return o.o.Size() }

// ModTime is the object's time (the server's, see Open). On some
// backends (S3) a listed object's time is a call of its own: ask only
// where it is needed.
func (o Object) ModTime(ctx context.Context) time.Time { return o.o.ModTime(ctx) }

// List lists the objects directly in dir ("" for the root), not the
// directories. A directory that does not exist (nothing was written
// there yet) is an empty listing; any other error is returned, never read
// as "empty".
func (r *Remote) List(ctx context.Context, dir string) ([]Object, error) {
	lctx, cancel := r.call(ctx)
	defer cancel()
	entries, err := r.f.List(lctx, dir)
	err = timedOut(lctx, err)
	if errors.Is(err, fs.ErrorDirNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, redact.Error(err)
	}
	out := make([]Object, 0, len(entries))
	for _, e := range entries {
		if o, ok := e.(fs.Object); ok {
			out = append(out, Object{o})
		}
	}
	return out, nil
}

// Stat looks an object up by name; an object that is not there is an
// error wrapping ErrNotFound.
func (r *Remote) Stat(ctx context.Context, name string) (Object, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	o, err := r.f.NewObject(ctx, name)
	if err != nil {
		return Object{}, timedOut(ctx, err)
	}
	return Object{o}, nil
}

// ReadAll reads a small object whole, at most limit bytes of it, within
// one call's timeout: for sidecars, pins and reports, never an archive.
func (r *Remote) ReadAll(ctx context.Context, o Object, limit int64) ([]byte, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	rc, err := o.o.Open(ctx)
	if err != nil {
		return nil, timedOut(ctx, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return nil, timedOut(ctx, err)
	}
	return data, nil
}

// Open streams an object. The stream itself is guarded by the backend's
// idle timeout, not a deadline: a large download that keeps moving is
// never cut.
func (r *Remote) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	o, err := r.Stat(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("opening %s on %q: %w", name, r.name, err)
	}
	rc, err := o.o.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening %s on %q: %w", name, r.name, err)
	}
	return rc, nil
}

// DeleteObject removes one object; a missing object is not an error.
func (r *Remote) DeleteObject(ctx context.Context, name string) error {
	ctx, cancel := r.call(ctx)
	defer cancel()
	o, err := r.f.NewObject(ctx, name)
	err = timedOut(ctx, err)
	if errors.Is(err, fs.ErrorObjectNotFound) || errors.Is(err, fs.ErrorDirNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s on %q: %w", name, r.name, err)
	}
	if err := o.Remove(ctx); err != nil {
		return fmt.Errorf("deleting %s on %q: %w", name, r.name, timedOut(ctx, err))
	}
	return nil
}

// putRate is the slowest pace a sized put is given time for on top of
// the remote's timeout: a 4 GiB file to a slow remote is not cut short,
// a put that hangs still ends.
const putRate = 256 << 10 // bytes per second

// Put stores an object of a known size, over whatever object of that
// name is there, and checks that the remote holds it whole. A full
// remote is an error wrapping ErrNoSpace.
func (r *Remote) Put(ctx context.Context, name string, in io.Reader, size int64) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout()+time.Duration(size/putRate)*time.Second)
	defer cancel()
	info := object.NewStaticObjectInfo(name, time.Now(), size, true, nil, r.f)
	o, err := r.f.Put(ctx, in, info)
	err = timedOut(ctx, err)
	if err == nil && (o == nil || o.Size() != size) {
		err = errors.New("it was not stored whole")
	}
	return r.explain(err)
}
