package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// ContainerStoppedError says that the container a command ran in stopped,
// restarted or went away while the command ran. The command's own exit
// code cannot say it: a killed container gives its processes SIGKILL, and
// 137 looks like any other kill.
type ContainerStoppedError struct {
	Container string // the container's name
	Removed   bool
	Restarted bool // running again, started after the command began
	OOMKilled bool
	Status    string // the state now: "exited", "restarting", "running", …
	ExitCode  int    // the container's exit code, when it is not running
}

func (e *ContainerStoppedError) Error() string {
	switch {
	case e.Removed:
		return fmt.Sprintf("the container %s was removed while the command ran", e.Container)
	case e.OOMKilled:
		return fmt.Sprintf("the container %s was killed for lack of memory (OOM) while the command ran (state now: %s)", e.Container, e.Status)
	case e.Restarted:
		return fmt.Sprintf("the container %s restarted while the command ran", e.Container)
	case e.Status == "restarting":
		return fmt.Sprintf("the container %s stopped while the command ran (its restart policy is starting it again)", e.Container)
	}
	return fmt.Sprintf("the container %s stopped while the command ran (state now: %s, exit code %d)", e.Container, e.Status, e.ExitCode)
}

// ExecStart is what is noted about a container before a command, to tell
// afterwards whether the container stopped under it.
type ExecStart struct {
	name      string
	startedAt string // State.StartedAt; "" when unknown
}

// NoteStart reads the container's name and start time. It is best effort:
// without them the check afterwards is only less precise.
func (c *Client) NoteStart(ctx context.Context, containerID string) ExecStart {
	s := ExecStart{name: containerID}
	info, err := c.api.ContainerInspect(ctx, containerID)
	if err != nil {
		return s
	}
	s.name = strings.TrimPrefix(info.Name, "/")
	if info.State != nil {
		s.startedAt = info.State.StartedAt
	}
	return s
}

// settleTime is how long stoppedSince keeps looking at a container that
// still seems to run after a command was killed: the engine records the
// container's end a moment after its processes died, and the command's end
// can be seen first.
const settleTime = 3 * time.Second

// stoppedSince inspects the container after a command failed and says
// whether the container stopped, restarted or went away meanwhile; nil when
// it still runs as before, or when that cannot be told. suspect (the
// command was killed by a signal, or its stream broke) makes it wait up to
// settleTime for the engine to catch up.
func (c *Client) stoppedSince(ctx context.Context, containerID string, start ExecStart, suspect bool) *ContainerStoppedError {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	deadline := time.Now().Add(settleTime)
	delay := 50 * time.Millisecond
	for {
		info, err := c.api.ContainerInspect(ctx, containerID)
		if cerrdefs.IsNotFound(err) {
			return &ContainerStoppedError{Container: start.name, Removed: true}
		}
		if err != nil {
			return nil
		}
		if e := containerEnd(start, info.State); e != nil || !suspect || time.Now().After(deadline) {
			return e
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// StoppedSince looks again at the container of a command whose output
// ended early although the command exited 0: when the container is killed
// under it, the engine can record 0 for a command that died with it. It
// waits up to settleTime for the engine to see the container's end, and is
// nil when the container still runs as it did at start.
func (c *Client) StoppedSince(ctx context.Context, containerID string, start ExecStart) *ContainerStoppedError {
	return c.stoppedSince(ctx, containerID, start, true)
}

// ExplainStopped adds what to do to an error that holds a
// *ContainerStoppedError, from a command during which the container
// stopped: on its own, exit code 137 tells an operator nothing. Any other
// error is returned as it is.
func ExplainStopped(err error, during string) error {
	var stopped *ContainerStoppedError
	if !errors.As(err, &stopped) {
		return err
	}
	return fmt.Errorf("%w. The container stopped (or was killed) during the %s: see why with docker logs %s (running out of memory is a common cause), make sure it runs again (docker start %s), then try again",
		err, during, stopped.Container, stopped.Container)
}

// containerEnd decides from the container's state now, and its start time
// before the command, whether it stopped under the command.
func containerEnd(start ExecStart, st *container.State) *ContainerStoppedError {
	if st == nil {
		return nil
	}
	e := &ContainerStoppedError{Container: start.name, Status: string(st.Status), ExitCode: st.ExitCode, OOMKilled: st.OOMKilled}
	switch {
	case st.Restarting || !st.Running:
		return e
	case start.startedAt != "" && st.StartedAt != start.startedAt:
		// Running, but not the process the command began in: a restart
		// policy brought it back.
		e.Restarted = true
		e.ExitCode = 0
		return e
	}
	return nil
}
