package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/onboard"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// TestInitWritesAConfigThatBacksUp runs dr init on the test stack and backs
// up with the file it wrote, unchanged (only state_dir is moved, through
// the environment, off the machine's /var/lib/dr).
func TestInitWritesAConfigThatBacksUp(t *testing.T) {
	s := stack.Get(t)
	cfg := filepath.Join(t.TempDir(), "etc", "dr.yaml")
	dest := t.TempDir()
	env := map[string]string{"DR_STATE_DIR": filepath.Join(t.TempDir(), "state")}

	out, errOut, code := run(t, env, "init", "--project", s.Project, "--remote", dest, "--out", cfg)
	if code != exitOK {
		t.Fatalf("dr init: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"found compose project " + s.Project + " in " + s.Dir, "docker-compose.yml, .env",
		"skipped    appwrite-mariadb: the database's data directory", "appwrite-uploads", "wrote " + cfg} {
		if !strings.Contains(out, want) {
			t.Errorf("dr init output lacks %q:\n%s", want, out)
		}
	}
	st, err := os.Stat(cfg)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("written config: %v, mode %v", err, st.Mode())
	}
	written, _ := os.ReadFile(cfg)

	if _, errOut, code := run(t, env, "config", "check", "-c", cfg); code != exitOK || strings.Contains(errOut, "warning: volume") {
		t.Fatalf("dr config check of the written file: exit %d\n%s", code, errOut)
	}
	out, errOut, code = run(t, env, "backup", "-c", cfg)
	if code != exitOK {
		t.Fatalf("dr backup with the written config: exit %d\n%s%s", code, out, errOut)
	}
	for _, v := range teststack.Volumes() {
		if v == "appwrite-mariadb" {
			continue
		}
		if !regexp.MustCompile(`volume\s+` + v + `:`).MatchString(out) {
			t.Errorf("the backup lacks volume %s:\n%s", v, out)
		}
	}
	if regexp.MustCompile(`volume\s+appwrite-mariadb`).MatchString(out) {
		t.Errorf("the database's own volume was copied:\n%s", out)
	}

	// No overwrite without --force; with it, the file is replaced.
	_, errOut, code = run(t, env, "init", "--project", s.Project, "--remote", t.TempDir(), "--out", cfg)
	if code != exitUsage || !strings.Contains(errOut, "--force") {
		t.Errorf("dr init over an existing file: exit %d, stderr %s", code, errOut)
	}
	if again, _ := os.ReadFile(cfg); !bytes.Equal(again, written) {
		t.Errorf("dr init without --force changed the file")
	}
	other := t.TempDir()
	// --destination and --write, the flags' first names, still work (deprecated).
	if _, errOut, code = run(t, env, "init", "--project", s.Project, "--destination", other, "--write", cfg, "--force"); code != exitOK {
		t.Errorf("dr init --force: exit %d, stderr %s", code, errOut)
	}
	if again, _ := os.ReadFile(cfg); !bytes.Contains(again, []byte(other)) {
		t.Errorf("dr init --force did not replace the file")
	}
}

// TestOnboardSecondStack: with two stacks up, dr init fails with the list
// (or asks on a terminal); dr doctor on the second one passes, then catches
// a wrong password and a stopped database.
func TestOnboardSecondStack(t *testing.T) {
	first := stack.Get(t)
	second := teststack.Up(t, teststack.Options{Name: "onboard", Services: []string{teststack.DBService}})
	dir := t.TempDir()

	_, errOut, code := run(t, nil, "init", "--out", filepath.Join(dir, "none.yaml"))
	if code != exitUsage || !strings.Contains(errOut, first.Project) || !strings.Contains(errOut, second.Project) || !strings.Contains(errOut, "--project NAME") {
		t.Fatalf("dr init with two stacks on a non-terminal: exit %d, stderr %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.yaml")); err == nil {
		t.Errorf("a failed dr init wrote a file")
	}

	// On a terminal it asks; the answer picks the project.
	cfg := filepath.Join(dir, "dr.yaml")
	var out, errb bytes.Buffer
	a := &app{streams: streams{in: strings.NewReader(second.Project + "\n"), out: &out, err: &errb}, getenv: func(string) string { return "" }}
	if err := runInit(context.Background(), a, initOptions{write: cfg, destination: t.TempDir(), ask: true}); err != nil {
		t.Fatalf("dr init, answering %s: %v\n%s", second.Project, err, errb.String())
	}
	if !strings.Contains(errb.String(), "Which one") || !strings.Contains(out.String(), "found compose project "+second.Project) {
		t.Errorf("the question or the answer is missing:\nstdout %s\nstderr %s", out.String(), errb.String())
	}

	env := map[string]string{"DR_STATE_DIR": filepath.Join(t.TempDir(), "state")}
	stdout, _, code := run(t, env, "doctor", "-c", cfg)
	if code != exitOK {
		t.Fatalf("dr doctor on a fresh dr init: exit %d\n%s", code, stdout)
	}

	second.SQL(t, "ALTER USER 'root'@'localhost' IDENTIFIED BY 'not-the-env-one'; ALTER USER IF EXISTS 'root'@'%' IDENTIFIED BY 'not-the-env-one';")
	stdout, _, code = run(t, env, "doctor", "-c", cfg)
	if code != exitFailed || !regexp.MustCompile(`FAIL\s+database credentials .*Access denied`).MatchString(stdout) || !strings.Contains(stdout, "fix: dr logs in with") {
		t.Errorf("dr doctor with a wrong password: exit %d\n%s", code, stdout)
	}

	second.Compose(t, "stop", teststack.DBService)
	stdout, _, code = run(t, env, "doctor", "-c", cfg)
	if code != exitFailed || !regexp.MustCompile(`FAIL\s+stack .*not running`).MatchString(stdout) || !strings.Contains(stdout, "up -d mariadb") {
		t.Errorf("dr doctor with the database stopped: exit %d\n%s", code, stdout)
	}
}

