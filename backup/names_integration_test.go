package backup

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

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/operations"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// TestBackupsInOneSecondKeepEveryCommittedOne runs three backups whose
// clock says the same second, as quick runs of a small stack do: each
// must get its own name, commit, list and verify, and leave nothing
// half-done on any destination.
func TestBackupsInOneSecondKeepEveryCommittedOne(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local, "offsite": remotetest.StartSFTP(t, t.TempDir())})
	for i := range cfg.Destinations {
		cfg.Destinations[i].Retention.KeepLast = 10 // the policy is not what is tested
	}
	dests := openAll(t, cfg)
	at := nextTime()
	var names []string
	for i := range 3 {
		res, err := backupAt(t, eng, cfg, dests, at)
		if err != nil {
			t.Fatalf("backup %d: %v", i+1, err)
		}
		if !slices.Equal(res.Committed(), []string{"local", "offsite"}) {
			t.Fatalf("backup %d committed on %v, want both", i+1, res.Committed())
		}
		names = append(names, res.Name)
	}
	// The documented format, one second apart from the pinned start.
	for i, name := range names {
		if want := archive.ObjectName(s.Project, at.Add(time.Duration(i)*time.Second), false); name != want {
			t.Errorf("backup %d is named %s, want %s", i+1, name, want)
		}
	}
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range entries {
		listed = append(listed, e.Name)
		if len(e.Destinations) != 2 {
			t.Errorf("%s is listed on %v, want both destinations", e.Name, e.Destinations)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, names) {
		t.Fatalf("listed %v, want all three: %v", listed, names)
	}
	for _, d := range dests {
		l, err := d.ListAll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Leftovers) > 0 {
			t.Errorf("%s holds leftovers: %+v", d.Name(), l.Leftovers)
		}
	}
	for _, e := range entries {
		if _, err := restore.Verify(context.Background(), dests, e, nil); err != nil {
			t.Errorf("%s does not verify: %v", e.Name, err)
		}
	}
}

// TestLocalDestinationIsPrivate backs up, unencrypted, to a local
// directory that does not exist yet and pins the backup: the directory
// dr creates is 0700 and every object in it 0600, whatever the umask.
func TestLocalDestinationIsPrivate(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	local := filepath.Join(t.TempDir(), "backups", "appwrite")
	cfg := testConfig(t, s, map[string]string{"local": local})
	dests := openAll(t, cfg)
	res, err := backupAt(t, eng, cfg, dests, nextTime())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Warnings, config.Unencrypted) {
		t.Errorf("no warning that the backup is unencrypted on a local destination: %q", res.Warnings)
	}
	if err := dests[0].Pin(context.Background(), res.Name, time.Now()); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		local:                          0o700 | os.ModeDir,
		filepath.Join(local, res.Name): 0o600,
		filepath.Join(local, archive.SidecarName(res.Name)): 0o600,
		filepath.Join(local, archive.PinName(res.Name)):     0o600,
	}
	for _, dir := range []string{filepath.Dir(local)} {
		want[dir] = 0o700 | os.ModeDir // created by dr too
	}
	for path, mode := range want {
		st, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), mode)
		}
	}
	entries, _ := os.ReadDir(local)
	if len(entries) != 3 {
		t.Errorf("the destination holds %d objects, want archive, sidecar and pin", len(entries))
	}
}

// TestFullDestinationSaysSo backs up to a local destination on a full
// disk next to a healthy one: the failure names the full destination and
// what to do, instead of a closed pipe, and nothing is left on it.
func TestFullDestinationSaysSo(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	full := remotetest.FullDisk(t, 64<<10)
	opts := remote.Options{Name: "small", Remote: full}
	if full == "" {
		wrap, _ := remotetest.Wrap(remotetest.NoSpace, 64<<10)
		opts = remote.Options{Name: "small", Remote: t.TempDir(), WrapFs: wrap}
	}
	small, err := storage.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, only := range []bool{true, false} {
		name := map[bool]string{true: "only destination", false: "beside a healthy one"}[only]
		t.Run(name, func(t *testing.T) {
			remotes := map[string]string{"small": opts.Remote}
			if !only {
				remotes["big"] = t.TempDir()
			}
			cfg := testConfig(t, s, remotes)
			dests := openAll(t, cfg)
			for i, d := range dests {
				if d.Name() == "small" {
					dests[i] = small
				}
			}
			_, err := backupAt(t, eng, cfg, dests, nextTime())
			if err == nil {
				t.Fatal("the backup succeeded on a full disk")
			}
			msg := err.Error()
			if !errors.Is(err, remote.ErrNoSpace) || !strings.Contains(msg, `no space left on "small"`) || !strings.Contains(msg, "free space") {
				t.Errorf("got %q, want it to say no space left on \"small\" and what to do", msg)
			}
			for _, bad := range []string{"closed pipe", "stopped reading"} {
				if strings.Contains(msg, bad) {
					t.Errorf("the error still says %q: %s", bad, msg)
				}
			}
			l, err := small.ListAll(context.Background())
			if err != nil || len(l.Complete)+len(l.Leftovers) != 0 {
				t.Errorf("the full destination holds %+v (%v)", l, err)
			}
		})
	}
}

