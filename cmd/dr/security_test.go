package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/config"
)

// TestConfigCheckWarnsAboutSecretsInTheClear: dr config check says, once
// each, that backups without recipients hold secrets in the clear (local
// destinations included) and that a dr.yaml holding secrets must not be
// readable by others.
func TestConfigCheckWarnsAboutSecretsInTheClear(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const secretNotify = "notify:\n  - {name: ops, url: \"https://hooks.example.invalid/T0/B0/secret-token\"}\n"
	tests := []struct {
		name        string
		extra       string
		mode        os.FileMode
		unencrypted bool
		chmod       bool
	}{
		{"local only, no recipients", "", 0o600, true, false},
		{"encrypted, private file", "encryption: {recipients: [" + id.Recipient().String() + "]}\n", 0o600, false, false},
		{"encrypted, secret in a world-readable file", "encryption: {recipients: [" + id.Recipient().String() + "]}\n" + secretNotify, 0o644, false, true},
		{"secret in a group-readable file", secretNotify, 0o640, true, true},
		{"no secret in a world-readable file", "", 0o644, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "stack: {dir: /root/appwrite}\ndestinations: [{name: local, remote: /var/backups/appwrite}]\n"+tt.extra)
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, errOut, code := run(t, nil, "config", "check", "--config", path)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := strings.Count(errOut, config.Unencrypted); got != btoi(tt.unencrypted) {
				t.Errorf("the unencrypted warning appears %d times, want %d:\n%s", got, btoi(tt.unencrypted), errOut)
			}
			if got := strings.Count(errOut, "chmod 600 "+path); got != btoi(tt.chmod) {
				t.Errorf("the chmod advice appears %d times, want %d:\n%s", got, btoi(tt.chmod), errOut)
			}
		})
	}
}

// TestBackupWarnsAboutAReadableConfig: dr backup warns about a dr.yaml
// that others can read before it does anything else (here it then fails
// to reach an engine, which is not what is tested).
func TestBackupWarnsAboutAReadableConfig(t *testing.T) {
	path := writeConfig(t, "stack: {dir: /srv/app}\ndestinations: [{name: local, remote: "+t.TempDir()+"}]\nstate_dir: "+t.TempDir()+
		"\nnotify:\n  - {name: ops, url: \"https://hooks.example.invalid/T0/B0/secret-token\"}\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "nothing.sock"))
	_, errOut, _ := run(t, nil, "backup", "--config", path)
	if strings.Count(errOut, "chmod 600 "+path) != 1 {
		t.Errorf("dr backup does not warn once about the readable config:\n%s", errOut)
	}
	if strings.Contains(errOut, "secret-token") {
		t.Errorf("the warning printed the secret:\n%s", errOut)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