// TestKeygenAndDoctor makes the identity with dr keygen, proves it with dr
// doctor -i on a good setup, then stages each remaining fault.
func TestKeygenAndDoctor(t *testing.T) {
	s := stack.Get(t)
	key := filepath.Join(t.TempDir(), "key.txt")
	out, errOut, code := run(t, nil, "keygen", "--out", key)
	if code != exitOK {
		t.Fatalf("dr keygen: exit %d, %s", code, errOut)
	}
	recipient := regexp.MustCompile(`age1[0-9a-z]+`).FindString(out)
	if recipient == "" || !strings.Contains(out, "off this host") || !strings.Contains(out, "no encrypted backup can be restored") {
		t.Errorf("dr keygen output:\n%s", out)
	}
	if strings.Contains(out+errOut, "AGE-SECRET-KEY") {
		t.Errorf("dr keygen printed the private key")
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v", err)
	}
	before, _ := os.ReadFile(key)
	if _, errOut, code := run(t, nil, "keygen", "--out", key); code != exitUsage || !strings.Contains(errOut, "never replaces") {
		t.Errorf("dr keygen over an identity: exit %d, %s", code, errOut)
	}
	if after, _ := os.ReadFile(key); !bytes.Equal(before, after) {
		t.Errorf("dr keygen replaced an identity")
	}

	good := fmt.Sprintf("encryption: {recipients: [%s]}\n", recipient)
	cfg, _, _ := stackConfig(t, s, good)
	out, _, code = run(t, nil, "doctor", "-c", cfg, "-i", key)
	if code != exitOK {
		t.Fatalf("dr doctor on a good setup: exit %d\n%s", code, out)
	}
	for _, want := range []string{"OK    engine", "OK    database credentials", "OK    destination local", "an encrypted probe decrypts with", "next "} {
		if !strings.Contains(out, want) {
			t.Errorf("dr doctor output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = run(t, nil, "doctor", "--json", "-c", cfg, "-i", key)
	var report onboard.Report
	if err := json.Unmarshal([]byte(out), &report); err != nil || code != exitOK || len(report.Checks) < 9 {
		t.Errorf("dr doctor --json: exit %d, %v:\n%s", code, err, out)
	}

	roDir := t.TempDir()
	readOnly := remotetest.StartWebDAV(t, roDir, true)
	faults := []struct {
		name   string
		extra  string
		remote string // replaces the local destination
		setup  func(t *testing.T, cfg string)
		expect string
	}{
		{name: "wrong engine socket", extra: good, setup: func(t *testing.T, _ string) { t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") }, expect: `FAIL\s+engine .*nonexistent`},
		{name: "read-only destination", extra: good, remote: readOnly, expect: `FAIL\s+destination local\s+writing probe`},
		{name: "bad recipient", extra: "encryption: {recipients: [age1notakeyatall]}\n", expect: `FAIL\s+encryption .*age1notakeyatall`},
		{name: "world-readable config", extra: good + "notify:\n  - {name: ops, url: \"https://hooks.example.invalid/T0/secret-token\"}\n",
			setup: func(t *testing.T, cfg string) { os.Chmod(cfg, 0o644) }, expect: `FAIL\s+config file .*readable by others`},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			cfg, dest, _ := stackConfig(t, s, f.extra)
			if f.remote != "" {
				body, _ := os.ReadFile(cfg)
				body = bytes.Replace(body, []byte("remote: "+dest), []byte(fmt.Sprintf("remote: %q", f.remote)), 1)
				if err := os.WriteFile(cfg, body, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if f.setup != nil {
				f.setup(t, cfg)
			}
			out, _, code := run(t, nil, "doctor", "-c", cfg, "-i", key)
			if code != exitFailed || !regexp.MustCompile(f.expect).MatchString(out) || !strings.Contains(out, "fix: ") {
				t.Errorf("exit %d, want 1 and %s:\n%s", code, f.expect, out)
			}
			if strings.Contains(out, "secret-token") {
				t.Errorf("dr doctor printed a secret:\n%s", out)
			}
		})
	}
}
