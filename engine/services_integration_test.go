package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestStopServicesInterruptedWhileStopping is issue 21's Ctrl-C of a
// backup while it stopped stop_during_backup: the run's context ends
// after the engine began stopping the container. The engine finishes that
// stop whatever the request does, so StopServices must wait for it and
// name the service, or the caller starts nothing and the service stays
// exited.
func TestStopServicesInterruptedWhileStopping(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	project := fmt.Sprintf("drstopinflight%d", time.Now().UnixNano())
	const service = "quiesced"
	since := time.Now().Add(-time.Second).Unix()
	// The container ignores SIGTERM, so its stop lasts the whole timeout:
	// the cancel below lands while the engine is stopping it.
	out, err := exec.Command("docker", "run", "-d", "--network", "none",
		"--label", engine.LabelProject+"="+project, "--label", engine.LabelService+"="+service,
		"--entrypoint", "sh", teststack.Image(), "-c", "trap '' TERM; while :; do sleep 0.2; done").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "-v", id).Run() })
	stack := &engine.Stack{Project: project, Containers: []engine.Container{{ID: id, Name: project + "-" + service + "-1", Service: service, Running: true}}}

	stopCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	// The engine's "kill" event (SIGTERM sent) says the stop has begun;
	// --since replays it should it come before the listener is up.
	events := exec.CommandContext(stopCtx, "docker", "events", "--since", fmt.Sprint(since),
		"--filter", "container="+id, "--filter", "event=kill", "--format", "{{.Action}}")
	evOut, err := events.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	defer events.Wait()
	go func() {
		if bufio.NewScanner(evOut).Scan() {
			interrupt()
		}
	}()

	stopped, err := c.StopServices(stopCtx, stack, []string{service}, 3*time.Second)
	if stopCtx.Err() == nil {
		t.Fatalf("the stop ended before it was interrupted (stopped %q, err %v): nothing was tested", stopped, err)
	}
	if !slices.Equal(stopped, []string{service}) {
		t.Errorf("stopped = %q (err %v); want [%s]: the engine was stopping it, and the caller must start it again", stopped, err, service)
	}
	st, err := c.ContainerState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running {
		t.Errorf("StopServices returned while the engine was still stopping the container: a start now would come before the stop ends")
	}
	if err := c.StartServices(ctx, stack, stopped); err != nil {
		t.Fatal(err)
	}
	if st, err := c.ContainerState(ctx, id); err != nil || !st.Running {
		t.Errorf("after the undo's start: %+v, %v; want running", st, err)
	}
}
