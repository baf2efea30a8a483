package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/remote/remotetest"
)

// TestNoSecretInAnyOutput is defect 6 of issue 10 end to end: remotes
// with credentials (a WebDAV URL with user:password@ and an obscured
// pass=, S3 keys, a WebDAV destination whose password is wrong) go through
// config check, a dry run, backups with debug logs in text and JSON, a
// failing backup, list and verify, run as the built binary so that
// rclone's own log lines are in the output too. No credential may show
// in anything the process prints.
func TestNoSecretInAnyOutput(t *testing.T) {
	s := stack.Get(t)
	bin := filepath.Join(t.TempDir(), "dr")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", bin, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	const wrongPassword = "wrong-secret-pw-4711"
	dav := remotetest.WebDAV(t, t.TempDir(), false).Remote
	obscured := regexp.MustCompile(`pass='([^']+)'`).FindStringSubmatch(dav)
	if obscured == nil {
		t.Fatalf("no obscured password in the test server's remote %q", dav)
	}
	withUser := strings.Replace(dav, "url='http://", "url='http://"+remotetest.User+":"+remotetest.Password+"@", 1)
	bad := regexp.MustCompile(`,user=[^,]*,pass='[^']*'`).ReplaceAllString(
		strings.Replace(dav, "url='http://", "url='http://"+remotetest.User+":"+wrongPassword+"@", 1), "")
	s3 := remotetest.S3(t, t.TempDir()).Remote
	secrets := []string{remotetest.Password, obscured[1], remotetest.S3AccessKey, remotetest.S3SecretKey, wrongPassword}

	cfg := writeConfig(t, fmt.Sprintf(`stack:
  project: %s
  dir: %s
  volumes: []
destinations:
  - {name: local, remote: %q}
  - {name: dav, remote: %q}
  - {name: s3, remote: %q}
  - {name: bad, remote: %q}
notify:
  - {name: ops, url: "https://ops:%s@hooks.example.invalid/x?token=%s"}
archive: {chunk_size: 1MiB}
state_dir: %s
`, s.Project, s.Dir, t.TempDir(), withUser, s3, bad, remotetest.Password, remotetest.S3SecretKey, filepath.Join(t.TempDir(), "state")))

	var all strings.Builder
	drRun := func(args ...string) (string, int) {
		t.Helper()
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "DR_CONFIG="+cfg)
		out, err := c.CombinedOutput()
		fmt.Fprintf(&all, "$ dr %s\n%s\n", strings.Join(args, " "), out)
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}

	if out, code := drRun("config", "check"); code != exitOK || !strings.Contains(out, "pass=<redacted>") || !strings.Contains(out, "secret_access_key=<redacted>") {
		t.Errorf("config check: exit %d, or the remotes are not shown redacted:\n%s", code, out)
	}
	if out, code := drRun("backup", "--dry-run", "-d", "local", "-d", "dav", "-d", "s3"); code != exitOK {
		t.Errorf("backup --dry-run: exit %d\n%s", code, out)
	}
	// Each backup goes to destinations of its own: two runs in one second
	// get the same name (defect 1 of the issue, not this test's subject).
	if out, code := drRun("backup", "--log-level", "debug", "-d", "local"); code != exitOK {
		t.Errorf("backup: exit %d\n%s", code, out)
	}
	if out, code := drRun("backup", "--log-level", "debug", "--log-format", "json", "-d", "dav", "-d", "s3"); code != exitOK || strings.Count(out, "committed (") != 2 {
		t.Errorf("backup with JSON logs: exit %d, want both destinations committed\n%s", code, out)
	}
	if out, code := drRun("backup", "--log-level", "debug", "-d", "bad"); code == exitOK {
		t.Errorf("backup with a wrong password: exit 0\n%s", out)
	}
	if out, code := drRun("list"); !strings.Contains(out, s.Project+"-") {
		t.Errorf("list: exit %d, no backup listed\n%s", code, out)
	}
	drRun("verify", "--latest", "--log-level", "debug")

	for _, secret := range secrets {
		if strings.Contains(all.String(), secret) {
			t.Errorf("the output shows the secret %q:\n%s", secret, all.String())
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("everything dr printed:\n%s", all.String())
	}
}
