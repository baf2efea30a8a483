package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/storage/storagetest"
)

// A remote that accepts connections and never answers is that
// destination's failure, named as a timeout; the healthy one opens.
func TestOpenAllSilentRemoteFailsAlone(t *testing.T) {
	silent := storagetest.Silent(t)
	opts := []storage.Options{
		{Name: "local", Remote: t.TempDir(), Timeout: time.Second},
		{Name: "dav", Remote: fmt.Sprintf(":webdav,url='http://%s':backups", silent), Timeout: time.Second},
		{Name: "down", Remote: ":webdav,url='http://127.0.0.1:1':backups", Timeout: time.Second},
	}
	opened := storage.OpenAll(context.Background(), opts)
	if got := strings.Join(opened.Names(), ","); got != "local" {
		t.Fatalf("healthy = %q, want local", got)
	}
	if got := strings.Join(opened.FailedNames(), ","); got != "dav,down" {
		t.Fatalf("failed = %q, want dav,down", got)
	}
	var te *storage.TimeoutError
	if !errors.As(opened.Failed[0].Err, &te) {
		t.Errorf("the silent remote's failure is not a timeout: %v", opened.Failed[0].Err)
	}
	if _, err := opened.Require(); err != nil {
		t.Errorf("Require with one healthy destination: %v", err)
	}
	none := storage.OpenAll(context.Background(), opts[1:])
	if _, err := none.Require(); !errors.Is(err, storage.ErrNoDestination) || !strings.Contains(err.Error(), `"dav"`) {
		t.Errorf("Require with none healthy = %v, want ErrNoDestination naming dav", err)
	}
}

// An upload to a destination that stops taking data drops it after its
// timeout; the healthy one commits through Finish without waiting for it.
func TestUploadStalledDestinationIsDropped(t *testing.T) {
	ctx := context.Background()
	good, err := storage.Open(ctx, storage.Options{Name: "good", Remote: t.TempDir(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wrap, faulty := storagetest.Wrap(storagetest.Stall, 1<<10)
	bad, err := storage.Open(ctx, storage.Options{Name: "bad", Remote: t.TempDir(), Timeout: time.Second, WrapFs: wrap})
	if err != nil {
		t.Fatal(err)
	}
	name := archive.ObjectName("app", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false)
	u := storage.NewUpload(ctx, []*storage.Destination{good, bad}, name)
	block := make([]byte, 64<<10)
	for range 64 {
		if _, err := u.Write(block); err != nil {
			t.Fatalf("write failed although one destination is healthy: %v", err)
		}
	}
	var committed []string
	err = u.Finish(func(d *storage.Destination, r storage.UploadResult) error {
		committed = append(committed, d.Name())
		return nil
	})
	var te *storage.TimeoutError
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
	l, err := bad.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Leftovers) != 0 || len(l.Complete) != 0 {
		t.Errorf("the stalled destination holds %+v", l)
	}
}

func TestPickIsThisStacksOnly(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	entry := func(stack string, h int) storage.CatalogEntry {
		return storage.CatalogEntry{Name: archive.ObjectName(stack, at(h), false), Stack: stack, Time: at(h)}
	}
	// Newest first, as Catalog returns them: the other stack is newer.
	entries := []storage.CatalogEntry{entry("other", 5), entry("app", 4), entry("other", 3), entry("app", 2)}
	for _, tc := range []struct {
		name    string
		q       storage.Query
		want    string
		wantErr string
	}{
		{"latest of the configured stack", storage.Query{Stack: "app"}, entry("app", 4).Name, ""},
		{"before, of the configured stack", storage.Query{Stack: "app", Before: at(4)}, entry("app", 2).Name, ""},
		{"named, of the configured stack", storage.Query{Stack: "app", Name: entry("app", 2).Name}, entry("app", 2).Name, ""},
		{"named, of another stack", storage.Query{Stack: "app", Name: entry("other", 5).Name}, "", "not of the configured stack.project"},
		{"latest without a stack, several stacks", storage.Query{}, "", "several stacks (app, other)"},
		{"named without a stack", storage.Query{Name: entry("other", 3).Name}, entry("other", 3).Name, ""},
		{"none before the first", storage.Query{Stack: "app", Before: at(1)}, "", "no complete backup found taken before"},
		{"a stack with none", storage.Query{Stack: "nope"}, "", `of stack "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storage.Pick(entries, tc.q)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Pick = %v, %v; want error containing %q", got.Name, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want {
				t.Fatalf("Pick = %q, %v; want %q", got.Name, err, tc.want)
			}
		})
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
	good, err := storage.Open(ctx, storage.Options{Name: "good", Remote: t.TempDir(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	bad, err := storage.Open(ctx, storage.Options{Name: "bad", Remote: t.TempDir(), Timeout: time.Second,
		WrapFs: func(f fs.Fs) fs.Fs { return &hangAfterLastByte{Fs: f, release: release} }})
	if err != nil {
		t.Fatal(err)
	}
	name := archive.ObjectName("app", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false)
	u := storage.NewUpload(ctx, []*storage.Destination{good, bad}, name)
	if _, err := u.Write(make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	finished := make(chan error, 1)
	var committed []string
	go func() {
		finished <- u.Finish(func(d *storage.Destination, r storage.UploadResult) error {
			committed = append(committed, d.Name())
			return nil
		})
	}()
	select {
	case err = <-finished:
	case <-time.After(time.Minute):
		t.Fatal("Finish still waits a minute after the last byte on a put that never ends")
	}
	var te *storage.TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("Finish = %v, want the hanging destination named with a timeout", err)
	}
	if strings.Join(committed, ",") != "good" {
		t.Fatalf("committed on %v, want good only", committed)
	}
}
