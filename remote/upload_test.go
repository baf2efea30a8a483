package remote

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/remote/remotetest"
)

// An upload to a destination that stops taking data drops it after its
// timeout; the healthy one commits through Finish without waiting for it.
func TestUploadStalledDestinationIsDropped(t *testing.T) {
	ctx := context.Background()
	good, err := Open(ctx, Options{Name: "good", Remote: t.TempDir(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wrap, faulty := remotetest.Wrap(remotetest.Stall, 1<<10)
	bad, err := Open(ctx, Options{Name: "bad", Remote: t.TempDir(), Timeout: time.Second, WrapFs: wrap})
	if err != nil {
		t.Fatal(err)
	}
	u := NewUpload(ctx, []*Remote{good, bad}, objectName, nil)
	block := make([]byte, 64<<10)
	for range 64 {
		if _, err := u.Write(block); err != nil {
			t.Fatalf("write failed although one destination is healthy: %v", err)
		}
	}
	var committed []string
	err = u.Finish(func(r *Remote, _ UploadResult) error {
		committed = append(committed, r.Name())
		return nil
	})
	var te *TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("Finish = %v, want the stalled destination named with a timeout", err)
	}
	if strings.Join(committed, ",") != "good" {
		t.Fatalf("committed on %v, want good only", committed)
	}
	if faulty.Fired.Load() == 0 {
		t.Fatal("the stall never fired: the test proves nothing")
	}
	// No partial object is left where the upload failed.
	if got := holds(t, bad); len(got) != 0 {
		t.Errorf("the stalled destination holds %v", got)
	}
}

// hangAfterLastByte is a backend whose put reads the whole stream and then
// never returns, not even when its context ends: a hung mount, or a remote
// that swallowed the body and stopped answering.
type hangAfterLastByte struct {
	fs.Fs
	release chan struct{}
}

func (h *hangAfterLastByte) hang(in io.Reader) (fs.Object, error) {
	_, _ = io.Copy(io.Discard, in)
	<-h.release
	return nil, errors.New("released")
}

func (h *hangAfterLastByte) Put(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	return h.hang(in)
}

func (h *hangAfterLastByte) Features() *fs.Features {
	feat := *h.Fs.Features()
	feat.PutStream = func(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
		return h.hang(in)
	}
	return &feat
}

// A put that took every byte and then never ends is that destination's
// timeout, never a hang of the run: the healthy one commits.
func TestUploadPutHangingAfterTheLastByteIsGivenUp(t *testing.T) {
	ctx := context.Background()
	good, err := Open(ctx, Options{Name: "good", Remote: t.TempDir(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	bad, err := Open(ctx, Options{Name: "bad", Remote: t.TempDir(), Timeout: time.Second,
		WrapFs: func(f fs.Fs) fs.Fs { return &hangAfterLastByte{Fs: f, release: release} }})
	if err != nil {
		t.Fatal(err)
	}
	u := NewUpload(ctx, []*Remote{good, bad}, objectName, nil)
	if _, err := u.Write(make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	finished := make(chan error, 1)
	var committed []string
	go func() {
		finished <- u.Finish(func(r *Remote, _ UploadResult) error {
			committed = append(committed, r.Name())
			return nil
		})
	}()
	select {
	case err = <-finished:
	case <-time.After(time.Minute):
		t.Fatal("Finish still waits a minute after the last byte on a put that never ends")
	}
	var te *TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("Finish = %v, want the hanging destination named with a timeout", err)
	}
	if strings.Join(committed, ",") != "good" {
		t.Fatalf("committed on %v, want good only", committed)
	}
}
