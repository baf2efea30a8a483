package main

import (
	"strings"
	"testing"
)

// TestUnlistedVolumeWarnings: dr config check and dr backup name a volume
// the stack mounts that is neither backed up nor excluded, and say how to
// silence the warning; once excluded, neither warns.
func TestUnlistedVolumeWarnings(t *testing.T) {
	s := stack.Get(t)
	const others = "exclude_volumes: [appwrite-functions, appwrite-builds, appwrite-certificates, appwrite-config, appwrite-sites]"
	cfg, _, _ := stackConfig(t, s, "")
	leftOut := writeConfig(t, strings.Replace(mustRead(t, cfg), "  volumes: []", "  volumes: [appwrite-uploads]\n  "+others, 1))
	const warning = "warning: volume appwrite-imports is mounted by appwrite but is not backed up: add it to stack.volumes to back it up, or to stack.exclude_volumes"

	out, errOut, code := run(t, nil, "config", "check", "--config", leftOut)
	if code != exitOK || !strings.Contains(errOut, warning) || strings.Count(errOut, "is not backed up") != 1 {
		t.Errorf("config check: exit %d, want one warning naming appwrite-imports\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "backup", "--config", leftOut)
	if code != exitOK || !strings.Contains(out, "volume appwrite-imports is mounted by appwrite but is not backed up") || strings.Count(out, "is not backed up") != 1 {
		t.Errorf("backup: exit %d, want its summary to warn of appwrite-imports once\n%s%s", code, out, errOut)
	}

	excluded := writeConfig(t, strings.Replace(mustRead(t, leftOut), "appwrite-sites]", "appwrite-sites, appwrite-imports]", 1))
	out, errOut, code = run(t, nil, "config", "check", "--config", excluded)
	if code != exitOK || strings.Contains(errOut, "is not backed up") || strings.Contains(errOut, "could not check") {
		t.Errorf("config check with the volume excluded: exit %d\n%s%s", code, out, errOut)
	}
}

// TestConfigCheckWithoutEngine: the config is checked, and the mount check
// that needs the engine is skipped with a note, not an error.
func TestConfigCheckWithoutEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	cfg := writeConfig(t, "stack: {dir: /srv/app}\ndestinations: [{name: local, remote: /x}]\n")
	out, errOut, code := run(t, nil, "config", "check", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "is valid") || !strings.Contains(errOut, "could not check which volumes the stack mounts") {
		t.Errorf("config check without an engine: exit %d\n%s%s", code, out, errOut)
	}
}
