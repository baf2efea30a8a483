package storage

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// TestHeldBlobsTrustsOnlyWhatACommitListsWithFakes: a destination holds a
// blob only when a complete backup's sidecar lists it and it is there
// with the size recorded; what a killed upload left is stored again.
func TestHeldBlobsTrustsOnlyWhatACommitListsWithFakes(t *testing.T) {
	ctx := context.Background()
	d := open(t, "mem", remotetest.Memory(t), nil)
	enc := archive.NewBlobEncoder(0, nil, t.TempDir())
	put := func(content string) archive.BlobObject {
		t.Helper()
		b, err := enc.Encode(strings.NewReader(content), int64(len(content)))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		o, err := d.PutBlob(ctx, "appwrite", archive.BlobName([]byte("k"), b.ContentSHA256, false), b)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	committed, leftover, cut := put("committed"), put("left by a killed run"), put("cut short")
	name := "appwrite-20261207T030000Z.tar.zst"
	data := []byte("archive")
	if err := d.r.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	m := sidecarFor(name, int64(len(data)), sha(data))
	wrongSize := cut
	wrongSize.Size++ // the sidecar recorded another size than the object has
	m.Blobs = []archive.BlobObject{committed, wrongSize}
	if err := d.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	held, err := d.HeldBlobs(ctx, "appwrite")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := held[committed.Name]; !ok || len(held) != 1 {
		t.Errorf("held %v; want the committed blob alone (not %s, no sidecar lists it, nor %s, not the size recorded)", held, leftover.Name, cut.Name)
	}
	if err := d.CheckBlobs(ctx, "appwrite", []archive.BlobObject{committed}); err != nil {
		t.Errorf("a blob that is there fails the last look: %v", err)
	}
	if err := d.CheckBlobs(ctx, "appwrite", []archive.BlobObject{committed, wrongSize}); err == nil || !strings.Contains(err.Error(), "not committing") {
		t.Errorf("a blob of another size passed the last look: %v", err)
	}
	if _, err := d.OpenBlob(ctx, "appwrite", "../"+name); err == nil {
		t.Error("a blob name out of the blob directory was opened")
	}
}
