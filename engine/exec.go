package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/docker/docker/api/types/container"
)

// DefaultStderrLimit is how much of a command's error output Exec keeps
// when ExecOptions.StderrLimit is zero: the tail, where the reason is.
const DefaultStderrLimit = 64 << 10

// ExecOptions describe one command run inside a running container. There
// is never a TTY: output is demultiplexed into stdout and stderr.
type ExecOptions struct {
	Cmd        []string
	Env        []string // KEY=value, added to the container's environment
	User       string
	WorkingDir string
	// Stdin, when set, is streamed to the command; its end closes the
	// command's input. A read error aborts the command and is returned.
	Stdin io.Reader
	// Stdout receives the command's output as it comes; nil discards it.
	// A write error aborts the command and is returned.
	Stdout io.Writer
	// StderrLimit bounds the error output kept (the tail); zero means
	// DefaultStderrLimit.
	StderrLimit int
}

// ExecResult is how a command ended. A non-zero exit code is not an error
// of Exec: callers decide what it means, usually through Err.
type ExecResult struct {
	ExitCode int
	Stderr   string // the tail of the error output, at most StderrLimit bytes
	// Stopped is set, for a non-zero exit code, when the container itself
	// stopped, restarted or went away while the command ran.
	Stopped *ContainerStoppedError
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	What     string
	ExitCode int
	Stderr   string
	// Stopped is set when the container itself stopped under the command.
	Stopped *ContainerStoppedError
}

func (e *ExitError) Error() string {
	tail := strings.TrimSpace(e.Stderr)
	if e.Stopped != nil {
		if tail == "" {
			return fmt.Sprintf("%s: %v; the command exited with code %d", e.What, e.Stopped, e.ExitCode)
		}
		return fmt.Sprintf("%s: %v; the command exited with code %d: %s", e.What, e.Stopped, e.ExitCode, tail)
	}
	if tail == "" {
		return fmt.Sprintf("%s: exit code %d (no error output)", e.What, e.ExitCode)
	}
	return fmt.Sprintf("%s: exit code %d: %s", e.What, e.ExitCode, tail)
}

// Unwrap makes errors.As find the *ContainerStoppedError.
func (e *ExitError) Unwrap() error {
	if e.Stopped == nil {
		return nil
	}
	return e.Stopped
}

// Err is nil for exit code 0, and otherwise an *ExitError reading
// "<what>: exit code N: <stderr tail>", or saying that the container
// stopped when it did.
func (r *ExecResult) Err(what string) error {
	if r.ExitCode == 0 {
		return nil
	}
	return &ExitError{What: what, ExitCode: r.ExitCode, Stderr: r.Stderr, Stopped: r.Stopped}
}

