package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
)

// listedBlob is a blob object as a listing shows it. Its time is asked
// of the object only by a prune, for the few no backup needs: on some
// backends (S3) it is a call of its own per object.
type listedBlob struct {
	size int64
	obj  remote.Object
}

// listBlobs lists the blob objects of a stack. A destination that has
// none yet is an empty listing; a listing error is returned, never read
// as "empty".
func (d *Destination) listBlobs(ctx context.Context, stack string) (map[string]listedBlob, error) {
	dir := archive.BlobDir(stack)
	objects, err := d.r.List(ctx, dir[:len(dir)-1])
	if err != nil {
		return nil, fmt.Errorf("listing the blobs of %s on %q (%s): %w", stack, d.Name(), d.Remote(), err)
	}
	out := make(map[string]listedBlob, len(objects))
	for _, o := range objects {
		name := o.Name()[len(dir):]
		if archive.CheckBlobName(name) != nil {
			continue
		}
		out[name] = listedBlob{size: o.Size(), obj: o}
	}
	return out, nil
}

// HeldBlobs are the blobs of a stack the destination holds for sure: each
// listed by the sidecar of one of its complete backups, and there with the
// size that sidecar recorded. A blob no sidecar lists (a killed run's
// upload, maybe cut short) is not held: a backup that needs it stores it
// again.
func (d *Destination) HeldBlobs(ctx context.Context, stack string) (map[string]archive.BlobObject, error) {
	l, err := d.listManifests(ctx)
	if err != nil {
		return nil, err
	}
	listed, err := d.listBlobs(ctx, stack)
	if err != nil {
		return nil, err
	}
	held := map[string]archive.BlobObject{}
	for _, b := range l.Complete {
		if b.Stack != stack || b.Manifest == nil {
			continue
		}
		for _, o := range b.Manifest.Blobs {
			if l, ok := listed[o.Name]; ok && l.size == o.Size {
				held[o.Name] = o
			}
		}
	}
	return held, nil
}

// PutBlob stores one blob of a stack, over whatever object of that name
// a killed run may have left (HeldBlobs never counts one), and checks
// that the destination holds it whole.
func (d *Destination) PutBlob(ctx context.Context, stack, name string, b *archive.EncodedBlob) (archive.BlobObject, error) {
	if err := d.r.Put(ctx, archive.BlobPath(stack, name), b.Reader(), b.Size); err != nil {
		return archive.BlobObject{}, fmt.Errorf("storing blob %s on %q: %w", name, d.Name(), err)
	}
	return archive.BlobObject{Name: name, Size: b.Size}, nil
}

// CheckBlobs is the last look before a commit: every blob the backup
// needs is there with the size the sidecar will record. A blob deleted
// meanwhile (by a prune on another host) fails the commit, rather than
// committing a backup that cannot be restored.
func (d *Destination) CheckBlobs(ctx context.Context, stack string, need []archive.BlobObject) error {
	if len(need) == 0 {
		return nil
	}
	listed, err := d.listBlobs(ctx, stack)
	if err != nil {
		return err
	}
	var missing []string
	for _, o := range need {
		if l, ok := listed[o.Name]; !ok || l.size != o.Size {
			missing = append(missing, o.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%d blob(s) the backup needs are not on %q as stored (first: %s): not committing it", len(missing), d.Name(), missing[0])
	}
	return nil
}

// OpenBlob opens a blob object for reading (archive.BlobOpener).
func (d *Destination) OpenBlob(ctx context.Context, stack, name string) (io.ReadCloser, error) {
	if err := archive.CheckBlobName(name); err != nil {
		return nil, err
	}
	rc, err := d.Open(ctx, archive.BlobPath(stack, name))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", name, err)
	}
	return rc, nil
}

// BlobSweep is what a prune did, or would do, with a stack's blobs.
type BlobSweep struct {
	Stack string `json:"stack"`
	// Kept counts the blobs a kept backup needs, Young the ones no
	// backup needs yet that are younger than the grace period (a backup
	// may still be uploading them).
	Kept  int `json:"kept"`
	Young int `json:"young"`
	// Deleted counts the blobs no kept backup needs (DeleteBytes their
	// size): deleted, or to be deleted in a dry run.
	Deleted     int   `json:"deleted"`
	DeleteBytes int64 `json:"deleted_bytes"`
}

// sweepBlobs deletes the blobs of stack that no backup of l (the
// destination's listing) needs, once older than grace; removed are
// backups of l to count as gone (a dry run's). The caller lists the
// destination again after deleting backups, so a blob is never judged
// against a list that still holds what was just deleted, nor against one
// that lacks a backup committed meanwhile.
func (d *Destination) sweepBlobs(ctx context.Context, stack string, l *Listing, removed map[string]bool, grace time.Duration, now time.Time, dryRun bool) (*BlobSweep, error) {
	sw := &BlobSweep{Stack: stack}
	listed, err := d.listBlobs(ctx, stack)
	if err != nil {
		return sw, err
	}
	if len(listed) == 0 {
		return sw, nil
	}
	need := map[string]bool{}
	for _, b := range l.Complete {
		if b.Stack != stack || b.Manifest == nil || removed[b.Name] {
			continue
		}
		for _, o := range b.Manifest.Blobs {
			need[o.Name] = true
		}
	}
	for _, lo := range l.Leftovers {
		if lo.Kind == InvalidSidecar && stackOf(lo.Name) == stack {
			// Its sidecar cannot be read, so what its backup needs is
			// not known: delete nothing until an operator looks.
			return sw, fmt.Errorf("blobs of %s left alone: %s cannot be read (%s)", stack, lo.Name, lo.Reason)
		}
	}
	names := make([]string, 0, len(listed))
	for n := range listed {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		b := listed[n]
		switch {
		case need[n]:
			sw.Kept++
		case now.Sub(b.obj.ModTime(ctx)) < grace:
			sw.Young++
		default:
			if !dryRun {
				if err := ctx.Err(); err != nil {
					return sw, err
				}
				if err := d.DeleteObject(ctx, archive.BlobPath(stack, n)); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			sw.Deleted++
			sw.DeleteBytes += b.size
		}
	}
	return sw, errors.Join(errs...)
}
