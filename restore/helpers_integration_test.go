package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/lock"
)

// volumeChildEnv carries the volumes restore a child runs until killed.
const volumeChildEnv = "DR_TEST_KILLED_VOLUME_RESTORE"

// writingVolumeLine is what the child prints once the engine is taking a
// volume's archive into the helper; the parent then kills it.
const writingVolumeLine = "WRITING A VOLUME"

// runKilledVolumeRestoreChild is the child: dr restore --only volumes, on
// an engine that labels its helpers as the CLI's does, whose first volume
// write stalls until the child is killed.
func runKilledVolumeRestoreChild(spec string) int {
	var c childRestore
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	cfg := config.Default()
	cfg.Stack.Project, cfg.Stack.Dir, cfg.Stack.Volumes, cfg.StateDir = c.Project, c.Dir, appVolumes, c.StateDir
	cfg.Destinations = []config.Destination{{Name: "local", Remote: c.Remote, Retention: config.DefaultRetention()}}
	dests, err := backup.OpenReachable(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	eng, err := engine.New(ctx, engine.WithOwner(lock.Owner(cfg.StateDir)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	stalling := &stallingVolumeEngine{Client: eng}
	req := Request{Name: c.Backup, Parts: []string{PartVolumes}, Volumes: []string{"appwrite-uploads"}}
	plan, err := Prepare(ctx, stalling, cfg, dests, req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = Execute(ctx, stalling, plan, req)
	fmt.Fprintf(os.Stderr, "the restore was not killed: %v\n", err)
	return 3
}

// stallingVolumeEngine gives the engine a volume archive whose first read
// says so on stdout and never returns: the helper exists by then, the
// volume mounted read-write.
type stallingVolumeEngine struct {
	*engine.Client
	once sync.Once
}

func (s *stallingVolumeEngine) ReplaceVolume(ctx context.Context, name, image string, archive io.Reader) error {
	return s.Client.ReplaceVolume(ctx, name, image, &stallingVolumeReader{e: s})
}

func (s *stallingVolumeEngine) WriteVolume(ctx context.Context, name, image string, archive io.Reader) error {
	return s.Client.WriteVolume(ctx, name, image, &stallingVolumeReader{e: s})
}

type stallingVolumeReader struct{ e *stallingVolumeEngine }

func (r *stallingVolumeReader) Read([]byte) (int, error) {
	r.e.once.Do(func() { fmt.Println(writingVolumeLine) })
	select {} // until SIGKILL
}

// ownHelpers lists the helper containers labelled with stateDir's owner.
func ownHelpers(t *testing.T, stateDir string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+engine.HelperOwnerLabel(lock.Owner(stateDir))).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.Fields(string(out))
}

// TestKilledVolumeRestoreLeavesNoHelperAfterTheNext is issue 21's kill -9
// of dr restore --only volumes while a volume is written: the helper the
// dead run made stays, the volume mounted read-write (docker compose
// down -v fails with "volume is in use"); the next restore removes it and
// says so, and finishes the job.
func TestKilledVolumeRestoreLeavesNoHelperAfterTheNext(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	res := takeBackup(t, eng, cfg, dests)
	t.Cleanup(func() {
		// Only this test's helpers; then leave the stack running.
		for _, id := range ownHelpers(t, cfg.StateDir) {
			_ = exec.Command("docker", "rm", "-f", "-v", id).Run()
		}
		s.Compose(t, "start", teststack.AppService, teststack.WorkerService)
	})

	teststack.KillChildAt(t, volumeChildEnv, mustJSON(t, childRestore{Project: s.Project, Dir: s.Dir, StateDir: cfg.StateDir, Remote: cfg.Destinations[0].Remote, Backup: res.Name}), writingVolumeLine)
	left := ownHelpers(t, cfg.StateDir)
	if len(left) == 0 {
		t.Fatal("no helper left after the kill: the child was killed before it made one, nothing was tested")
	}

	var steps []string
	if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartVolumes}, Volumes: []string{"appwrite-uploads"},
		Step: func(s string) { steps = append(steps, s) }}); err != nil {
		t.Fatalf("the restore after the kill: %v", err)
	}
	if after := ownHelpers(t, cfg.StateDir); len(after) != 0 {
		t.Errorf("helpers still there after the next restore: %v (the killed run's: %v)", after, left)
	}
	if !strings.Contains(strings.Join(steps, "\n"), "volume helper container(s) a killed run left") {
		t.Errorf("the operator was not told of the removed helper: %q", steps)
	}
	for svc, state := range startedAt(t, s) {
		if !strings.HasPrefix(state, "true") {
			t.Errorf("service %s is not running after the restore finished the job: %s", svc, state)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