// Exec runs a command in a running container and streams its input and
// output; memory stays bounded whatever the output size. Cancelling ctx
// closes the connection, which ends the stream at once, and Exec returns
// an error matching ctx.Err().
func (c *Client) Exec(ctx context.Context, containerID string, opts ExecOptions) (*ExecResult, error) {
	if len(opts.Cmd) == 0 {
		return nil, errors.New("running a command in a container: no command given")
	}
	what := opts.Cmd[0]
	tag, err := newExecTag()
	if err != nil {
		return nil, err
	}
	start := c.NoteStart(ctx, containerID)
	created, err := c.api.ContainerExecCreate(ctx, containerID, container.ExecOptions{
		Cmd:          opts.Cmd,
		Env:          append(slices.Clip(opts.Env), tag),
		User:         opts.User,
		WorkingDir:   opts.WorkingDir,
		AttachStdin:  opts.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating exec of %s in container %s: %w", what, containerID, err)
	}
	conn, err := c.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("starting %s in container %s: %w", what, containerID, err)
	}
	var closeOnce sync.Once
	closeConn := func() { closeOnce.Do(conn.Close) }
	defer closeConn()

	// However the connection ends (CloseWrite, or closed hard), the engine
	// closes the command's input cleanly, as if all of it had been sent,
	// and an import would then act on part of it. So when the input is
	// attached, an abandoned command is ended first and the connection
	// closed after, and its input is never closed as complete.
	var inputMu sync.Mutex
	abandoned := false
	abandon := func() {
		inputMu.Lock()
		abandoned = true
		inputMu.Unlock()
		if opts.Stdin != nil {
			_ = c.stopExec(ctx, containerID, created.ID, tag)
		}
		closeConn()
	}

	// Closing the hijacked connection is the only way to interrupt a
	// blocked read or write on it.
	streamDone := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case <-ctx.Done():
			abandon()
		case <-streamDone:
		}
	}()

	var copyInErr error
	stdinDone := make(chan struct{})
	if opts.Stdin != nil {
		go func() {
			defer close(stdinDone)
			if err := copyInput(conn.Conn, opts.Stdin); err != nil {
				copyInErr = err
				// The input is broken: end the command rather than let it
				// see a clean end of input and act on half of it.
				abandon()
				return
			}
			// Tells the command its input is complete; output still flows.
			// Not after a cancel: a reader may end cleanly because of it
			// (a pipe its writer closed), and the input is cut, not whole.
			inputMu.Lock()
			defer inputMu.Unlock()
			if !abandoned && ctx.Err() == nil {
				_ = conn.CloseWrite()
			}
		}()
	} else {
		close(stdinDone)
	}

	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	limit := opts.StderrLimit
	if limit <= 0 {
		limit = DefaultStderrLimit
	}
	stderr := &tailBuffer{limit: limit}
	out := &trackedWriter{w: stdout}
	_, copyErr := (&demuxer{stdout: out, stderr: stderr, pace: newPacer()}).copyFrom(conn.Reader)
	close(streamDone)
	closeConn()
	<-watchDone
	// The output ended: the command exited (or its stream broke). Its
	// input copy ends at once if it was writing, or at the next Read of
	// Stdin, which may have nothing to give for a long time (an idle
	// connection of a parallel import): how the command ended must not
	// wait for that. The copy's own error counts only if it ended soon.
	var stdinErr error
	select {
	case <-stdinDone:
		stdinErr = copyInErr
	case <-time.After(stdinGrace):
	}

	var failure error
	switch {
	case ctx.Err() != nil:
		failure = fmt.Errorf("running %s in container %s: %w", what, containerID, ctx.Err())
	case stdinErr != nil:
		failure = fmt.Errorf("streaming input to %s in container %s: %w", what, containerID, stdinErr)
	case out.err != nil:
		failure = fmt.Errorf("writing the output of %s in container %s: %w", what, containerID, out.err)
	case copyErr != nil:
		failure = fmt.Errorf("reading the output of %s in container %s: %w", what, containerID, copyErr)
	}
	if failure != nil {
		if ctx.Err() == nil {
			// A broken stream is what a container's end looks like from
			// here; the caller's own reader or writer failing is not.
			brokenStream := stdinErr == nil && out.err == nil && copyErr != nil
			if stopped := c.stoppedSince(ctx, containerID, start, brokenStream); stopped != nil {
				failure = fmt.Errorf("%w; %w", failure, stopped)
			}
		}
		if err := c.stopExec(ctx, containerID, created.ID, tag); err != nil {
			return nil, fmt.Errorf("%w (and ending it failed: %v)", failure, err)
		}
		return nil, failure
	}

	code, err := c.exitCode(ctx, created.ID)
	if err != nil {
		err = fmt.Errorf("reading the exit code of %s in container %s: %w", what, containerID, err)
		if ctx.Err() == nil {
			if stopped := c.stoppedSince(ctx, containerID, start, true); stopped != nil {
				err = fmt.Errorf("%w; %w", err, stopped)
			}
		}
		return nil, err
	}
	res := &ExecResult{ExitCode: code, Stderr: stderr.String()}
	if code != 0 {
		// Only a failed command is worth the look: a container that stops
		// under a command makes it fail, mostly by a signal (exit codes
		// over 128; 137 is SIGKILL), as a container's end kills all in it.
		res.Stopped = c.stoppedSince(ctx, containerID, start, code > 128)
	}
	return res, nil
}

// stdinGrace is how long Exec waits, once the command's output ended,
// for its input copy to end and say why.
const stdinGrace = 2 * time.Second

// execTagVar marks every process an Exec starts, through its environment,
// so an abandoned one can be found and ended (see stopExec).
const execTagVar = "DR_EXEC_ID"

func newExecTag() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making an exec tag: %w", err)
	}
	return execTagVar + "=" + hex.EncodeToString(b), nil
}

// stopScript ends the processes whose environment holds the tag ($1): TERM,
// up to two seconds' grace, then KILL. Children inherit the environment, so
// a shell and the dump it started both go.
const stopScript = `tag=$1
tagged() {
  for p in /proc/[0-9]*; do
    tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "$tag" && echo "${p#/proc/}"
  done
}
pids=$(tagged)
[ -n "$pids" ] || exit 0
kill -TERM $pids 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do
  pids=$(tagged)
  [ -n "$pids" ] || exit 0
  sleep 0.2
done
kill -KILL $pids 2>/dev/null
exit 0
`

