package engine_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

var shared = teststack.NewShared(teststack.Options{Name: "engine"})

func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }

func newClient(t *testing.T) *engine.Client {
	t.Helper()
	teststack.Skip(t)
	c, err := engine.New(context.Background())
	if err != nil {
		t.Fatalf("connecting to the engine: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestFindStackByProject(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	stack, err := c.FindStack(context.Background(), s.Project, teststack.DBService)
	if err != nil {
		t.Fatal(err)
	}
	if stack.Project != s.Project {
		t.Errorf("project = %q, want %q", stack.Project, s.Project)
	}
	if want := []string{"appwrite", "mariadb", "worker"}; !slices.Equal(stack.Services(), want) {
		t.Errorf("services = %q, want %q", stack.Services(), want)
	}
	db, ok := stack.Service(teststack.DBService)
	if !ok || !db.Running || db.ID != s.ContainerID(t, teststack.DBService) || db.ImageID == "" || db.Name == "" {
		t.Errorf("database container = %+v (found %v), want the running %s container", db, ok, teststack.DBService)
	}
	if db.Labels[engine.LabelProject] != s.Project {
		t.Errorf("labels = %v, want the compose project label", db.Labels)
	}
	if stack.WorkingDir != s.Dir {
		t.Errorf("working dir = %q, want %q", stack.WorkingDir, s.Dir)
	}
	if _, ok := stack.Service("redis"); ok {
		t.Error("found a redis service the stack does not have")
	}
}

// TestFindStackDiscovery uses a service name of its own, so stacks that
// other packages' tests run at the same time cannot change its outcome.
func TestFindStackDiscovery(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	service := fmt.Sprintf("drdiscovery%d", time.Now().UnixNano())
	create := func(project string) {
		t.Helper()
		out, err := exec.Command("docker", "create", "--network", "none",
			"--label", engine.LabelProject+"="+project,
			"--label", engine.LabelService+"="+service,
			"--entrypoint", "true", teststack.Image()).CombinedOutput()
		if err != nil {
			t.Fatalf("docker create: %v %s", err, out)
		}
		id := strings.TrimSpace(string(out))
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", "-v", id).Run() })
	}

	_, err := c.FindStack(ctx, "", service)
	if err == nil || !strings.Contains(err.Error(), "no container has the label com.docker.compose.service="+service) {
		t.Errorf("no candidate: err = %v, want one naming the missing label", err)
	}

	create(service + "a")
	stack, err := c.FindStack(ctx, "", service)
	if err != nil {
		t.Fatalf("one candidate: %v", err)
	}
	if stack.Project != service+"a" || len(stack.Containers) != 1 || stack.Containers[0].Running {
		t.Errorf("one candidate: stack = %+v, want project %sa with its one stopped container", stack, service)
	}

	create(service + "b")
	_, err = c.FindStack(ctx, "", service)
	if err == nil || !strings.Contains(err.Error(), service+"a, "+service+"b") || !strings.Contains(err.Error(), "set stack.project") {
		t.Errorf("two candidates: err = %v, want both projects listed and stack.project named", err)
	}
	stack, err = c.FindStack(ctx, service+"b", service)
	if err != nil || stack.Project != service+"b" {
		t.Errorf("two candidates, project given: stack = %+v, err = %v", stack, err)
	}

	_, err = c.FindStack(ctx, service+"none", service)
	if err == nil || !strings.Contains(err.Error(), "com.docker.compose.project="+service+"none") {
		t.Errorf("unknown project: err = %v, want one naming the project label", err)
	}
}

// patternReader yields a repeating line forever, as `yes` prints it.
type patternReader struct {
	line []byte
	off  int
}

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.line[p.off]
		p.off = (p.off + 1) % len(p.line)
	}
	return len(b), nil
}

// heapWatcher hashes what it is given and samples the live heap now and
// then, to show the stream is not buffered on the way.
type heapWatcher struct {
	hash      io.Writer
	n         int64
	nextCheck int64
	peakHeap  uint64
}

func (h *heapWatcher) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if h.n >= h.nextCheck {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peakHeap = max(h.peakHeap, ms.HeapAlloc)
		h.nextCheck += 4 << 20
	}
	return h.hash.Write(p)
}

