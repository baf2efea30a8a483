package usecase

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

type labelled map[string][]string

func (l labelled) ListLabelled(_ context.Context, label string) ([]string, []string, error) {
	return l[label], nil, nil
}

// TestLeftBehindNamesWhatKilledRunsLeft: dr status names a killed drill's
// container with the command that removes it, a killed run's volume
// helper, and the services a killed backup left stopped, with the command
// that starts them; nothing of another state dir, and nothing at all
// while a run holds the lock (it may all be that run's, in use).
func TestLeftBehindNamesWhatKilledRunsLeft(t *testing.T) {
	for _, tc := range []struct {
		name     string
		drill    bool
		helper   bool
		stopped  bool
		lockHeld bool
		noEngine bool
		want     []string // one problem each, in this order
	}{
		{name: "nothing"},
		{name: "a killed drill", drill: true, want: []string{"dr drill cleanup"}},
		{name: "a helper", helper: true, want: []string{"volume helper"}},
		{name: "all three", drill: true, helper: true, stopped: true,
			want: []string{"docker compose -p app start web", "0123456789ab", "volume helper"}},
		{name: "no engine: the services only", drill: true, stopped: true, noEngine: true, want: []string{"stopped web"}},
		{name: "a run holds the lock", drill: true, helper: true, stopped: true, lockHeld: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			owner := lock.Owner(state)
			eng := labelled{
				drill.LabelOwner + "=" + lock.Owner(t.TempDir()): {"another-state-dirs-drill"},
			}
			if tc.drill {
				eng[drill.LabelOwner+"="+owner] = []string{"0123456789abcdef"}
			}
			if tc.helper {
				eng[engine.HelperOwnerLabel(owner)] = []string{"helper0"}
			}
			if tc.stopped {
				if err := journal.WriteStopped(state, &journal.Stopped{Project: "app", Services: []string{"web"}, StartedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.lockHeld {
				held, err := lock.Acquire(state, "drill")
				if err != nil {
					t.Fatal(err)
				}
				defer held.Release()
			}
			var lister LabelLister = eng
			if tc.noEngine {
				lister = nil
			}
			got := LeftBehind(context.Background(), lister, state)
			if len(got) != len(tc.want) {
				t.Fatalf("left behind: %q; want %d problem(s) saying %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d: %q; want it to say %q", i, got[i], w)
				}
			}
			st := health.Evaluate(health.StatusInput{Config: config.Default(), History: &health.History{}, LeftBehind: got, Now: time.Now()})
			if len(got) > 0 && st.Healthy {
				t.Error("status is healthy with leftovers of killed runs")
			}
		})
	}
}