// racingFs is a real local remote on which another run commits an
// archive's name while this run is uploading it: the other run's sidecar
// appears right after the archive's put, before this run commits.
type racingFs struct {
	fs.Fs
	sidecar []byte
}

func (r *racingFs) Features() *fs.Features {
	feat := *r.Fs.Features()
	if inner := feat.PutStream; inner != nil {
		feat.PutStream = func(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
			o, err := inner(ctx, in, src, options...)
			return o, r.race(ctx, src.Remote(), err)
		}
	}
	return &feat
}

func (r *racingFs) Put(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	o, err := r.Fs.Put(ctx, in, src, options...)
	return o, r.race(ctx, src.Remote(), err)
}

func (r *racingFs) race(ctx context.Context, name string, err error) error {
	if _, perr := archive.ParseObjectName(name); err != nil || perr != nil {
		return err
	}
	_, err = operations.Rcat(ctx, r.Fs, archive.SidecarName(name), io.NopCloser(bytes.NewReader(r.sidecar)), time.Now(), nil)
	return err
}

// TestNameTakenAtCommitLeavesTheOtherRunsObjects: when another run (on
// another host) commits the same name between this run's upload and its
// commit, this run fails there and deletes nothing: the sidecar is the
// other run's, and so may the archive under it be.
func TestNameTakenAtCommitLeavesTheOtherRunsObjects(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	racing := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"healthy": t.TempDir(), "racing": racing})
	dests := openAll(t, cfg)
	other := []byte(`{"written by": "another run"}`)
	r, err := storage.Open(context.Background(), remote.Options{Name: "racing", Remote: racing,
		WrapFs: func(f fs.Fs) fs.Fs { return &racingFs{Fs: f, sidecar: other} }})
	if err != nil {
		t.Fatal(err)
	}
	dests[1] = r
	res, err := backupAt(t, eng, cfg, dests, nextTime())
	var partial *PartialError
	if !errors.As(err, &partial) || len(partial.Failed) != 1 || partial.Failed[0].Name != "racing" || !errors.Is(err, remote.ErrNameTaken) {
		t.Fatalf("got %v, want a partial failure on racing only, the name taken", err)
	}
	if !slices.Equal(res.Committed(), []string{"healthy"}) {
		t.Errorf("committed on %v", res.Committed())
	}
	if _, err := os.Stat(filepath.Join(racing, res.Name)); err != nil {
		t.Errorf("the archive under the other run's sidecar was deleted: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(racing, archive.SidecarName(res.Name))); err != nil || !bytes.Equal(got, other) {
		t.Errorf("the other run's sidecar is now %q (%v)", got, err)
	}
}

// TestBackToBackBackupsWithKeepLastOne runs twelve backups of the real
// stack back to back, their clock 300 ms apart (what a small stack takes),
// with keep_last: 1: every run's backup is named after the one before,
// survives its own prune, is the only one left, and is what --latest
// picks. Before names followed the newest one, half of them were deleted
// by their own run's prune and --latest picked an older backup.
func TestBackToBackBackupsWithKeepLastOne(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	cfg := testConfig(t, s, map[string]string{"local": t.TempDir()})
	cfg.Destinations[0].Retention = config.Retention{KeepLast: 1, IncompleteGrace: config.Duration(24 * time.Hour), Mode: config.ModePrune}
	dests := openAll(t, cfg)
	first := nextTime()
	var previous *Result
	for i := range 12 {
		res, err := backupAt(t, eng, cfg, dests, first.Add(time.Duration(i)*300*time.Millisecond))
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if previous != nil && (res.Name <= previous.Name || !res.Manifest.StartedAt.After(previous.Manifest.StartedAt)) {
			t.Errorf("run %d is %s started %s, not after run %d's %s started %s",
				i+1, res.Name, res.Manifest.StartedAt, i, previous.Name, previous.Manifest.StartedAt)
		}
		entries, err := storage.Catalog(context.Background(), dests)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, e := range entries {
			listed = append(listed, e.Name)
		}
		if !slices.Equal(listed, []string{res.Name}) {
			t.Errorf("after run %d the destination lists %v, want its own backup %s alone", i+1, listed, res.Name)
		}
		if latest, err := storage.Choose(entries, storage.Query{Stack: s.Project}); err != nil || latest.Name != res.Name {
			t.Errorf("after run %d --latest picks %s (%v), want %s", i+1, latest.Name, err, res.Name)
		}
		previous = res
	}
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil || len(entries) != 1 {
		t.Fatalf("catalog %v, %v", entries, err)
	}
	if _, err := restore.Verify(context.Background(), dests, entries[0], nil); err != nil {
		t.Errorf("the last backup does not verify: %v", err)
	}
}
