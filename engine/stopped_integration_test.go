package engine_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// onFirstWrite calls fire once, at the command's first output: the command
// runs by then.
type onFirstWrite struct {
	once sync.Once
	fire func()
}

func (w *onFirstWrite) Write(p []byte) (int, error) {
	w.once.Do(w.fire)
	return len(p), nil
}

// TestExecInAContainerThatStops: a command whose container is killed, or
// dies and is restarted by its policy, under it fails with an error that
// names the container and says it stopped; exit code 137 alone says
// nothing.
func TestExecInAContainerThatStops(t *testing.T) {
	c := newClient(t)
	// The container's main process ends by itself once /tmp/die exists,
	// removing it first so that a restarted one waits again.
	const main = `while [ ! -e /tmp/die ]; do sleep 0.1; done; rm -f /tmp/die; exit 1`
	tests := []struct {
		name   string
		args   []string // docker run options
		cmd    string   // run by the exec once it started
		stopIt func(t *testing.T, id string)
	}{
		{
			name: "killed",
			cmd:  "sleep 60",
			stopIt: func(t *testing.T, id string) {
				if out, err := exec.Command("docker", "kill", id).CombinedOutput(); err != nil {
					t.Errorf("docker kill: %v %s", err, out)
				}
			},
		},
		{
			name: "died and restarted by its policy",
			args: []string{"--restart", "on-failure"},
			cmd:  "touch /tmp/die; sleep 60",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "-d", "--network", "none", "--entrypoint", "sh"}, tt.args...)
			out, err := exec.Command("docker", append(args, teststack.Image(), "-c", main)...).Output()
			if err != nil {
				t.Fatalf("docker run: %v", err)
			}
			id := strings.TrimSpace(string(out))
			t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "-v", id).Run() })
			name, err := exec.Command("docker", "inspect", "-f", "{{.Name}}", id).Output()
			if err != nil {
				t.Fatal(err)
			}

			stdout := &onFirstWrite{fire: func() {
				if tt.stopIt != nil {
					tt.stopIt(t, id)
				}
			}}
			res, err := c.Exec(context.Background(), id, engine.ExecOptions{
				Cmd:    []string{"sh", "-c", "echo started; " + tt.cmd},
				Stdout: stdout,
			})
			if err == nil {
				err = res.Err("step")
			}
			if err == nil {
				t.Fatal("the command succeeded although its container stopped")
			}
			var stopped *engine.ContainerStoppedError
			if !errors.As(err, &stopped) {
				t.Fatalf("got %v, want a *engine.ContainerStoppedError", err)
			}
			want := "the container " + strings.TrimPrefix(strings.TrimSpace(string(name)), "/")
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		})
	}
}
