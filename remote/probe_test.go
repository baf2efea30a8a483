package remote

import (
	"context"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/remote/remotetest"
)

// TestProbe runs the probe dr doctor makes against every remote kind: it
// leaves nothing behind.
func TestProbe(t *testing.T) {
	remotetest.Conformance(t, func(t *testing.T, remote string) {
		r := open(t, "dest", remote, nil)
		left, err := r.Probe(context.Background(), false)
		if err != nil || left != "" {
			t.Fatalf("Probe = %q, %v", left, err)
		}
		if got := holds(t, r); len(got) != 0 {
			t.Errorf("the probe left %v", got)
		}
	})
}

func TestProbeAppendOnlyLeavesTheObject(t *testing.T) {
	ctx := context.Background()
	r := open(t, "dest", t.TempDir(), nil)
	left, err := r.Probe(ctx, true)
	if err != nil || !strings.HasPrefix(left, ProbePrefix) {
		t.Fatalf("Probe(append-only) = %q, %v", left, err)
	}
	rc, err := r.Open(ctx, left)
	if err != nil {
		t.Fatalf("the probe an append-only remote keeps is not there: %v", err)
	}
	rc.Close()
}

func TestProbeReadOnlyRemoteFails(t *testing.T) {
	r := open(t, "ro", remotetest.StartWebDAV(t, t.TempDir(), true), nil)
	left, err := r.Probe(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "writing probe") {
		t.Fatalf("Probe on a read-only remote = %q, %v; want a write error", left, err)
	}
}
