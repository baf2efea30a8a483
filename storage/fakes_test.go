package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// Each fault of the fakes, on the in-memory store beside a healthy one:
// the healthy destination commits, the faulty one is that destination's
// failure, named, and holds no partial object. Milliseconds, no disk.
func TestFaultsAreEachDestinationsOwnWithFakes(t *testing.T) {
	type faulted struct {
		wrap  func(fs.Fs) fs.Fs
		fired func() int32
	}
	for _, tc := range []struct {
		name  string
		fault func() faulted
		want  func(error) bool // what the faulty destination's error is (nil: any)
	}{
		{"fail the first write (the upload)", func() faulted {
			w, f := remotetest.FailNth(1)
			return faulted{w, f.Fired.Load}
		}, isErr(remotetest.ErrNthWrite)},
		{"fail the second write (the commit)", func() faulted {
			w, f := remotetest.FailNth(2)
			return faulted{w, f.Fired.Load}
		}, isErr(remotetest.ErrNthWrite)},
		{"fail after some bytes", func() faulted {
			w, f := remotetest.Wrap(remotetest.FailAfter, 32<<10)
			return faulted{w, f.Fired.Load}
		}, isErr(remotetest.ErrInjected)},
		{"truncate silently", func() faulted {
			w, f := remotetest.Wrap(remotetest.Truncate, 32<<10)
			return faulted{w, f.Fired.Load}
		}, nil},
		{"stall", func() faulted {
			w, f := remotetest.Wrap(remotetest.Stall, 32<<10)
			return faulted{w, f.Fired.Load}
		}, func(err error) bool { var te *remote.TimeoutError; return errors.As(err, &te) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fault := tc.fault()
			opened := OpenAll(ctx, []remote.Options{
				{Name: "good", Remote: remotetest.Memory(t), Timeout: 200 * time.Millisecond},
				{Name: "bad", Remote: remotetest.Memory(t), Timeout: 200 * time.Millisecond, WrapFs: fault.wrap},
			})
			dests, err := opened.Require()
			if err != nil || len(dests) != 2 {
				t.Fatalf("opening two memory destinations: %v", err)
			}
			name := archive.ObjectName("app", when, false)
			u := NewUpload(ctx, dests, name)
			data := payload(256 << 10)
			for off := 0; off < len(data); off += 16 << 10 {
				if _, err := u.Write(data[off : off+16<<10]); err != nil {
					t.Fatalf("write failed although one destination is healthy: %v", err)
				}
			}
			err = u.Finish(func(d *Destination, r remote.UploadResult) error {
				err := d.Commit(ctx, sidecarFor(name, r.Size, r.SHA256))
				if err != nil {
					// As backup.Run does: an archive no one committed goes.
					_ = d.DeleteObject(context.WithoutCancel(ctx), name)
				}
				return err
			})
			if fault.fired() == 0 {
				t.Fatal("the fault never fired: the test proves nothing")
			}
			if err == nil || !strings.Contains(err.Error(), `"bad"`) || strings.Contains(err.Error(), `"good"`) {
				t.Fatalf("Finish = %v, want the faulty destination named, alone", err)
			}
			if tc.want != nil && !tc.want(err) {
				t.Errorf("Finish = %v: not the injected fault", err)
			}
			res := u.Results()
			if res[0].Err != nil || res[0].SHA256 != sha(data) {
				t.Errorf("good: %+v", res[0])
			}
			if res[1].Err == nil {
				t.Errorf("bad passed: %+v", res[1])
			}
			if l, err := dests[0].List(ctx); err != nil || len(l) != 1 {
				t.Errorf("good lists %v, %v; want the backup", l, err)
			}
			if l, err := dests[1].ListAll(ctx); err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
				t.Errorf("bad holds %+v (%v); want nothing, no partial object", l, err)
			}
		})
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// A destination whose server refuses connections fails to open on its
// own; the in-memory one beside it opens.
func TestRefusedOpenIsThatDestinationsFailureWithFakes(t *testing.T) {
	opened := OpenAll(context.Background(), []remote.Options{
		{Name: "mem", Remote: remotetest.Memory(t)},
		{Name: "down", Remote: remotetest.Refused(t), Timeout: time.Second},
	})
	if got := strings.Join(opened.Names(), ","); got != "mem" {
		t.Errorf("healthy = %q, want mem", got)
	}
	if got := strings.Join(opened.FailedNames(), ","); got != "down" || !strings.Contains(opened.Err().Error(), "connection refused") {
		t.Errorf("failed = %q (%v), want down, refused", got, opened.Err())
	}
}

// The selection rule on the in-memory store: two stacks share a
// destination, a second destination holds an older copy; ChooseFrom chooses
// this stack's newest, wherever it is, and never the other stack's.
func TestChooseFromWithFakes(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, "a", remotetest.Memory(t), nil), open(t, "b", remotetest.Memory(t), nil)
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	put := func(d *Destination, stack string, h int) string {
		name := archive.ObjectName(stack, at(h), false)
		u := NewUpload(ctx, []*Destination{d}, name)
		if _, err := u.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := u.Finish(func(d *Destination, r remote.UploadResult) error {
			return d.Commit(ctx, &archive.Manifest{Format: archive.FormatVersion, Stack: stack, Name: name, Status: archive.StatusComplete,
				FinishedAt: at(h), Object: &archive.ObjectInfo{Size: r.Size, SHA256: r.SHA256}})
		}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	old := put(b, "app", 1)
	newest := put(a, "app", 3)
	put(a, "other", 5)
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"latest", Query{Stack: "app"}, newest},
		{"before", Query{Stack: "app", Before: at(3)}, old},
		{"by name, on the second destination", Query{Stack: "app", Name: old}, old},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, unreachable, err := ChooseFrom(ctx, []*Destination{a, b}, tc.q)
			if err != nil || unreachable != nil {
				t.Fatalf("ChooseFrom = %v, %v", unreachable, err)
			}
			if got.Name != tc.want {
				t.Errorf("ChooseFrom chose %s, want %s", got.Name, tc.want)
			}
		})
	}
}
