package remote

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
)

// ErrNameTaken says a remote already holds an object of the name a run
// wanted to write: dr writes every object once and never over another.
var ErrNameTaken = errors.New("the name is already taken on the destination")

// ErrNoSpace says a remote ran out of space while dr wrote to it.
var ErrNoSpace = errors.New("no space left")

// Modes of what dr writes on a local remote: an unencrypted archive holds
// the whole database and .env, so nobody but the owner may read it.
const (
	privateDirMode  = 0o700
	privateFileMode = 0o600
)

// checkFree asks the remote, right before a put, whether any of names is
// there. Only "not found" counts as free: a remote that cannot answer is
// not written to. name is the object about to be written.
func (r *Remote) checkFree(ctx context.Context, name string, names []string) error {
	for _, n := range names {
		cctx, cancel := r.call(ctx)
		_, err := r.f.NewObject(cctx, n)
		err = timedOut(cctx, err)
		cancel()
		switch {
		case err == nil, errors.Is(err, rfs.ErrorIsDir):
			return fmt.Errorf("writing %s on %q: %s exists: %w", name, r.name, n, ErrNameTaken)
		case errors.Is(err, rfs.ErrorObjectNotFound), errors.Is(err, rfs.ErrorDirNotFound):
		default:
			return fmt.Errorf("writing %s on %q: checking that %s is free: %w", name, r.name, n, err)
		}
	}
	return nil
}

// claim makes name this run's before any byte of it is written; taken
// are other names whose presence means name is taken too. On a local
// remote it creates the directory (0700) if needed and the file itself,
// empty, mode 0600, with O_EXCL: an atomic claim even against another
// process, and a file that is never readable by others, not even while
// partial (rclone's local backend then opens it with O_TRUNC, which keeps
// the mode). Elsewhere rclone has no create-if-absent, so claim can only
// check that the name is free; a run on another host that checks in the
// same instant can still race it (see docs/security.md).
//
// Once claim returns nil, an object of that name is this run's: only then
// may a failure of the run delete it.
func (r *Remote) claim(ctx context.Context, name string, taken []string) error {
	if err := r.checkFree(ctx, name, append([]string{name}, taken...)); err != nil {
		return err
	}
	if !r.IsLocal() {
		return nil
	}
	dir := r.f.Root()
	if err := ensurePrivateDir(dir); err != nil {
		return fmt.Errorf("writing %s on %q: %w", name, r.name, r.explain(err))
	}
	path := filepath.Join(dir, filepath.FromSlash(name))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateFileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("writing %s on %q: %w", name, r.name, ErrNameTaken)
	}
	if err != nil {
		return fmt.Errorf("writing %s on %q: %w", name, r.name, r.explain(err))
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing %s on %q: %w", name, r.name, r.explain(err))
	}
	// The path is rclone's root joined with the name; make sure rclone
	// sees the same file, or the claim protected nothing.
	cctx, cancel := r.call(ctx)
	defer cancel()
	if _, err := r.f.NewObject(cctx, name); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing %s on %q: the claimed file %s is not the object rclone sees: %w", name, r.name, path, err)
	}
	return nil
}

// ensurePrivateDir creates a local remote's directory, and the missing
// ones above it, mode 0700. A directory that exists is left as the
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

// explain names a full remote and what to do about it; other errors pass
// unchanged.
func (r *Remote) explain(err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) {
		return err
	}
	// rclone spools a stream to $TMPDIR for a backend that cannot take one
	// (WebDAV), and reports that failure with %v: the full disk is then
	// this host's, not the remote's.
	if msg := err.Error(); strings.Contains(msg, "spool file") && strings.Contains(msg, syscall.ENOSPC.Error()) {
		return fmt.Errorf("%w in %s for the temporary copy rclone makes of the archive for %q, which cannot take a stream: free space there or set TMPDIR to a larger disk: %w",
			ErrNoSpace, os.TempDir(), r.name, err)
	}
	if !isNoSpace(err) {
		return err
	}
	return fmt.Errorf("%w on %q: free space there (or keep fewer backups, or point the destination elsewhere): %w", ErrNoSpace, r.name, err)
}

// deleteTimeout bounds the undo of a failed write, which runs even after
// the run's context ended.
const deleteTimeout = 2 * time.Minute

// PutOnce writes a small object that must not exist yet, dated modTime;
// one that does is an error wrapping ErrNameTaken, and is left alone. A
// failed write deletes what it claimed.
func (r *Remote) PutOnce(ctx context.Context, name string, data []byte, modTime time.Time) error {
	if err := r.claim(ctx, name, nil); err != nil {
		return err
	}
	pctx, cancel := r.call(ctx)
	o, err := operations.Rcat(pctx, r.f, name, io.NopCloser(bytes.NewReader(data)), modTime, nil)
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
	if derr := r.DeleteObject(dctx, name); derr != nil {
		err = fmt.Errorf("%w (and the partial object could not be deleted: %v)", err, derr)
	}
	return fmt.Errorf("writing %s on %q: %w", name, r.name, r.explain(err))
}
