package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

func TestContainerEnd(t *testing.T) {
	const before = "2026-11-26T05:00:00.000000001Z"
	start := ExecStart{name: "app-mariadb-1", startedAt: before}
	tests := []struct {
		name  string
		start ExecStart
		state *container.State
		want  string // "" for nil
	}{
		{"still running, same start", start, &container.State{Status: "running", Running: true, StartedAt: before}, ""},
		{"killed", start, &container.State{Status: "exited", ExitCode: 137, StartedAt: before},
			"the container app-mariadb-1 stopped while the command ran (state now: exited, exit code 137)"},
		{"killed for lack of memory", start, &container.State{Status: "exited", ExitCode: 137, OOMKilled: true, StartedAt: before},
			"the container app-mariadb-1 was killed for lack of memory (OOM) while the command ran (state now: exited)"},
		{"being restarted by its policy", start, &container.State{Status: "restarting", Running: true, Restarting: true, StartedAt: before},
			"the container app-mariadb-1 stopped while the command ran (its restart policy is starting it again)"},
		{"restarted by its policy", start, &container.State{Status: "running", Running: true, StartedAt: "2026-11-26T05:00:09Z"},
			"the container app-mariadb-1 restarted while the command ran"},
		{"running, start before unknown", ExecStart{name: "app-mariadb-1"}, &container.State{Status: "running", Running: true, StartedAt: before}, ""},
		{"no state", start, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := containerEnd(tt.start, tt.state)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("containerEnd = %v, want nil", got)
			case tt.want != "" && (got == nil || got.Error() != tt.want):
				t.Errorf("containerEnd = %v, want %q", got, tt.want)
			}
		})
	}
	removed := &ContainerStoppedError{Container: "app-mariadb-1", Removed: true}
	if got := removed.Error(); got != "the container app-mariadb-1 was removed while the command ran" {
		t.Errorf("removed: %q", got)
	}
}

func TestExitErrorOfAStoppedContainer(t *testing.T) {
	stopped := &ContainerStoppedError{Container: "app-mariadb-1", Status: "exited", ExitCode: 137}
	res := ExecResult{ExitCode: 137, Stopped: stopped}
	err := res.Err("dumping the database")
	want := "dumping the database: the container app-mariadb-1 stopped while the command ran (state now: exited, exit code 137); the command exited with code 137"
	if err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
	var got *ContainerStoppedError
	if !errors.As(err, &got) || got != stopped {
		t.Errorf("errors.As finds %v, want the stopped container", got)
	}
	res.Stderr = "mariadb-dump: Error 2013: Lost connection\n"
	if err := res.Err("dumping the database"); !strings.HasSuffix(err.Error(), "exited with code 137: mariadb-dump: Error 2013: Lost connection") {
		t.Errorf("Err() with error output = %v", err)
	}
	// A command that merely failed is not a stopped container.
	plain := (&ExecResult{ExitCode: 2}).Err("dumping the database")
	if errors.As(plain, &got) {
		t.Errorf("errors.As finds a stopped container in %v", plain)
	}
}
