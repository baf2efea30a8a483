package restore

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// RemoveLabelled: the shared fake has no leftovers.
func (f *fakeEngine) RemoveLabelled(context.Context, string) ([]string, []string, error) {
	return nil, nil, nil
}

// leftoversEngine is the fake with helper containers killed runs left,
// by label; it removes those of the label asked.
type leftoversEngine struct {
	*fakeEngine
	left map[string][]string
}

func (l *leftoversEngine) RemoveLabelled(_ context.Context, label string) ([]string, []string, error) {
	removed := l.left[label]
	delete(l.left, label)
	return removed, nil, nil
}

// TestRestoreRemovesHelpersAKilledRunLeft: a restore killed while it wrote
// a volume left the helper (the volume mounted read-write, so docker
// compose down -v fails). The next restore, holding the lock, removes the
// helpers labelled with its state dir's owner, and only those: another
// state dir's run may be using its own.
func TestRestoreRemovesHelpersAKilledRunLeft(t *testing.T) {
	state := t.TempDir()
	ours := engine.HelperOwnerLabel(lock.Owner(state))
	theirs := engine.HelperOwnerLabel(lock.Owner(t.TempDir()))
	eng := &leftoversEngine{fakeEngine: &fakeEngine{stack: fakeStack(), stateDir: state}, left: map[string][]string{
		ours:   {"helper-of-the-killed-restore"},
		theirs: {"helper-in-use-by-another-dr"},
	}}
	var steps []string
	_, err := Execute(context.Background(), eng, filesBackup(t, state), Request{Verified: true, Step: func(s string) { steps = append(steps, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Collect(maps.Keys(eng.left)); !slices.Equal(got, []string{theirs}) {
		t.Errorf("helpers left after the restore: %v; want only the other state dir's", eng.left)
	}
	if !strings.Contains(strings.Join(steps, "\n"), "removed 1 volume helper container(s) a killed run left") {
		t.Errorf("the operator was not told: %q", steps)
	}
}

// TestRestoreStartsWhatAKilledBackupLeftStopped: a backup killed while it
// had stop_during_backup stopped left their record in state_dir. The next
// restore takes them over as it takes over an interrupted restore's: its
// journal names them before anything is stopped (a kill -9 of the restore
// loses none), it starts them when it ends, on failure too, and the
// record is gone. A record of another project is left, with a warning.
func TestRestoreStartsWhatAKilledBackupLeftStopped(t *testing.T) {
	for _, tc := range []struct {
		name    string
		project string
		fail    bool
		// want: started; record: the backup's record is still there
		want   []string
		record bool
	}{
		{name: "the restore succeeds", project: "app", want: []string{"worker"}},
		{name: "the restore fails", project: "app", fail: true, want: []string{"appwrite", "worker"}},
		{name: "another project's record", project: "other", record: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			if err := journal.WriteStopped(state, &journal.Stopped{Project: tc.project, DBService: "mariadb", Services: []string{"worker"}, PID: 4242, StartedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			eng := &fakeEngine{stack: fakeStack(), stateDir: state}
			plan := filesBackup(t, state)
			if tc.fail {
				plan.stack = eng.stack
				plan.Stop = []string{"appwrite"}
				plan.Backup.Name = "missing"
			}
			res, err := Execute(context.Background(), eng, plan, Request{Verified: true})
			if (err != nil) != tc.fail {
				t.Fatalf("restore: %v", err)
			}
			if !slices.Equal(eng.started, tc.want) {
				t.Errorf("started %v, want %v", eng.started, tc.want)
			}
			if tc.fail && (eng.journalAtStop == nil || !slices.Contains(eng.journalAtStop.Stopped, "worker")) {
				t.Errorf("journal when the restore stopped appwrite: %+v; want it to name worker too, or a kill -9 now loses it", eng.journalAtStop)
			}
			if rec, err := journal.ReadStopped(state); err != nil || (rec != nil) != tc.record {
				t.Errorf("the backup's record after the restore: %+v, %v; want one: %v", rec, err, tc.record)
			}
			if tc.record && !strings.Contains(strings.Join(res.Warnings, "\n"), "docker compose -p other start worker") {
				t.Errorf("warnings %q; want one saying how to start the other project's services", res.Warnings)
			}
		})
	}
}
