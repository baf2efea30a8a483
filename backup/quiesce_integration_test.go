package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/restore/journal"
)

// killedBackupEnv carries the backup a child process runs until killed.
const killedBackupEnv = "DR_TEST_KILLED_BACKUP"

// stoppedLine is what the child prints once stop_during_backup stopped.
const stoppedLine = "SERVICES STOPPED"

type childBackup struct{ Project, Dir, StateDir, Remote string }

func quiesceConfig(c childBackup) *config.Config {
	cfg := config.Default()
	cfg.Stack.Project, cfg.Stack.Dir, cfg.StateDir = c.Project, c.Dir, c.StateDir
	cfg.Stack.Volumes = []string{"appwrite-uploads"}
	cfg.Stack.StopDuringBackup = []string{teststack.WorkerService}
	cfg.Destinations = []config.Destination{{Name: "local", Remote: c.Remote, Retention: config.DefaultRetention()}}
	return cfg
}

// runKilledBackupChild is the child: a backup whose stop of
// stop_during_backup completes, after which it says so and hangs until
// it is killed.
func runKilledBackupChild(spec string) int {
	var c childBackup
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	cfg := quiesceConfig(c)
	dests, err := OpenReachable(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	eng, err := engine.New(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = Run(ctx, &hangAfterStop{Client: eng}, cfg, dests, Options{ToolVersion: "dr test"})
	fmt.Fprintf(os.Stderr, "the backup was not killed: %v\n", err)
	return 3
}

type hangAfterStop struct{ *engine.Client }

func (h *hangAfterStop) StopServices(ctx context.Context, stack *engine.Stack, services []string, timeout time.Duration) ([]string, error) {
	stopped, err := h.Client.StopServices(ctx, stack, services, timeout)
	if err != nil {
		return stopped, err
	}
	fmt.Println(stoppedLine)
	select {} // until SIGKILL
}

// TestKilledBackupsStoppedServicesAreStartedByTheNext is issue 21's
// kill -9 of a backup while stop_during_backup is stopped: the service
// stays exited, the record in state_dir names it; the next backup starts
// it before it looks at the stack, says so, and removes the record.
func TestKilledBackupsStoppedServicesAreStartedByTheNext(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
	c := childBackup{Project: s.Project, Dir: s.Dir, StateDir: t.TempDir(), Remote: t.TempDir()}
	t.Cleanup(func() { s.Compose(t, "start", teststack.WorkerService) })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	killChildAt(t, killedBackupEnv, c, stoppedLine)

	worker := s.ContainerID(t, teststack.WorkerService)
	if st, err := eng.ContainerState(ctx, worker); err != nil || st.Running {
		t.Fatalf("worker after the kill: %+v, %v; want it stopped, or nothing was tested", st, err)
	}
	if rec, err := journal.ReadStopped(c.StateDir); err != nil || rec == nil || !strings.Contains(strings.Join(rec.Services, ","), teststack.WorkerService) {
		t.Fatalf("record after the kill: %+v, %v; want it to name the worker", rec, err)
	}

	cfg := quiesceConfig(c)
	// The killed child named its leftover archive by the real clock, and a
	// name follows the newest object of its stack: the next run runs on
	// the real clock too, as it would on a host.
	res, err := backupAt(t, eng, cfg, openAll(t, cfg), time.Now())
	if err != nil {
		t.Fatalf("the backup after the kill: %v", err)
	}
	if st, err := eng.ContainerState(ctx, worker); err != nil || !st.Running {
		t.Errorf("worker after the next backup: %+v, %v; want it running", st, err)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "started "+teststack.WorkerService+" again") {
		t.Errorf("warnings %q; want one saying the killed backup's service was started", res.Warnings)
	}
	if rec, err := journal.ReadStopped(c.StateDir); err != nil || rec != nil {
		t.Errorf("record after the next backup: %+v, %v; want none", rec, err)
	}
}
