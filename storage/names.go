package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	rfs "github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/operations"
	"github.com/rclone/rclone/lib/file"

	"github.com/appwrite-dr/dr/archive"
)

// ErrNameTaken says a destination already holds an object of the name a
// run wanted to write: dr writes every object once and never over another.
var ErrNameTaken = errors.New("the name is already taken on the destination")

// ErrNoSpace says a destination ran out of space while dr wrote to it.
var ErrNoSpace = errors.New("no space left")

// maxNameShift is how many seconds past its start a run's name may be:
// more backups of one stack in one minute than this means something is
// looping, and a name further ahead than that means a clock is wrong
// (this host's now, or the one that named the newest backup).
const maxNameShift = 60

// Modes of what dr writes on a local destination: an unencrypted archive
// holds the whole database and .env, so nobody but the owner may read it.
const (
	privateDirMode  = 0o700
	privateFileMode = 0o600
)

// FreeName picks the archive name of a backup of stack started at from:
// the start's second, or, when some destination already holds an object
// of a backup of stack named at that second or later (archive of either
// kind, sidecar, pin, drill report, or a leftover), the second after the
// newest of them. Names then rise in the order runs start, even when
// quick runs pushed earlier names ahead of the clock: a later run never
// takes an earlier second that a prune freed, which would make its
// backup look older than the one before it (to --latest and to
// retention). Moving to a later second keeps the documented name format.
// A destination that cannot be listed does not stop the pick: the check
// each put makes before it starts (see claim) still protects it.
func FreeName(ctx context.Context, dests []*Destination, stack string, from time.Time, encrypted bool) (string, error) {
	from = from.UTC().Truncate(time.Second)
	at := from
	var newest, holder string
	for _, d := range dests {
		lctx, cancel := d.call(ctx)
		entries, err := d.f.List(lctx, "")
		cancel()
		if err != nil {
			continue
		}
		for _, e := range entries {
			p, ok := backupOfObject(e.Remote())
			if !ok || p.Stack != stack || p.Time.Before(at) {
				continue
			}
			at = p.Time.Add(time.Second)
			newest, holder = e.Remote(), d.name
		}
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("picking the backup name: %w", err)
	}
	if ahead := at.Sub(from); ahead > maxNameShift*time.Second {
		return "", fmt.Errorf("picking the backup name: %s on %q is dated %s after this run's start (%s), and a backup is named after the newest of its stack, at most %ds ahead of its start: either backups of %s are looping, or a clock is wrong (this host's, or the one that wrote that object): check the clock, or move that object away if its name is wrong",
			newest, holder, ahead-time.Second, from.Format(time.RFC3339), maxNameShift, stack)
	}
	return archive.ObjectName(stack, at, encrypted), nil
}

// backupOfObject is the backup an object of dr's belongs to: the archive's
// own name, read from the archive, its sidecar, its pin or one of its
// drill reports; ok is false for any other object.
func backupOfObject(object string) (archive.ParsedName, bool) {
	name := strings.TrimSuffix(strings.TrimSuffix(object, archive.SidecarSuffix), archive.PinSuffix)
	if backup, _, ok := ParseDrillReportName(object); ok {
		name = backup
	}
	p, err := archive.ParseObjectName(name)
	return p, err == nil
}

// related is every object name whose presence means name is taken: the
// name itself and, for an archive, its sidecar, its pin, and the archive
// and sidecar of the other kind (plain or encrypted) of the same backup.
func related(name string) []string {
	out := []string{name}
	if _, err := archive.ParseObjectName(name); err != nil {
		return out
	}
	other := name + ".age"
	if strings.HasSuffix(name, archive.EncryptedSuffix) {
		other = strings.TrimSuffix(name, ".age")
	}
	return append(out, archive.SidecarName(name), archive.PinName(name), other, archive.SidecarName(other))
}

// checkFree asks the destination, right before a put, whether anything of
// name's backup is there. Only "not found" counts as free: a destination
// that cannot answer is not written to.
func (d *Destination) checkFree(ctx context.Context, name string) error {
	for _, n := range related(name) {
		cctx, cancel := d.call(ctx)
		_, err := d.f.NewObject(cctx, n)
		err = timedOut(cctx, err)
		cancel()
		switch {
		case err == nil, errors.Is(err, rfs.ErrorIsDir):
			return fmt.Errorf("writing %s on %q: %s exists: %w", name, d.name, n, ErrNameTaken)
		case errors.Is(err, rfs.ErrorObjectNotFound), errors.Is(err, rfs.ErrorDirNotFound):
		default:
			return fmt.Errorf("writing %s on %q: checking that %s is free: %w", name, d.name, n, err)
		}
	}
	return nil
}

