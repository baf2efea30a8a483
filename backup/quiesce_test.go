package backup

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// quiescingEngine is fakeEngine with two more services, whose stops and
// starts it records. Its stop can behave as the real engine did under a
// cancelled request: the containers end up stopped, but the call says
// only that the context ended.
type quiescingEngine struct {
	fakeEngine
	running map[string]bool
	// stopErr, when set, is what StopServices returns after it stopped
	// every service asked (the engine finished the stop anyway).
	stopErr  error
	startErr error
	started  []string
	// startCtxErr is the context's error StartServices was called with.
	startCtxErr error
	// onStop runs when the stop is asked (the interrupt lands there).
	onStop func()
}

func (q *quiescingEngine) FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error) {
	s, err := q.fakeEngine.FindStack(ctx, project, dbService)
	if err != nil {
		return nil, err
	}
	for _, svc := range []string{"web", "queue"} {
		s.Containers = append(s.Containers, engine.Container{ID: svc + "0", Name: project + "-" + svc + "-1", Service: svc, Running: q.running[svc]})
	}
	return s, nil
}

func (q *quiescingEngine) StopServices(_ context.Context, _ *engine.Stack, services []string, _ time.Duration) ([]string, error) {
	if q.onStop != nil {
		q.onStop()
	}
	var stopped []string
	for _, svc := range services {
		if q.running[svc] {
			q.running[svc] = false
			stopped = append(stopped, svc)
		}
	}
	if q.stopErr != nil {
		return nil, q.stopErr
	}
	return stopped, nil
}

func (q *quiescingEngine) StartServices(ctx context.Context, _ *engine.Stack, services []string) error {
	q.startCtxErr = ctx.Err()
	if q.startErr != nil {
		return q.startErr
	}
	for _, svc := range services {
		q.running[svc] = true
		q.started = append(q.started, svc)
	}
	return nil
}

// TestQuiesceStartsWhatTheStopReached: whatever the stop returns, every
// service it may have stopped runs again after the undo, on a context
// the interrupt did not end, and the record in state_dir is gone once
// they run; when they cannot be started, the record stays for the next
// run.
func TestQuiesceStartsWhatTheStopReached(t *testing.T) {
	for _, tc := range []struct {
		name      string
		running   map[string]bool
		quiesce   []string
		stopErr   error
		interrupt bool
		startErr  error
		// want: the services started again; record: the record is left
		want    []string
		record  bool
		wantErr string
	}{
		{name: "stopped and started", running: map[string]bool{"web": true, "queue": true}, quiesce: []string{"web", "queue"},
			want: []string{"web", "queue"}},
		{name: "interrupted while the engine stopped them", running: map[string]bool{"web": true}, quiesce: []string{"web"},
			stopErr: context.Canceled, interrupt: true, want: []string{"web"}, wantErr: "context canceled"},
		{name: "a service the operator had stopped stays stopped", running: map[string]bool{"web": true}, quiesce: []string{"web", "queue"},
			want: []string{"web"}},
		{name: "nothing running, nothing recorded", running: map[string]bool{}, quiesce: []string{"web"}},
		{name: "start fails: the record stays", running: map[string]bool{"web": true}, quiesce: []string{"web"},
			startErr: errors.New("engine said no"), record: true, wantErr: "docker compose start web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, interrupt := context.WithCancel(context.Background())
			defer interrupt()
			eng := &quiescingEngine{fakeEngine: fakeEngine{Project: "fake"}, running: tc.running, stopErr: tc.stopErr, startErr: tc.startErr}
			stack, err := eng.FindStack(ctx, "fake", "mariadb")
			if err != nil {
				t.Fatal(err)
			}
			db, _ := stack.Service("mariadb")
			plan := &stackPlan{stack: stack, quiesce: tc.quiesce, stateDir: t.TempDir(), dbContainer: db,
				volumes: []stackVolume{{key: "appwrite-uploads", info: &engine.VolumeInfo{Name: "fake_appwrite-uploads"}}}}
			var recorded *journal.Stopped
			eng.onStop = func() {
				recorded, _ = journal.ReadStopped(plan.stateDir)
				if tc.interrupt {
					interrupt()
				}
			}
			_, err = writeVolumes(ctx, eng, nil, plan, nil, nil, nil, false, slog.New(slog.DiscardHandler))
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want one saying %q", err, tc.wantErr)
			}
			if !slices.Equal(eng.started, tc.want) {
				t.Errorf("started again: %q, want %q", eng.started, tc.want)
			}
			if len(tc.want) > 0 && eng.startCtxErr != nil {
				t.Errorf("the services were started on an ended context (%v): a real engine would refuse", eng.startCtxErr)
			}
			if len(stack.Running(tc.quiesce)) > 0 && (recorded == nil || !slices.Equal(recorded.Services, stack.Running(tc.quiesce))) {
				t.Errorf("when the stop was asked, the record said %+v; want it to name %q", recorded, stack.Running(tc.quiesce))
			}
			left, err := journal.ReadStopped(plan.stateDir)
			if err != nil || (left != nil) != tc.record {
				t.Errorf("record after the run: %+v, %v; want one left: %v", left, err, tc.record)
			}
		})
	}
}

// TestBackupStartsWhatAKilledBackupLeftStopped: a backup killed (kill -9)
// with services stopped left their record; the next backup starts them
// before it looks at the stack, says so, and removes the record.
func TestBackupStartsWhatAKilledBackupLeftStopped(t *testing.T) {
	ctx := context.Background()
	cfg := fakeConfig(t)
	mem := remotetest.Memory(t)
	cfg.Destinations = []config.Destination{{Name: "mem", Remote: mem, Retention: config.DefaultRetention()}}
	d, err := storage.Open(ctx, remote.Options{Name: "mem", Remote: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := journal.WriteStopped(cfg.StateDir, &journal.Stopped{Project: "fake", DBService: "mariadb", Services: []string{"web", "gone"}, PID: 4242, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	eng := &quiescingEngine{fakeEngine: fakeEngine{Project: "fake", Rows: 10}, running: map[string]bool{"queue": true}}
	res, err := Run(ctx, eng, cfg, []*storage.Destination{d}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(eng.started, []string{"web"}) {
		t.Errorf("started %q; want the service the killed backup stopped, and only it", eng.started)
	}
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "pid 4242") || !strings.Contains(w, "started web again") || !strings.Contains(w, "gone no longer in the project") {
		t.Errorf("warnings %q; want them to say what a killed backup left and what was started", res.Warnings)
	}
	if _, err := os.Stat(journal.StoppedPath(cfg.StateDir)); !os.IsNotExist(err) {
		t.Errorf("the record is still there after its services were started: %v", err)
	}
}
