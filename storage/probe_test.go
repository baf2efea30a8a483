package storage

import (
	"context"
	"testing"
)

// A probe object an append-only destination keeps (dr doctor leaves it
// for a host that may delete) is neither a backup nor a leftover.
func TestAProbeLeftIsNoBackup(t *testing.T) {
	ctx := context.Background()
	d := open(t, "dest", t.TempDir(), nil)
	left, err := d.Probe(ctx, true)
	if err != nil || left == "" {
		t.Fatalf("Probe(append-only) = %q, %v", left, err)
	}
	if l, err := d.ListAll(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
		t.Errorf("a probe object is taken for a backup or a leftover: %+v, %v", l, err)
	}
}
