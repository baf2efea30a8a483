package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// run executes dr in-process as an operator would call it.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runAt(t, nil, env, args...)
}

// runAt is run with the use cases' clock set to now (nil: the wall clock).
func runAt(t *testing.T, now func() time.Time, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code = executeAt(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errb}, getenv, now)
	return out.String(), errb.String(), code
}

// skewClock is the wall clock moved forward by what a test skipped.
// Backup names carry seconds: skipping a second names the next backup
// apart from the last one without waiting for the wall clock to turn.
type skewClock struct{ skew atomic.Int64 }

func (c *skewClock) now() time.Time       { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *skewClock) skip(d time.Duration) { c.skew.Add(int64(d)) }

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dr.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, nil, "version")
	if code != exitOK || !strings.HasPrefix(out, "dr ") || !strings.Contains(out, "commit ") || !strings.Contains(out, "go1.") {
		t.Errorf("dr version = %q (exit %d)", out, code)
	}
}

func TestConfigCheck(t *testing.T) {
	good := writeConfig(t, `stack: {dir: /root/appwrite}
destinations:
  - name: local
    remote: /var/backups/appwrite
notify:
  - {name: ops, url: "https://hooks.example.invalid/T0/B0/secret-token"}
`)
	out, errOut, code := run(t, nil, "config", "check", "--config", good)
	if code != exitOK {
		t.Fatalf("valid config: exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"is valid", "state_dir: /var/lib/dr", "keep_daily: 14", "chunk_size: 64MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-token") {
		t.Errorf("config check printed a secret:\n%s", out)
	}

	bad := writeConfig(t, "stack:\n  dir: /root/appwrite\n  database: {servce: db}\ndestinations: [{name: local, remote: /x}]\n")
	_, errOut, code = run(t, nil, "config", "check", "--config", bad)
	if code != exitUsage {
		t.Errorf("broken config: exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errOut, "dr.yaml:3: stack.database.servce: unknown key (did you mean service?)") {
		t.Errorf("broken config: stderr does not name the key and line:\n%s", errOut)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	good := writeConfig(t, "stack: {dir: /srv/app}\ndestinations: [{name: local, remote: /x}]\n")
	out, errOut, code := run(t, map[string]string{"DR_CONFIG": good, "DR_STATE_DIR": "/srv/dr-state"}, "config", "check")
	if code != exitOK || !strings.Contains(out, "state_dir: /srv/dr-state") {
		t.Errorf("DR_CONFIG and DR_STATE_DIR: exit %d, out %s, err %s", code, out, errOut)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"version", "--no-such-flag"},
		{"version", "extra-arg"},
		{"--log-format", "xml", "version"},
		{"--log-level", "loud", "version"},
	} {
		_, errOut, code := run(t, nil, args...)
		if code != exitUsage {
			t.Errorf("dr %v: exit %d, want %d (stderr %s)", args, code, exitUsage, errOut)
		}
	}
}

func TestMissingConfigNamesThePlacesTried(t *testing.T) {
	t.Chdir(t.TempDir())
	_, errOut, code := run(t, nil, "config", "check")
	if code != exitUsage || !strings.Contains(errOut, "/etc/dr/dr.yaml") {
		t.Errorf("no config: exit %d, stderr %s", code, errOut)
	}
}

// Each command's help ends with the exit codes it can return, and only
// those: a command that takes no lock does not list 3, one that writes to
// no destination does not list 4.
func TestHelpEndsWithExitStatus(t *testing.T) {
	for _, tc := range []struct {
		cmd  []string
		want []int
	}{
		{[]string{"backup"}, []int{0, 1, 2, 3, 4, 130}},
		{[]string{"prune"}, []int{0, 1, 2, 3, 4, 130}},
		{[]string{"pin"}, []int{0, 1, 2, 4, 130}},
		{[]string{"unpin"}, []int{0, 1, 2, 4, 130}},
		{[]string{"restore"}, []int{0, 1, 2, 3, 130}},
		{[]string{"drill"}, []int{0, 1, 2, 3, 130}},
		{[]string{"drill", "cleanup"}, []int{0, 1, 2, 3, 130}},
		{[]string{"list"}, []int{0, 1, 2, 130}},
		{[]string{"verify"}, []int{0, 1, 2, 130}},
		{[]string{"config"}, []int{0, 1, 2, 130}},
		{[]string{"daemon"}, []int{0, 1, 2}},
	} {
		out, _, code := run(t, nil, append(tc.cmd, "--help")...)
		_, table, ok := strings.Cut(out, "\nExit status:\n")
		if code != exitOK || !ok {
			t.Errorf("dr %v --help lacks the exit status table:\n%s", tc.cmd, out)
			continue
		}
		var got []int
		for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
			var c int
			if _, err := fmt.Sscan(strings.TrimSpace(line), &c); err == nil {
				got = append(got, c)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("dr %v --help lists exit codes %v, want %v:\n%s", tc.cmd, got, tc.want, table)
		}
	}
	out, _, _ := run(t, nil, "status", "--help")
	if !strings.Contains(out, "1    unhealthy") {
		t.Errorf("dr status --help lacks its own meaning of 1:\n%s", out)
	}
}

func TestCompletion(t *testing.T) {
	out, _, code := run(t, nil, "completion", "bash")
	if code != exitOK || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: exit %d, %.80q", code, out)
	}
}

func TestNoEngineIsOneClearLine(t *testing.T) {
	cfg := writeConfig(t, "stack: {dir: /srv/app}\ndestinations: [{name: local, remote: "+t.TempDir()+"}]\nstate_dir: "+t.TempDir()+"\n")
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "nothing.sock"))
	_, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitFailed {
		t.Errorf("no engine: exit %d, want %d", code, exitFailed)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.Contains(errOut, "cannot reach the Docker engine") || !strings.Contains(errOut, "DOCKER_HOST") {
		t.Errorf("no engine: want one line naming the problem and the fix, got:\n%s", errOut)
	}
}