func TestExecLargeStdoutStreams(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	const size = 50 << 20
	const line = "0123456789abcdef\n"

	want := sha256.New()
	io.CopyN(want, &patternReader{line: []byte(line)}, size)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	got := sha256.New()
	w := &heapWatcher{hash: got}
	res, err := c.Exec(context.Background(), s.ContainerID(t, teststack.AppService), engine.ExecOptions{
		Cmd:    []string{"sh", "-c", fmt.Sprintf("yes %s | head -c %d", strings.TrimSuffix(line, "\n"), size)},
		Stdout: w,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || w.n != size {
		t.Fatalf("exit code %d, %d bytes; want 0, %d bytes (stderr %q)", res.ExitCode, w.n, size, res.Stderr)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Error("the output differs from what the command printed")
	}
	// A buffered copy would hold 50 MiB; the stream holds a few buffers.
	if growth := int64(w.peakHeap) - int64(before.HeapAlloc); growth > 24<<20 {
		t.Errorf("heap grew by %d MiB while streaming 50 MiB; the output is being buffered", growth>>20)
	}
}

func TestExecStdinRoundTrip(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	input := make([]byte, 8<<20)
	rand.Read(input)
	var out bytes.Buffer
	res, err := c.Exec(context.Background(), s.ContainerID(t, teststack.AppService), engine.ExecOptions{
		Cmd:    []string{"cat"},
		Stdin:  bytes.NewReader(input),
		Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || !bytes.Equal(out.Bytes(), input) {
		t.Errorf("cat: exit code %d, %d bytes back of %d sent (equal: %v)", res.ExitCode, out.Len(), len(input), bytes.Equal(out.Bytes(), input))
	}

	// The end of the input reaches the command: wc sees it and answers.
	out.Reset()
	res, err = c.Exec(context.Background(), s.ContainerID(t, teststack.AppService), engine.ExecOptions{
		Cmd:    []string{"wc", "-c"},
		Stdin:  strings.NewReader("twelve bytes"),
		Stdout: &out,
	})
	if err != nil || res.ExitCode != 0 || strings.TrimSpace(out.String()) != "12" {
		t.Errorf("wc -c: %q, exit %v, err %v; want 12", out.String(), res, err)
	}
}

// TestExecReturnsWhenTheCommandEndsBeforeItsInput: a command that exits
// while its input waits for more (an idle connection of a parallel
// import, whose client failed) ends Exec with its exit code and error
// output; the Read still waiting does not hold it.
func TestExecReturnsWhenTheCommandEndsBeforeItsInput(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("first line\n")) // then nothing, until the test ends
	done := make(chan error, 1)
	var res *engine.ExecResult
	go func() {
		var err error
		res, err = c.Exec(context.Background(), s.ContainerID(t, teststack.AppService), engine.ExecOptions{
			Cmd:   []string{"sh", "-c", "read line; echo failed at: $line >&2; exit 3"},
			Stdin: pr,
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || res.ExitCode != 3 || !strings.Contains(res.Stderr, "failed at: first line") {
			t.Errorf("Exec = %+v, %v; want exit code 3 and the error output", res, err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Exec still waits for input after its command ended")
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestExecInputFailureIsReported(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.AppService)
	broken := errors.New("chunk 3 failed its checksum")
	marker := fmt.Sprintf("/tmp/drinput%d", time.Now().UnixNano())
	_, err := c.Exec(context.Background(), id, engine.ExecOptions{
		// An import acts once its input ends; here it leaves a marker.
		Cmd:   []string{"sh", "-c", `cat >/dev/null && touch "$1"`, "sh", marker},
		Stdin: &failingReader{data: make([]byte, 1<<20), err: broken},
	})
	if !errors.Is(err, broken) {
		t.Errorf("err = %v, want the reader's error", err)
	}
	// Broken input must never look like a complete one to the command.
	if out, err := c.Output(context.Background(), id, []string{"sh", "-c", `test -e "$1" && echo acted || echo stopped`, "sh", marker}); err != nil || out != "stopped\n" {
		t.Errorf("after broken input the command %q (%v); want it stopped before its input ended", out, err)
	}
}

func TestExecCancelNeverEndsInputCleanly(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.AppService)
	marker := fmt.Sprintf("/tmp/drcancelinput%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 64<<10))
		cancel()
		// The input never ends on its own; only the cancel stops it.
		io.Copy(pw, zeros{})
	}()
	defer pw.Close()
	_, err := c.Exec(ctx, id, engine.ExecOptions{
		Cmd:   []string{"sh", "-c", `cat >/dev/null && touch "$1"`, "sh", marker},
		Stdin: pr,
	})
	pw.CloseWithError(errors.New("test over"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if out, err := c.Output(context.Background(), id, []string{"sh", "-c", `test -e "$1" && echo acted || echo stopped`, "sh", marker}); err != nil || out != "stopped\n" {
		t.Errorf("after cancel the command %q (%v); want it stopped before its input ended", out, err)
	}
}

// TestExecCancelWithInputEndingCleanly: a reader that ends cleanly
// because of the cancel (a pipe whose writer closes it on the way out)
// must not make the command see its input as complete.
func TestExecCancelWithInputEndingCleanly(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.AppService)
	marker := fmt.Sprintf("/tmp/drcancelcleaneof%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 64<<10))
		cancel()
		pw.Close()
	}()
	_, err := c.Exec(ctx, id, engine.ExecOptions{
		Cmd:   []string{"sh", "-c", `cat >/dev/null && touch "$1"`, "sh", marker},
		Stdin: pr,
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if out, err := c.Output(context.Background(), id, []string{"sh", "-c", `test -e "$1" && echo acted || echo stopped`, "sh", marker}); err != nil || out != "stopped\n" {
		t.Errorf("after cancel the command %q (%v); want it stopped before its input ended", out, err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestExecOutputFailureIsReported(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.AppService)
	marker := fmt.Sprintf("drwritefail%d", time.Now().UnixNano())
	full := errors.New("destination full")
	_, err := c.Exec(context.Background(), id, engine.ExecOptions{
		Cmd:    []string{"sh", "-c", "yes " + marker},
		Stdout: failingWriter{full},
	})
	if !errors.Is(err, full) {
		t.Errorf("err = %v, want the writer's error", err)
	}
	assertGone(t, c, id, marker)
}

// assertGone checks that no process in the container has marker on its
// command line. The bracket keeps the pattern from matching the checker.
func assertGone(t *testing.T, c *engine.Client, id, marker string) {
	t.Helper()
	pattern := marker[:len(marker)-1] + "[" + marker[len(marker)-1:] + "]"
	if err := c.WaitExec(context.Background(), id, []string{"sh", "-c", "! grep -qs " + pattern + " /proc/[0-9]*/cmdline"}, time.Minute); err != nil {
		t.Errorf("the command outlived its abandoned exec: %v", err)
	}
}

func TestExecExitCodesAndStderr(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.AppService)
	for _, tc := range []struct {
		name     string
		cmd      []string
		code     int
		stdout   string
		stderr   string
		errorMsg string
	}{
		{"success", []string{"sh", "-c", "echo out; echo err >&2"}, 0, "out\n", "err\n", ""},
		{"false", []string{"false"}, 1, "", "", "step: exit code 1 (no error output)"},
		{"exit 3 with a reason", []string{"sh", "-c", "echo partial; echo 'boom: disk full' >&2; exit 3"}, 3, "partial\n", "boom: disk full\n", "step: exit code 3: boom: disk full"},
		{"killed", []string{"sh", "-c", "kill -9 $$"}, 137, "", "", "step: exit code 137 (no error output)"},
		// Docker 20.10 says so on stdout, with exit code 126.
		{"no such command", []string{"dr-no-such-command"}, 126, "", "", "step: exit code 12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := c.Exec(context.Background(), id, engine.ExecOptions{Cmd: tc.cmd, Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			code := res.ExitCode
			if tc.code == 126 && code == 127 { // other engine versions
				code = 126
			}
			if code != tc.code || tc.code != 126 && out.String() != tc.stdout {
				t.Errorf("exit code %d, stdout %q; want %d, %q", res.ExitCode, out.String(), tc.code, tc.stdout)
			}
			if tc.stderr != "" && res.Stderr != tc.stderr {
				t.Errorf("stderr = %q, want %q", res.Stderr, tc.stderr)
			}
			err = res.Err("step")
			if tc.errorMsg == "" && err != nil || tc.errorMsg != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.errorMsg)) {
				t.Errorf("Err() = %v, want %q", err, tc.errorMsg)
			}
		})
	}
}

func TestExecStderrKeepsTheTail(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	var out bytes.Buffer
	res, err := c.Exec(context.Background(), s.ContainerID(t, teststack.AppService), engine.ExecOptions{
		Cmd:         []string{"sh", "-c", `i=0; while [ $i -lt 20000 ]; do echo "line $i" >&2; i=$((i+1)); done; echo done`},
		Stdout:      &out,
		StderrLimit: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stderr) > 1024 || !strings.HasSuffix(res.Stderr, "line 19998\nline 19999\n") {
		t.Errorf("stderr is %d bytes ending %q; want at most 1024 ending with the last lines", len(res.Stderr), res.Stderr[max(0, len(res.Stderr)-40):])
	}
	if out.String() != "done\n" {
		t.Errorf("stdout = %q: stderr leaked into it or output was lost", out.String())
	}
}

func TestExecEnvUserWorkingDir(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	var out bytes.Buffer
	res, err := c.Exec(context.Background(), s.ContainerID(t, teststack.AppService), engine.ExecOptions{
		Cmd:        []string{"sh", "-c", `echo "$DR_TEST_VALUE $(id -un) $(pwd)"`},
		Env:        []string{"DR_TEST_VALUE=hello world"},
		User:       "www-data",
		WorkingDir: "/tmp",
		Stdout:     &out,
	})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exec: %v %+v", err, res)
	}
	if got := strings.TrimSpace(out.String()); got != "hello world www-data /tmp" {
		t.Errorf("got %q, want env, user and working dir applied", got)
	}
}

// cancelAfter cancels the exec's context once enough output arrived.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.n -= len(p)
	if c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

func TestExecCancelEndsTheStream(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.AppService)
	marker := fmt.Sprintf("drcancel%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.Exec(ctx, id, engine.ExecOptions{
		Cmd:    []string{"yes", marker},
		Stdout: &cancelAfter{n: 1 << 20, cancel: cancel},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The engine leaves the command running when its stream closes; Exec
	// must end it.
	assertGone(t, c, id, marker)
}

func TestOutput(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	id := s.ContainerID(t, teststack.DBService)
	ctx := context.Background()
	out, err := c.Output(ctx, id, []string{"mariadb-dump", "--version"})
	if err != nil || !strings.Contains(out, "MariaDB") {
		t.Errorf("Output(mariadb-dump --version) = %q, %v", out, err)
	}
	_, err = c.Output(ctx, id, []string{"sh", "-c", "echo 'access denied' >&2; exit 2"})
	var exitErr *engine.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode != 2 || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("failing command: err = %v, want an *ExitError with code 2 and the stderr", err)
	}
	_, err = c.Output(ctx, id, []string{"sh", "-c", fmt.Sprintf("head -c %d /dev/zero", engine.OutputLimit+1)})
	if err == nil || !strings.Contains(err.Error(), "output larger than") {
		t.Errorf("oversized output: err = %v, want a size error", err)
	}
}

func TestInspectWithoutSecrets(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	ctx := context.Background()
	id := s.ContainerID(t, teststack.DBService)

	keys, err := c.EnvKeys(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"MYSQL_ROOT_PASSWORD", "MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD"} {
		if !slices.Contains(keys, k) {
			t.Errorf("EnvKeys = %q, missing %s", keys, k)
		}
	}
	env, err := os.ReadFile(s.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	secret := envValue(string(env), "_APP_DB_ROOT_PASS")
	if secret == "" || strings.Contains(fmt.Sprint(keys), secret) {
		t.Errorf("EnvKeys leaks the root password (or the test cannot find it): %q", keys)
	}

	d, err := c.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", d), secret) {
		t.Error("InspectContainer's result contains the root password")
	}
	var data *engine.Mount
	for i, m := range d.Mounts {
		if m.Destination == "/var/lib/mysql" {
			data = &d.Mounts[i]
		}
	}
	if data == nil || data.Type != "volume" || data.Name != s.Volume("appwrite-mariadb") || !data.RW {
		t.Errorf("mounts = %+v, want %s read-write at /var/lib/mysql", d.Mounts, s.Volume("appwrite-mariadb"))
	}
	if !d.State.Running || d.Image != teststack.Image() {
		t.Errorf("details = %+v, want the running %s", d, teststack.Image())
	}

	digest, err := c.ImageDigest(ctx, d.ImageID)
	if err != nil || !strings.Contains(digest, "sha256:") {
		t.Errorf("ImageDigest = %q, %v; want a sha256 digest", digest, err)
	}
}

func envValue(env, key string) string {
	for _, line := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return ""
}

func TestStopStartServices(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	ctx := context.Background()
	stack, err := c.FindStack(ctx, s.Project, teststack.DBService)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.StartServices(ctx, stack, []string{teststack.WorkerService}) })

	if _, err := c.StopServices(ctx, stack, []string{teststack.WorkerService, "nosuch"}, 5*time.Second); err == nil || !strings.Contains(err.Error(), "no service nosuch") {
		t.Errorf("unknown service: err = %v, want one naming it", err)
	}
	if st, _ := c.ContainerState(ctx, s.ContainerID(t, teststack.WorkerService)); !st.Running {
		t.Fatal("a refused stop still stopped the worker")
	}

	stopped, err := c.StopServices(ctx, stack, []string{teststack.WorkerService}, 5*time.Second)
	if err != nil || !slices.Equal(stopped, []string{teststack.WorkerService}) {
		t.Fatalf("stop: %q, %v; want [worker]", stopped, err)
	}
	if st, err := c.ContainerState(ctx, s.ContainerID(t, teststack.WorkerService)); err != nil || st.Running || st.Status != "exited" {
		t.Errorf("after stop: state %+v, %v; want exited", st, err)
	}
	// The stack listing still says running; the live state decides.
	stopped, err = c.StopServices(ctx, stack, []string{teststack.WorkerService}, 5*time.Second)
	if err != nil || len(stopped) != 0 {
		t.Errorf("second stop: %q, %v; want nothing stopped", stopped, err)
	}

	if err := c.StartServices(ctx, stack, []string{teststack.WorkerService}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx, s.ContainerID(t, teststack.WorkerService), time.Minute); err != nil {
		t.Errorf("worker after start: %v", err)
	}
	if err := c.WaitHealthy(ctx, s.ContainerID(t, teststack.DBService), time.Minute); err != nil {
		t.Errorf("database: %v", err)
	}
	if err := c.StartServices(ctx, stack, []string{teststack.WorkerService}); err != nil {
		t.Errorf("starting a running service: %v", err)
	}
}

func TestWaitExec(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	ctx := context.Background()
	id := s.ContainerID(t, teststack.DBService)
	ping := []string{"sh", "-c", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mariadb-admin -uroot ping`}
	if err := c.WaitExec(ctx, id, ping, time.Minute); err != nil {
		t.Errorf("mariadb-admin ping: %v", err)
	}
	err := c.WaitExec(ctx, id, []string{"sh", "-c", "echo not yet >&2; exit 1"}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "not within 1s") || !strings.Contains(err.Error(), "not yet") {
		t.Errorf("never ready: err = %v, want the timeout and the last stderr", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.WaitExec(cancelled, id, []string{"false"}, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestVolumeMounts(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	stack, err := c.FindStack(context.Background(), s.Project, teststack.DBService)
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := c.VolumeMounts(context.Background(), stack)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range mounts {
		got[m.Service+" "+m.Key+" "+m.Name+" "+m.Destination] = true
	}
	for _, want := range []string{
		"mariadb appwrite-mariadb " + s.Volume("appwrite-mariadb") + " /var/lib/mysql",
		"appwrite appwrite-sites " + s.Volume("appwrite-sites") + " /storage/sites",
		"appwrite appwrite-imports " + s.Volume("appwrite-imports") + " /storage/imports",
		"worker appwrite-uploads " + s.Volume("appwrite-uploads") + " /storage/uploads",
	} {
		if !got[want] {
			t.Errorf("VolumeMounts lacks %q; got %v", want, mounts)
		}
	}
	if len(mounts) != 9 {
		t.Errorf("VolumeMounts = %d mounts, want 9 (1 database, 7 appwrite, 1 worker): %v", len(mounts), mounts)
	}
}

func TestComposeProjects(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	projects, err := c.ComposeProjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range projects {
		if i > 0 && projects[i-1].Project >= p.Project {
			t.Errorf("projects not sorted: %s before %s", projects[i-1].Project, p.Project)
		}
		if p.Project != s.Project {
			continue
		}
		if p.WorkingDir != s.Dir {
			t.Errorf("working dir = %q, want %q", p.WorkingDir, s.Dir)
		}
		if got := p.Services(); !slices.Equal(got, []string{teststack.AppService, teststack.DBService, teststack.WorkerService}) {
			t.Errorf("services = %v", got)
		}
		return
	}
	t.Fatalf("the test stack %s is not among the projects", s.Project)
}
