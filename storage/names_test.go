package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
)

// put writes one object through an upload, failing the test if it fails.
func put(t *testing.T, d *Destination, name string, body []byte) {
	t.Helper()
	u := NewUpload(context.Background(), []*Destination{d}, name)
	if _, err := u.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, d *Destination, name string) []byte {
	t.Helper()
	rc, err := d.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFreeNameFollowsTheNewest: a run's name is its start's second, or
// the second after the newest object of any backup of its stack on any
// destination, so that names rise in the order runs start.
func TestFreeNameFollowsTheNewest(t *testing.T) {
	plain := archive.ObjectName("appwrite", when, false)
	enc := archive.ObjectName("appwrite", when, true)
	next := func(s int, encrypted bool) string {
		return archive.ObjectName("appwrite", when.Add(time.Duration(s)*time.Second), encrypted)
	}
	tests := []struct {
		name      string
		existing  []string // objects on the first destination
		other     []string // objects on the second
		encrypted bool
		want      string
	}{
		{"empty", nil, nil, false, plain},
		{"other stack and earlier seconds", []string{archive.ObjectName("other", when.Add(time.Minute), false), next(-1, false), "notes.txt"}, nil, false, plain},
		{"a stack whose name starts with this one's", []string{archive.ObjectName("appwrite-staging", when.Add(10*time.Second), false)}, nil, false, plain},
		{"committed backup", []string{plain, archive.SidecarName(plain)}, nil, false, next(1, false)},
		{"leftover archive", []string{plain}, nil, true, next(1, true)},
		{"sidecar without archive", []string{archive.SidecarName(enc)}, nil, false, next(1, false)},
		{"pin only", []string{archive.PinName(plain)}, nil, false, next(1, false)},
		{"drill report only", []string{DrillReportName(next(2, false), when)}, nil, false, next(3, false)},
		{"taken on the second destination only", nil, []string{enc}, true, next(1, true)},
		{"three seconds taken", []string{plain, next(1, true)}, []string{archive.SidecarName(next(2, false))}, false, next(3, false)},
		// Quick runs pushed names ahead of the clock, and a prune freed
		// the earlier seconds: the next run still comes after the newest.
		{"a newer backup, earlier seconds free", []string{next(2, false), archive.SidecarName(next(2, false))}, nil, false, next(3, false)},
		{"the newest on the second destination", []string{next(1, false)}, []string{next(4, true)}, false, next(5, false)},
		{"as far ahead as allowed", []string{next(maxNameShift-1, false)}, nil, false, next(maxNameShift, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := open(t, "a", t.TempDir(), nil)
			b := open(t, "b", t.TempDir(), nil)
			for _, n := range tt.existing {
				put(t, a, n, []byte("x"))
			}
			for _, n := range tt.other {
				put(t, b, n, []byte("x"))
			}
			got, err := FreeName(context.Background(), []*Destination{a, b}, "appwrite", when.Add(400*time.Millisecond), tt.encrypted)
			if err != nil || got != tt.want {
				t.Errorf("FreeName = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestFreeNameGivesUp: a name more than maxNameShift seconds past the
// run's start is refused, with the object that pushed it and the likely
// cause, instead of naming backups ever further into the future.
func TestFreeNameGivesUp(t *testing.T) {
	for _, tt := range []struct {
		name    string
		objects []string
	}{
		{"every second of a minute taken", func() []string {
			var names []string
			for s := range maxNameShift + 1 {
				names = append(names, archive.ObjectName("appwrite", when.Add(time.Duration(s)*time.Second), false))
			}
			return names
		}()},
		{"one backup an hour ahead", []string{archive.SidecarName(archive.ObjectName("appwrite", when.Add(time.Hour), true))}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t, "a", t.TempDir(), nil)
			for _, n := range tt.objects {
				put(t, d, n, []byte("x"))
			}
			got, err := FreeName(context.Background(), []*Destination{d}, "appwrite", when, false)
			if err == nil {
				t.Fatalf("FreeName = %s, want an error", got)
			}
			newest := tt.objects[len(tt.objects)-1]
			for _, want := range []string{newest, `"a"`, "clock"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not name %q: %v", want, err)
				}
			}
		})
	}
}

// TestUploadNeverWritesOverAnotherBackup uploads under a name that some
// object of the same backup already holds: the upload fails on that
// destination with remote.ErrNameTaken, and what was there is untouched, whether
// the run closes or aborts.
func TestUploadNeverWritesOverAnotherBackup(t *testing.T) {
	name := archive.ObjectName("appwrite", when, false)
	encName := archive.ObjectName("appwrite", when, true)
	for _, taken := range []struct {
		what    string
		objects []string
	}{
		{"committed backup", []string{name, archive.SidecarName(name)}},
		{"archive being uploaded", []string{name}},
		{"sidecar only", []string{archive.SidecarName(name)}},
		{"pin only", []string{archive.PinName(name)}},
		{"encrypted backup of the same second", []string{encName, archive.SidecarName(encName)}},
	} {
		for _, abort := range []bool{false, true} {
			t.Run(taken.what+map[bool]string{false: "/close", true: "/abort"}[abort], func(t *testing.T) {
				conformance(t, func(t *testing.T, where string) {
					ctx := context.Background()
					d := open(t, "dest", where, nil)
					before := map[string][]byte{}
					for i, n := range taken.objects {
						body := payload(200 + i)
						put(t, d, n, body)
						before[n] = body
					}
					u := NewUpload(ctx, []*Destination{d}, name)
					_, _ = u.Write(payload(300 << 10))
					if abort {
						u.Abort(ctx)
					} else if err := u.Close(); !errors.Is(err, remote.ErrNameTaken) {
						t.Errorf("Close = %v, want remote.ErrNameTaken", err)
					}
					if r := u.Results()[0]; !errors.Is(r.Err, remote.ErrNameTaken) && !abort {
						t.Errorf("result %+v, want remote.ErrNameTaken", r)
					}
					for n, body := range before {
						if got := readAll(t, d, n); !bytes.Equal(got, body) {
							t.Errorf("%s changed: %d bytes, was %d", n, len(got), len(body))
						}
					}
				})
			})
		}
	}
}

// TestCommitNeverWritesOverASidecar: a sidecar already there is another
// run's commit, told apart by remote.ErrNameTaken and left as it was.
func TestCommitNeverWritesOverASidecar(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		d := open(t, "dest", where, nil)
		name := archive.ObjectName("appwrite", when, false)
		data := payload(5000)
		upload(t, []*Destination{d}, name, data)
		first := readAll(t, d, archive.SidecarName(name))
		err := d.Commit(ctx, sidecarFor(name, 1, "0"))
		if !errors.Is(err, remote.ErrNameTaken) {
			t.Errorf("second commit: %v, want remote.ErrNameTaken", err)
		}
		if got := readAll(t, d, archive.SidecarName(name)); !bytes.Equal(got, first) {
			t.Error("the sidecar was replaced")
		}
	})
}

// TestLocalObjectsArePrivate checks the modes of everything dr writes on
// a local destination it creates: the directory, the archive while it is
// still partial and once complete, the sidecar and the pin.
func TestLocalObjectsArePrivate(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "new", "dest")
	d := open(t, "dest", root, nil)
	name := archive.ObjectName("appwrite", when, false)
	u := NewUpload(ctx, []*Destination{d}, name)
	if _, err := u.Write(payload(1 << 20)); err != nil {
		t.Fatal(err)
	}
	// Once the destination has taken bytes, the partial file exists.
	for u.Written()["dest"] == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	mode := func(path string) os.FileMode {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode()
	}
	if m := mode(filepath.Join(root, name)); m != 0o600 {
		t.Errorf("partial archive: mode %v, want 0600", m)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	r := u.Results()[0]
	if err := d.Commit(ctx, sidecarFor(name, r.Size, r.SHA256)); err != nil {
		t.Fatal(err)
	}
	if err := d.Pin(ctx, name, when); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Dir(root):        os.ModeDir | 0o700,
		root:                      os.ModeDir | 0o700,
		filepath.Join(root, name): 0o600,
		filepath.Join(root, archive.SidecarName(name)): 0o600,
		filepath.Join(root, archive.PinName(name)):     0o600,
	} {
		if m := mode(path); m != want {
			t.Errorf("%s: mode %v, want %v", path, m, want)
		}
	}
	// A directory the operator made keeps its mode; the files stay 0600.
	own := t.TempDir()
	if err := os.Chmod(own, 0o750); err != nil {
		t.Fatal(err)
	}
	d2 := open(t, "own", own, nil)
	upload(t, []*Destination{d2}, name, payload(10))
	if m := mode(own); m != os.ModeDir|0o750 {
		t.Errorf("the operator's directory changed to %v", m)
	}
	entries, _ := os.ReadDir(own)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if m := mode(filepath.Join(own, e.Name())); m != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), m)
		}
	}
	if !slices.Equal(names, []string{name, archive.SidecarName(name)}) {
		t.Errorf("the destination holds %v", names)
	}
}

func TestRelatedNames(t *testing.T) {
	plain := archive.ObjectName("appwrite", when, false)
	enc := archive.ObjectName("appwrite", when, true)
	tests := []struct {
		name string
		want []string
	}{
		{plain, []string{plain, archive.SidecarName(plain), archive.PinName(plain), enc, archive.SidecarName(enc)}},
		{enc, []string{enc, archive.SidecarName(enc), archive.PinName(enc), plain, archive.SidecarName(plain)}},
		{archive.SidecarName(plain), []string{archive.SidecarName(plain)}},
		{"notes.txt", []string{"notes.txt"}},
	}
	for _, tt := range tests {
		if got := related(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("related(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
