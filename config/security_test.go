package config

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFileModeWarning(t *testing.T) {
	tests := []struct {
		mode    fs.FileMode
		secrets bool
		warn    bool
	}{
		{0o600, true, false},
		{0o400, true, false},
		{0o640, true, true},
		{0o604, true, true},
		{0o644, true, true},
		{0o644, false, false},
		{0o777, false, false},
	}
	for _, tt := range tests {
		got := fileModeWarning("/etc/dr/dr.yaml", tt.mode, tt.secrets)
		if (got != "") != tt.warn {
			t.Errorf("mode %04o, secrets %v: warning %q, want one: %v", tt.mode, tt.secrets, got, tt.warn)
		}
		if got != "" && !strings.Contains(got, "chmod 600 /etc/dr/dr.yaml") {
			t.Errorf("mode %04o: %q does not say how to fix it", tt.mode, got)
		}
	}
}

func TestHoldsSecrets(t *testing.T) {
	c := Default()
	if c.holdsSecrets() {
		t.Error("the default config holds no secret")
	}
	c.Notify = []Notify{{Name: "ops", URL: "https://hooks.example.invalid/T0/B0/secret-token"}}
	if !c.holdsSecrets() {
		t.Error("a notification URL with a token is a secret")
	}
}
