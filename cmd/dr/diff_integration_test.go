package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/forensics"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// The values of the .env key the attacker changes: neither may ever show.
const (
	attackedKey  = "_APP_OPENSSL_KEY_V1"
	attackerSets = "attacker-chosen-key-4f1d9e"
)

// TestDiffReportsWhatAnAttackerChanged: after a backup, an attacker adds
// a user row, a trigger, a database account, a file in uploads and
// changes an .env key; dr diff --live reports exactly those, and a second
// backup compared with the first reports them too. The .env values are in
// no output.
func TestDiffReportsWhatAnAttackerChanged(t *testing.T) {
	s := stack.Get(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, _ := stackConfig(t, s, fmt.Sprintf("encryption: {recipients: [%s]}\n", id.Recipient()))
	body := strings.Replace(mustReadFile(t, cfg), "  volumes: []", "  volumes: [appwrite-uploads, appwrite-config]", 1)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DR_IDENTITY": keyFile}

	first := backupName(t, cfg, env)
	out, errOut, code := run(t, env, "diff", first, "--live", "--config", cfg)
	if code != exitOK || !strings.HasSuffix(out, "no differences\n") {
		t.Fatalf("diff of a fresh backup with the stack it came from: exit %d\n%s%s", code, out, errOut)
	}

	oldEnv := mustReadFile(t, s.EnvFile())
	attack(t, s, oldEnv)

	out, errOut, code = run(t, env, "diff", first, "--live", "--config", cfg)
	if code != exitDiffers {
		t.Fatalf("diff after the attack: exit %d, want %d\n%s%s", code, exitDiffers, out, errOut)
	}
	wantLines := []string{
		"dr diff " + first + " -> live",
		"~ volume appwrite-uploads: 1 added, 0 removed, 0 changed",
		"    + app-console/bucket1/shell.php",
		"~ table appwrite._1_users: rows 1000 -> 1001 (+1)",
		"+ trigger appwrite._1_sessions_copy",
		"+ user backdoor@%",
		"~ .env " + attackedKey + " (value changed; values are never shown)",
		"5 differences",
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !reflect.DeepEqual(got, wantLines) {
		t.Errorf("dr diff --live printed\n%s\nwant exactly\n%s", out, strings.Join(wantLines, "\n"))
	}
	assertNoEnvValue(t, out+errOut, oldEnv)

	out, errOut, code = run(t, env, "diff", first, "--live", "--json", "--config", cfg)
	if code != exitDiffers {
		t.Fatalf("diff --json: exit %d\n%s", code, errOut)
	}
	var rep forensics.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("diff --json printed %q: %v", out, err)
	}
	wantCounts := map[string]int{"volume entries": 1, "tables": 1, "objects": 1, "users": 1, "env keys": 1}
	if !reflect.DeepEqual(rep.Counts, wantCounts) || rep.Env == nil || !reflect.DeepEqual(rep.Env.Changed, []string{attackedKey}) {
		t.Errorf("diff --json counts %v, env %+v", rep.Counts, rep.Env)
	}
	assertNoEnvValue(t, out, oldEnv)

	// A backup taken after the attack holds the same changes.
	second := backupName(t, cfg, env)
	out, errOut, code = run(t, env, "diff", first, second, "--config", cfg)
	if code != exitDiffers {
		t.Fatalf("diff of two backups: exit %d\n%s%s", code, out, errOut)
	}
	wantLines[0] = "dr diff " + first + " -> " + second
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !reflect.DeepEqual(got, wantLines) {
		t.Errorf("dr diff A B printed\n%s\nwant exactly\n%s", out, strings.Join(wantLines, "\n"))
	}
	assertNoEnvValue(t, out+errOut, oldEnv)

	_, errOut, code = run(t, nil, "diff", first, "--live", "--config", cfg)
	if code != exitDiffTrouble || !strings.Contains(errOut, "--identity") {
		t.Errorf("diff of an encrypted backup without a key: exit %d, stderr %s", code, errOut)
	}
	_, errOut, code = run(t, env, "diff", first, "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, "--live") {
		t.Errorf("diff with one backup and no --live: exit %d, stderr %s", code, errOut)
	}
}

// attack makes the changes the test expects dr diff to find, and puts the
// shared stack back when the test ends.
func attack(t *testing.T, s *teststack.Stack, oldEnv string) {
	t.Helper()
	t.Cleanup(func() {
		s.SQL(t, "DELETE FROM appwrite._1_users WHERE _uid = 'attacker'; DROP TRIGGER IF EXISTS appwrite._1_sessions_copy; DROP USER IF EXISTS 'backdoor'@'%'")
		s.Exec(t, "appwrite", "rm -f /storage/uploads/app-console/bucket1/shell.php")
		if err := os.WriteFile(s.EnvFile(), []byte(oldEnv), 0o600); err != nil {
			t.Error(err)
		}
	})
	s.SQL(t, "INSERT INTO appwrite._1_users (_uid, name, email) VALUES ('attacker', 'Mallory', 'mallory@example.test')")
	s.SQL(t, "CREATE TRIGGER appwrite._1_sessions_copy AFTER INSERT ON appwrite._1_sessions FOR EACH ROW SET @stolen = NEW.userId")
	s.SQL(t, "CREATE USER 'backdoor'@'%' IDENTIFIED BY 'x'")
	s.Exec(t, "appwrite", `printf '<?php system($_GET["c"]);\n' > /storage/uploads/app-console/bucket1/shell.php && chown 33:33 /storage/uploads/app-console/bucket1/shell.php`)
	var lines []string
	for _, l := range strings.Split(oldEnv, "\n") {
		if strings.HasPrefix(l, attackedKey+"=") {
			l = attackedKey + "=" + attackerSets
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(s.EnvFile(), []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// assertNoEnvValue fails when a secret of the .env (its keys, passwords
// and secrets), or the attacker's value, shows in out.
func assertNoEnvValue(t *testing.T, out, envFile string) {
	t.Helper()
	values := []string{attackerSets}
	for _, l := range strings.Split(envFile, "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok && v != "" && (strings.Contains(k, "KEY") || strings.Contains(k, "PASS") || strings.Contains(k, "SECRET")) {
			values = append(values, v)
		}
	}
	for _, v := range values {
		if strings.Contains(out, v) {
			t.Errorf("the output shows an .env value (%d bytes)", len(v))
		}
	}
}

// backupName runs dr backup and returns the name of the newest backup.
func backupName(t *testing.T, cfg string, env map[string]string) string {
	t.Helper()
	out, errOut, code := run(t, env, "backup", "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr backup: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, env, "list", "--json", "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr list: exit %d: %s", code, errOut)
	}
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) == 0 {
		t.Fatalf("dr list --json printed %q: %v", out, err)
	}
	return listed[0].Name
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