// TestDocsShowTheExampleConfig keeps the annotated dr.yaml of
// docs/configuration.md equal to the one the config package checks
// against its defaults.
func TestDocsShowTheExampleConfig(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(config.Example)+"```") {
		t.Error("docs/configuration.md does not show config/dr.example.yaml verbatim; paste it in")
	}
}

func TestRestoreCommandLineIsExact(t *testing.T) {
	plan := &restore.Plan{Backup: storage.CatalogEntry{Name: "app-20261125T080000Z.tar.zst"}, Parts: []string{"db", "volumes"}}
	for _, tc := range []struct {
		opts restoreOptions
		cfg  string
		want string
	}{
		{cfg: "/etc/dr/dr.yaml", want: "dr restore app-20261125T080000Z.tar.zst --only db,volumes --config /etc/dr/dr.yaml --yes"},
		{opts: restoreOptions{volumes: []string{"appwrite-uploads"}, merge: true, identity: "/root/my key.txt", noSafetyDump: true},
			want: "dr restore app-20261125T080000Z.tar.zst --only db,volumes --volume appwrite-uploads --merge -i '/root/my key.txt' --no-safety-dump --yes"},
		{opts: restoreOptions{targetDir: "/srv/it's", destinations: []string{"offsite"}},
			want: `dr restore app-20261125T080000Z.tar.zst --only db,volumes --target-dir '/srv/it'\''s' -d offsite --yes`},
	} {
		if got := restoreCommand(plan, tc.opts, tc.cfg); got != tc.want {
			t.Errorf("restoreCommand(%+v) =\n %s\nwant\n %s", tc.opts, got, tc.want)
		}
	}
}

// TestDaemonRefusesAnOpenStatusPage: http.listen on every interface
// without http.token_file stops dr daemon before it binds anything or
// talks to the engine (the context is cancelled, so a daemon that went on
// would stop at once rather than serve), while dr config check, which
// every other command's loading shares, still accepts the file.
func TestDaemonRefusesAnOpenStatusPage(t *testing.T) {
	path := writeConfig(t, "stack: {dir: /root/appwrite}\ndestinations: [{name: local, remote: "+t.TempDir()+"}]\nstate_dir: "+t.TempDir()+"\nhttp: {listen: \"0.0.0.0:0\"}\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := execute(ctx, []string{"daemon", "--config", path}, streams{in: strings.NewReader(""), out: &out, err: &errb}, func(string) string { return "" })
	if code != exitUsage || !strings.Contains(errb.String(), "http.listen 0.0.0.0:0 can be reached from other hosts") || !strings.Contains(errb.String(), "http.token_file") {
		t.Errorf("dr daemon with an open status page: exit %d, stderr:\n%s", code, errb.String())
	}
	_, errOut, code := run(t, nil, "config", "check", "--config", path)
	if code != exitOK || !strings.Contains(errOut, "warning: dr daemon will refuse to start") {
		t.Errorf("dr config check: exit %d, stderr:\n%s", code, errOut)
	}
}
