package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/rclone/rclone/fs/operations"
)

// ProbePrefix starts the name of every probe object dr doctor writes; no
// backup name starts with a dot, so listings never take one for a backup.
const ProbePrefix = ".dr-probe-"

// Probe writes a small object, and unless appendOnly reads it back and
// deletes it, proving the destination takes what a backup does. With
// appendOnly the object stays (this host may not delete) and its name is
// returned so the operator can remove it from a host that may.
func (r *Remote) Probe(ctx context.Context, appendOnly bool) (left string, err error) {
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("making a probe name: %w", err)
	}
	name := ProbePrefix + hex.EncodeToString(suffix)
	data := []byte("dr doctor probe " + time.Now().UTC().Format(time.RFC3339) + "\n")
	pctx, cancel := r.call(ctx)
	o, err := operations.Rcat(pctx, r.f, name, io.NopCloser(bytes.NewReader(data)), time.Now(), nil)
	err = timedOut(pctx, err)
	cancel()
	if err == nil && (o == nil || o.Size() != int64(len(data))) {
		err = fmt.Errorf("it was not stored whole")
	}
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
		defer cancel()
		_ = r.DeleteObject(dctx, name)
		return "", fmt.Errorf("writing probe %s on %q: %w", name, r.name, r.explain(err))
	}
	if appendOnly {
		return name, nil
	}
	readErr := r.readBack(ctx, name, data)
	if err := r.DeleteObject(ctx, name); err != nil {
		if readErr != nil {
			return name, fmt.Errorf("%w (and %v)", readErr, err)
		}
		return name, fmt.Errorf("deleting probe: %w", err)
	}
	return "", readErr
}

func (r *Remote) readBack(ctx context.Context, name string, want []byte) error {
	rc, err := r.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("reading probe back: %w", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(io.LimitReader(rc, int64(len(want))+1))
	if err != nil {
		return fmt.Errorf("reading probe %s on %q: %w", name, r.name, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("probe %s on %q read back different from what was written (%d bytes, want %d)", name, r.name, len(got), len(want))
	}
	return nil
}
