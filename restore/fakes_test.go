package restore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// Restore's choice of copy on the in-memory store with read faults: a
// backup committed whole on three destinations, then read back through
// faults (an archive cut short, a sidecar cut short). Choose and verify go
// to the first copy that reads and verifies, and refuse, naming each
// copy, only when none does.
func TestFallbackOnFaultyCopiesWithFakes(t *testing.T) {
	archiveOnly := func(n string) bool { return !strings.HasSuffix(n, archive.SidecarSuffix) }
	sidecarOnly := func(n string) bool { return strings.HasSuffix(n, archive.SidecarSuffix) }
	short := func(match func(string) bool) func(fs.Fs) fs.Fs {
		w, _ := remotetest.TruncateReads(100, match)
		return w
	}
	for _, tc := range []struct {
		name       string
		wraps      [3]func(fs.Fs) fs.Fs // per destination: first, second, third
		wantSource string               // "" = no copy verifies
		wantFaults []string
	}{
		{"every copy whole", [3]func(fs.Fs) fs.Fs{}, "first", nil},
		{"first archive truncated", [3]func(fs.Fs) fs.Fs{short(archiveOnly)}, "second", []string{"first"}},
		{"first sidecar truncated, second archive truncated", [3]func(fs.Fs) fs.Fs{short(sidecarOnly), short(archiveOnly)}, "third", []string{"first", "second"}},
		{"every archive truncated", [3]func(fs.Fs) fs.Fs{short(archiveOnly), short(archiveOnly), short(archiveOnly)}, "", []string{"first", "second", "third"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			remotes := []string{remotetest.Memory(t), remotetest.Memory(t), remotetest.Memory(t)}
			names := []string{"first", "second", "third"}
			var clean, faulty []*storage.Destination
			for i, r := range remotes {
				for _, set := range []struct {
					to   *[]*storage.Destination
					wrap func(fs.Fs) fs.Fs
				}{{&clean, nil}, {&faulty, tc.wraps[i]}} {
					d, err := storage.Open(ctx, remote.Options{Name: names[i], Remote: r, Timeout: time.Second, WrapFs: set.wrap})
					if err != nil {
						t.Fatal(err)
					}
					*set.to = append(*set.to, d)
				}
			}
			_, entry, _ := smallBackupOn(t, clean)
			cfg := config.Default()
			cfg.Stack.Project = "app"
			chosen, err := Choose(ctx, cfg, faulty, entry.Name, time.Time{})
			if err == nil {
				err = VerifyChosen(ctx, chosen, nil)
			}
			var faulted []string
			var none *NoCopyError
			if errors.As(err, &none) {
				for _, f := range none.Faults {
					faulted = append(faulted, f.Destination)
				}
			} else if chosen != nil {
				for _, f := range chosen.Faults {
					faulted = append(faulted, f.Destination)
				}
			}
			if strings.Join(faulted, ",") != strings.Join(tc.wantFaults, ",") {
				t.Errorf("faults on %v, want %v (%v)", faulted, tc.wantFaults, err)
			}
			if tc.wantSource == "" {
				if none == nil {
					t.Fatalf("err = %v, want a *NoCopyError", err)
				}
				for _, d := range tc.wantFaults {
					if !strings.Contains(err.Error(), d+": ") {
						t.Errorf("the refusal does not name the copy on %s: %v", d, err)
					}
				}
				return
			}
			if err != nil || chosen.Source.Name() != tc.wantSource {
				t.Fatalf("err = %v; want the copy on %s", err, tc.wantSource)
			}
		})
	}
}
