package onboard

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// The shared fake has nothing labelled.
func (f *fakeDocker) ListLabelled(context.Context, string) ([]string, []string, error) {
	return nil, nil, nil
}

func (f *fakeDocker) RemoveLabelled(context.Context, string) ([]string, []string, error) {
	return nil, nil, nil
}

// labelledDocker holds containers by label, as killed runs left them.
type labelledDocker struct {
	*fakeDocker
	containers map[string][]string
}

func (l *labelledDocker) ListLabelled(_ context.Context, label string) ([]string, []string, error) {
	return l.containers[label], nil, nil
}

func (l *labelledDocker) RemoveLabelled(_ context.Context, label string) ([]string, []string, error) {
	removed := l.containers[label]
	delete(l.containers, label)
	return removed, nil, nil
}

// TestDoctorNamesWhatKilledRunsLeft: dr doctor removes the volume helpers
// killed runs of its state dir left, names a killed drill's container with
// the command that removes it, and fails on services a killed backup left
// stopped, saying how to start them. While a run holds the lock, all of
// it may be that run's: nothing is removed or judged.
func TestDoctorNamesWhatKilledRunsLeft(t *testing.T) {
	for _, tc := range []struct {
		name       string
		helper     bool
		drill      bool
		stopped    bool
		lockHeld   bool
		wantStatus string
		want       []string // in the detail and fix
		wantLeft   bool     // the helper is still there afterwards
	}{
		{name: "nothing left", wantStatus: StatusOK, want: []string{"none"}},
		{name: "a volume helper", helper: true, wantStatus: StatusWarn, want: []string{"removed 1 volume helper"}},
		{name: "a drill container", drill: true, wantStatus: StatusWarn, want: []string{"0123456789ab", "dr drill cleanup"}},
		{name: "services a backup stopped", stopped: true, helper: true, wantStatus: StatusFail,
			want: []string{"stopped appwrite", "docker compose -p appwrite start appwrite", "removed 1 volume helper"}},
		{name: "a run holds the lock", helper: true, drill: true, stopped: true, lockHeld: true, wantStatus: StatusOK,
			want: []string{"another dr run holds the lock"}, wantLeft: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			owner := lock.Owner(state)
			eng := &labelledDocker{fakeDocker: &fakeDocker{}, containers: map[string][]string{
				engine.HelperOwnerLabel(lock.Owner(t.TempDir())): {"another-state-dirs-helper"},
			}}
			if tc.helper {
				eng.containers[engine.HelperOwnerLabel(owner)] = []string{"helper0"}
			}
			if tc.drill {
				eng.containers[drill.LabelOwner+"="+owner] = []string{"0123456789abcdef"}
			}
			if tc.stopped {
				if err := journal.WriteStopped(state, &journal.Stopped{Project: "appwrite", Services: []string{"appwrite"}, PID: 7, StartedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.lockHeld {
				held, err := lock.Acquire(state, "backup")
				if err != nil {
					t.Fatal(err)
				}
				defer held.Release()
			}
			r := &Report{}
			checkLeftovers(context.Background(), r, eng, state)
			c := status(r, "killed runs")
			if c.Status != tc.wantStatus {
				t.Errorf("status %s, want %s: %+v", c.Status, tc.wantStatus, c)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Detail+"\n"+c.Fix, w) {
					t.Errorf("the check does not say %q: %+v", w, c)
				}
			}
			_, left := eng.containers[engine.HelperOwnerLabel(owner)]
			if left != (tc.wantLeft && tc.helper) {
				t.Errorf("our helper left: %v, want %v", left, tc.wantLeft && tc.helper)
			}
			if !slices.ContainsFunc(slices.Collect(maps.Values(eng.containers)), func(ids []string) bool { return slices.Contains(ids, "another-state-dirs-helper") }) {
				t.Error("the helper of another state dir was removed")
			}
		})
	}
}