// claim makes name this run's before any byte of it is written. On a local
// destination it creates the directory (0700) if needed and the file
// itself, empty, mode 0600, with O_EXCL: an atomic claim even against
// another process, and a file that is never readable by others, not even
// while partial (rclone's local backend then opens it with O_TRUNC, which
// keeps the mode). Elsewhere rclone has no create-if-absent, so claim can
// only check that the name is free; a run on another host that checks in
// the same instant can still race it (see docs/security.md).
//
// Once claim returns nil, an object of that name is this run's: only then
// may a failure of the run delete it.
func (d *Destination) claim(ctx context.Context, name string) error {
	if err := d.checkFree(ctx, name); err != nil {
		return err
	}
	if !d.IsLocal() {
		return nil
	}
	dir := d.f.Root()
	if err := ensurePrivateDir(dir); err != nil {
		return fmt.Errorf("writing %s on %q: %w", name, d.name, d.explain(err))
	}
	path := filepath.Join(dir, filepath.FromSlash(name))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateFileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("writing %s on %q: %w", name, d.name, ErrNameTaken)
	}
	if err != nil {
		return fmt.Errorf("writing %s on %q: %w", name, d.name, d.explain(err))
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing %s on %q: %w", name, d.name, d.explain(err))
	}
	// The path is rclone's root joined with the name; make sure rclone
	// sees the same file, or the claim protected nothing.
	cctx, cancel := d.call(ctx)
	defer cancel()
	if _, err := d.f.NewObject(cctx, name); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing %s on %q: the claimed file %s is not the object rclone sees: %w", name, d.name, path, err)
	}
	return nil
}

// ensurePrivateDir creates a local destination's directory, and the
// missing ones above it, mode 0700. A directory that exists is left as the
// operator made it: the files dr writes in it are 0600 anyway.
func ensurePrivateDir(dir string) error {
	_, err := os.Stat(dir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking the destination directory: %w", err)
	}
	if err := os.MkdirAll(dir, privateDirMode); err != nil {
		return fmt.Errorf("creating the destination directory: %w", err)
	}
	// MkdirAll's mode passes through the umask, which can only narrow
	// it; chmod still, so that the mode is the documented one.
	if err := os.Chmod(dir, privateDirMode); err != nil {
		return fmt.Errorf("creating the destination directory: %w", err)
	}
	return nil
}

// isNoSpace recognises a full disk (or quota) in an error from a backend.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, file.ErrDiskFull) || fserrors.IsErrNoSpace(err)
}

// explain names a full destination and what to do about it; other errors
// pass unchanged.
func (d *Destination) explain(err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) {
		return err
	}
	// rclone spools a stream to $TMPDIR for a backend that cannot take one
	// (WebDAV), and reports that failure with %v: the full disk is then
	// this host's, not the destination's.
	if msg := err.Error(); strings.Contains(msg, "spool file") && strings.Contains(msg, syscall.ENOSPC.Error()) {
		return fmt.Errorf("%w in %s for the temporary copy rclone makes of the archive for %q, which cannot take a stream: free space there or set TMPDIR to a larger disk: %w",
			ErrNoSpace, os.TempDir(), d.name, err)
	}
	if !isNoSpace(err) {
		return err
	}
	return fmt.Errorf("%w on %q: free space there (or keep fewer backups, or point the destination elsewhere): %w", ErrNoSpace, d.name, err)
}

// deleteTimeout bounds the undo of a failed write, which runs even after
// the run's context ended.
const deleteTimeout = 2 * time.Minute

// putOnce writes a small object (a sidecar, a pin) that must not exist
// yet; a failed write deletes what it claimed.
func (d *Destination) putOnce(ctx context.Context, name string, data []byte, modTime time.Time) error {
	if err := d.claim(ctx, name); err != nil {
		return err
	}
	pctx, cancel := d.call(ctx)
	o, err := operations.Rcat(pctx, d.f, name, io.NopCloser(bytes.NewReader(data)), modTime, nil)
	err = timedOut(pctx, err)
	cancel()
	if err == nil && (o == nil || o.Size() != int64(len(data))) {
		err = errors.New("it was not stored whole")
	}
	if err == nil {
		return nil
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if derr := d.DeleteObject(dctx, name); derr != nil {
		err = fmt.Errorf("%w (and the partial object could not be deleted: %v)", err, derr)
	}
	return fmt.Errorf("writing %s on %q: %w", name, d.name, d.explain(err))
}
