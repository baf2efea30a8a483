package runbook

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// CLICompose runs the compose command line: the docker compose plugin, or
// the docker-compose program where the plugin is missing.
type CLICompose struct{}

// Up runs compose up -d for the services (all when none) of the project
// whose docker-compose.yml and .env are in dir.
func (CLICompose) Up(ctx context.Context, dir, project string, services ...string) error {
	args := append([]string{"-p", project, "up", "-d"}, services...)
	name, base := composeCommand(ctx)
	cmd := exec.CommandContext(ctx, name, append(base, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(append(base, args...), " "), dir, err, lastLines(string(out), 8))
	}
	return nil
}

// composeCommand prefers the plugin ("docker compose"), as current Docker
// installs have it; older hosts (and Debian's packages) have docker-compose.
func composeCommand(ctx context.Context) (string, []string) {
	if err := exec.CommandContext(ctx, "docker", "compose", "version").Run(); err == nil {
		return "docker", []string{"compose"}
	}
	return "docker-compose", nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
