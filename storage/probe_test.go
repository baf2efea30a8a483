package storage

import (
	"context"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/storage/storagetest"
)

// TestProbe runs the probe dr doctor makes against every destination kind:
// it leaves nothing behind, and the probe never shows up as a backup.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			d := open(t, "dest", k.remote(t), nil)
			left, err := d.Probe(ctx, false)
			if err != nil || left != "" {
				t.Fatalf("Probe = %q, %v", left, err)
			}
			l, err := d.Scan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Complete)+len(l.Leftovers) != 0 {
				t.Errorf("the probe left %+v", l)
			}
		})
	}
}

func TestProbeAppendOnlyLeavesTheObject(t *testing.T) {
	ctx := context.Background()
	d := open(t, "dest", t.TempDir(), nil)
	left, err := d.Probe(ctx, true)
	if err != nil || !strings.HasPrefix(left, ProbePrefix) {
		t.Fatalf("Probe(append-only) = %q, %v", left, err)
	}
	rc, err := d.Open(ctx, left)
	if err != nil {
		t.Fatalf("the probe an append-only destination keeps is not there: %v", err)
	}
	rc.Close()
	if l, err := d.Scan(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
		t.Errorf("a probe object is taken for a backup or a leftover: %+v, %v", l, err)
	}
}

func TestProbeReadOnlyDestinationFails(t *testing.T) {
	d := open(t, "ro", storagetest.StartWebDAV(t, t.TempDir(), true), nil)
	left, err := d.Probe(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "writing probe") {
		t.Fatalf("Probe on a read-only destination = %q, %v; want a write error", left, err)
	}
}
