package engine

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
)

// StopServices stops every running container of the named services, in the
// order given, letting each exit within timeout before it is killed. It
// returns the services it actually stopped (those that had a running
// container), so the caller restarts exactly those and nothing an operator
// had stopped on purpose. On error the list still holds what was stopped.
//
// A stop once asked of the engine is waited for even when ctx ends: the
// engine goes on stopping the container after a cancelled request returns,
// and a caller told "nothing was stopped" would leave it stopped for good
// (issue 21: Ctrl-C of a backup while it stopped stop_during_backup). Such
// a service is in the returned list; no further stop is begun once ctx
// has ended.
func (c *Client) StopServices(ctx context.Context, stack *Stack, services []string, timeout time.Duration) ([]string, error) {
	if err := checkServices(stack, services); err != nil {
		return nil, err
	}
	seconds := int(math.Ceil(timeout.Seconds()))
	var stopped []string
	for _, svc := range services {
		wasRunning := false
		for _, ct := range stack.ServiceContainers(svc) {
			if err := ctx.Err(); err != nil {
				if wasRunning {
					stopped = append(stopped, svc)
				}
				return stopped, fmt.Errorf("stopping service %s: %w", svc, err)
			}
			// The stack listing may be old; the live state decides.
			st, err := c.ContainerState(ctx, ct.ID)
			if err != nil {
				if wasRunning {
					stopped = append(stopped, svc)
				}
				return stopped, fmt.Errorf("stopping service %s: %w", svc, err)
			}
			if !st.Running {
				continue
			}
			// From here the container may end up stopped whatever the
			// request returns: the caller must start it again.
			wasRunning = true
			if err := c.stopContainer(ctx, ct.ID, seconds); err != nil {
				stopped = append(stopped, svc)
				return stopped, fmt.Errorf("stopping container %s of service %s: %w", ct.Name, svc, err)
			}
		}
		if wasRunning {
			stopped = append(stopped, svc)
		}
	}
	return stopped, nil
}

// stopGrace is how long past the stop timeout a stop request may take
// (the kill, and the engine noting the exit) before dr gives up on it.
const stopGrace = 30 * time.Second

// stopContainer asks the engine to stop the container and waits for the
// answer without ctx's cancellation, under a deadline of its own: an
// interrupted run must know the container has stopped before it starts it
// again, or the start lands first and the stop after it.
func (c *Client) stopContainer(ctx context.Context, id string, seconds int) error {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(seconds)*time.Second+stopGrace)
	defer cancel()
	return c.api.ContainerStop(stopCtx, id, container.StopOptions{Timeout: &seconds})
}

// StartServices starts every container of the named services, in the order
// given. Starting a running container is not an error.
func (c *Client) StartServices(ctx context.Context, stack *Stack, services []string) error {
	if err := checkServices(stack, services); err != nil {
		return err
	}
	for _, svc := range services {
		for _, ct := range stack.ServiceContainers(svc) {
			if err := c.api.ContainerStart(ctx, ct.ID, container.StartOptions{}); err != nil {
				return fmt.Errorf("starting container %s of service %s: %w", ct.Name, svc, err)
			}
		}
	}
	return nil
}

// checkServices refuses names the stack does not have before anything is
// touched, so a typo never leaves a stack half stopped.
func checkServices(stack *Stack, services []string) error {
	var unknown []string
	for _, svc := range services {
		if len(stack.ServiceContainers(svc)) == 0 {
			unknown = append(unknown, svc)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("compose project %q has no service %s (it has: %s)",
			stack.Project, strings.Join(unknown, ", "), strings.Join(stack.Services(), ", "))
	}
	return nil
}

// WaitExec runs cmd in the container until it exits 0 (for example
// `mariadb-admin ping`), polling for at most timeout. The error after a
// timeout carries the last attempt's failure.
func (c *Client) WaitExec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := poll(waitCtx, func() (bool, error) {
		res, err := c.Exec(waitCtx, containerID, ExecOptions{Cmd: cmd, StderrLimit: 4 << 10})
		if err != nil {
			return false, err
		}
		return res.ExitCode == 0, res.Err(describeCommand(cmd))
	}, func(last error) error {
		return fmt.Errorf("waiting for %q to succeed in container %s: not within %s: %w", describeCommand(cmd), containerID, timeout, last)
	})
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for %q in container %s: %w", describeCommand(cmd), containerID, ctx.Err())
	}
	return err
}

// WaitHealthy waits until the container is healthy, or merely running
// when it has no healthcheck. A container that exits fails at once.
func (c *Client) WaitHealthy(ctx context.Context, containerID string, timeout time.Duration) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var exited error
	err := poll(waitCtx, func() (bool, error) {
		st, err := c.ContainerState(waitCtx, containerID)
		if err != nil {
			return false, err
		}
		switch {
		case !st.Running && (st.Status == container.StateExited || st.Status == container.StateDead):
			exited = fmt.Errorf("container %s exited with code %d", containerID, st.ExitCode)
			return true, nil
		case st.Running && (st.Health == "" || st.Health == "healthy"):
			return true, nil
		}
		return false, fmt.Errorf("state %s, health %q", st.Status, st.Health)
	}, func(last error) error {
		return fmt.Errorf("waiting for container %s to be healthy: not within %s: %w", containerID, timeout, last)
	})
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for container %s to be healthy: %w", containerID, ctx.Err())
	}
	if err != nil {
		return err
	}
	return exited
}

// poll calls try until it reports done, backing off up to a second between
// attempts. When ctx ends first, onTimeout wraps the last attempt's error.
func poll(ctx context.Context, try func() (done bool, err error), onTimeout func(last error) error) error {
	delay := 100 * time.Millisecond
	var last error
	for {
		done, err := try()
		if done {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return onTimeout(last)
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}
