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

func TestIsLoopbackListen(t *testing.T) {
	for _, tc := range []struct {
		listen   string
		loopback bool
	}{
		{"127.0.0.1:9477", true},
		{"127.0.0.2:9090", true},
		{"[::1]:9090", true},
		{"localhost:9090", true},
		{"LOCALHOST:9090", true},
		{"[::ffff:127.0.0.1]:9090", true},
		{"0.0.0.0:9090", false},
		{"[::]:9090", false},
		{":9090", false},
		{"192.168.1.10:9090", false},
		{"[fe80::1%eth0]:9090", false},
		{"dr.example.invalid:9090", false},
		{"localhost.example.invalid:9090", false},
		{"127.0.0.1", false}, // no port: not an address dr can listen on
	} {
		if got := IsLoopbackListen(tc.listen); got != tc.loopback {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", tc.listen, got, tc.loopback)
		}
	}
}

func TestExposedWithoutTokenProblem(t *testing.T) {
	for _, tc := range []struct {
		listen, tokenFile string
		refused           bool
	}{
		{"127.0.0.1:9477", "", false},
		{"0.0.0.0:9477", "", true},
		{":9477", "", true},
		{"[::]:9477", "/etc/dr/http-token", false},
		{"10.0.0.5:9477", "/etc/dr/http-token", false},
	} {
		c := Default()
		c.HTTP = HTTP{Listen: tc.listen, TokenFile: tc.tokenFile}
		got := c.ExposedWithoutTokenProblem()
		if (got != "") != tc.refused {
			t.Errorf("listen %q, token_file %q: problem %q, want one: %v", tc.listen, tc.tokenFile, got, tc.refused)
		}
		if got != "" && (!strings.Contains(got, "http.token_file") || !strings.Contains(got, tc.listen)) {
			t.Errorf("listen %q: %q does not name the address and the fix", tc.listen, got)
		}
	}
}