// stopExec ends a command whose stream was abandoned. The engine does not
// do it: a closed attach leaves the process running, blocked on a full
// pipe, and a dump left so would hold its snapshot open for good. The API
// has no call to kill an exec, so a second exec finds it by its tag.
//
// The engine answers the attach, and even marks the exec running, before
// the command's process exists; a stop run then finds nothing to end, and
// the process, started after it, reads the input's end the closed
// connection makes as a clean one. So stopExec first waits for the
// process to exist (or the exec to have ended).
func (c *Client) stopExec(ctx context.Context, containerID, execID, tag string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	info, err := c.awaitExec(ctx, execID, func(info container.ExecInspect) bool {
		return info.Pid != 0 || (!info.Running && info.ExitCode != 0)
	})
	if err == nil && !info.Running {
		return nil
	}
	// An exec the engine cannot tell about is stopped all the same: the
	// stop finds its processes by their tag.
	res, err := c.Exec(ctx, containerID, ExecOptions{
		Cmd:         []string{"sh", "-c", stopScript, "dr-stop", tag},
		User:        "0",
		StderrLimit: 4 << 10,
	})
	if err != nil {
		return err
	}
	return res.Err("stopping the abandoned command")
}

// exitCode waits for the engine to record the end of the process: its
// streams can close a moment before the exec is marked as finished.
func (c *Client) exitCode(ctx context.Context, execID string) (int, error) {
	info, err := c.awaitExec(ctx, execID, func(info container.ExecInspect) bool { return !info.Running })
	if err != nil {
		return 0, err
	}
	return info.ExitCode, nil
}

// awaitExec inspects the exec until reached says it is in the state
// waited for, backing off from 5 ms to 200 ms between looks.
func (c *Client) awaitExec(ctx context.Context, execID string, reached func(container.ExecInspect) bool) (container.ExecInspect, error) {
	delay := 5 * time.Millisecond
	for {
		info, err := c.api.ContainerExecInspect(ctx, execID)
		if err != nil {
			return container.ExecInspect{}, err
		}
		if reached(info) {
			return info, nil
		}
		select {
		case <-ctx.Done():
			return container.ExecInspect{}, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// inputError marks a failure of the caller's reader, as opposed to the
// connection refusing more input because the command has ended.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// copyInput streams r into the command and reports only the reader's
// failures: a command may exit without reading all its input, which is
// for its exit code to judge.
func copyInput(conn io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, readErr := r.Read(buf)
		if n > 0 {
			if _, err := conn.Write(buf[:n]); err != nil {
				return nil
			}
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			return inputError{readErr}
		}
	}
}

// trackedWriter remembers the caller's write error, so it is reported as
// such and not as a broken stream.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.err = err
	}
	return n, err
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	limit   int
	buf     []byte
	dropped bool // bytes were cut off the front
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.limit {
		p = p[len(p)-t.limit:]
		t.dropped = true
	}
	t.buf = append(t.buf, p...)
	// Compact only once the buffer doubles, so each byte is copied O(1)
	// times on average.
	if len(t.buf) > 2*t.limit {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.limit:]...)
		t.dropped = true
	}
	return n, nil
}

// String returns the tail, starting on a whole UTF-8 character.
func (t *tailBuffer) String() string {
	b := t.buf
	if len(b) > t.limit {
		b = b[len(b)-t.limit:]
	}
	if t.dropped || len(b) < len(t.buf) {
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
	}
	return string(b)
}

// OutputLimit bounds what Output keeps in memory.
const OutputLimit = 1 << 20

// Output runs a command for a small answer (a version, a count) and returns
// its standard output. A non-zero exit is an *ExitError carrying the tail
// of the error output; more than OutputLimit bytes of output is an error.
func (c *Client) Output(ctx context.Context, containerID string, cmd []string) (string, error) {
	var out strings.Builder
	res, err := c.Exec(ctx, containerID, ExecOptions{
		Cmd:    cmd,
		Stdout: &limitWriter{w: &out, remaining: OutputLimit},
	})
	if err != nil {
		return "", err
	}
	if err := res.Err(describeCommand(cmd)); err != nil {
		return "", err
	}
	return out.String(), nil
}

var errOutputTooLarge = fmt.Errorf("output larger than %d bytes", OutputLimit)

type limitWriter struct {
	w         io.Writer
	remaining int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.remaining {
		return 0, errOutputTooLarge
	}
	l.remaining -= len(p)
	return l.w.Write(p)
}

// describeCommand names a command for an error message, shortened: a
// command can carry a whole script.
func describeCommand(cmd []string) string {
	const max = 80
	s := strings.Join(cmd, " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
