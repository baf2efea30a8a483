package config

import (
	"strings"
	"testing"
)

func TestParseClamd(t *testing.T) {
	tests := []struct {
		in         string
		kind, addr string
		err        string
	}{
		{"unix:/run/clamav/clamd.ctl", ClamdUnix, "/run/clamav/clamd.ctl", ""},
		{"/run/clamav/clamd.ctl", ClamdUnix, "/run/clamav/clamd.ctl", ""},
		{"/tmp/odd:name.sock", ClamdUnix, "/tmp/odd:name.sock", ""},
		{"unix:run/clamd.ctl", "", "", "ABSOLUTE"},
		{"tcp:127.0.0.1:3310", ClamdTCP, "127.0.0.1:3310", ""},
		{"tcp:127.8.0.1:3310", ClamdTCP, "127.8.0.1:3310", ""},
		{"tcp:[::1]:3310", ClamdTCP, "[::1]:3310", ""},
		{"tcp:localhost:3310", ClamdTCP, "localhost:3310", ""},
		{"tcp:10.0.0.5:3310", "", "", "must listen on loopback"},
		{"tcp:clamav:3310", "", "", "must listen on loopback"},
		{"tcp:127.0.0.1", "", "", "tcp:HOST:PORT"},
		{"tcp:127.0.0.1:99999", "", "", "port"},
		{"container:clamav", ClamdContainer, "clamav", ""},
		{"container:", "", "", "container:SERVICE"},
		{"container:a/b", "", "", "container:SERVICE"},
		{"http://127.0.0.1:3310", "", "", "want unix"},
		{"clamd.ctl", "", "", "ABSOLUTE"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseClamd(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseClamd(%q) = %v, %v; want an error with %q", tt.in, a, err, tt.err)
				}
				return
			}
			if err != nil || a.Kind != tt.kind || a.Target != tt.addr {
				t.Fatalf("ParseClamd(%q) = %+v, %v; want %s %s", tt.in, a, err, tt.kind, tt.addr)
			}
		})
	}
}

func TestScanErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml string
		key        string
		line       int
		msg        string
	}{
		{"not loopback", minimal + "scan:\n  clamd: tcp:192.168.1.5:3310\n", "scan.clamd", 7, "loopback"},
		{"relative socket", minimal + "scan: {clamd: clamd.ctl}\n", "scan.clamd", 6, "ABSOLUTE"},
		{"volume not backed up", minimal + "scan:\n  clamd: /run/clamd.ctl\n  volumes: [appwrite-uploads, other]\n", "scan.volumes[1]", 0, "not in stack.volumes"},
		{"no volume", minimal + "scan:\n  clamd: /run/clamd.ctl\n  volumes: []\n", "scan.volumes", 8, "at least one volume"},
		{"volume twice", minimal + "scan:\n  volumes: [appwrite-uploads, appwrite-uploads]\n", "scan.volumes[1]", 0, "listed twice"},
		{"unknown key", minimal + "scan:\n  clamav: /run/clamd.ctl\n", "scan.clamav", 7, "did you mean clamd?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "dr.yaml", noEnv)
			if err == nil {
				t.Fatal("accepted")
			}
			keyError(t, err, tt.key, tt.line, tt.msg)
		})
	}
}

func TestScanDefaultsAndEnv(t *testing.T) {
	cfg, err := Parse([]byte(minimal), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Scan.Enabled() || len(cfg.Scan.Volumes) != 1 || cfg.Scan.Volumes[0] != "appwrite-uploads" {
		t.Errorf("default scan = %+v, want off with appwrite-uploads", cfg.Scan)
	}
	cfg, err = Parse([]byte(minimal), "dr.yaml", func(k string) string {
		if k == "DR_SCAN_CLAMD" {
			return "tcp:127.0.0.1:3310"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := cfg.Scan.Address(); err != nil || a.Kind != ClamdTCP {
		t.Errorf("DR_SCAN_CLAMD: %+v %v", a, err)
	}
	_, err = Parse([]byte(minimal), "dr.yaml", func(k string) string {
		if k == "DR_SCAN_CLAMD" {
			return "tcp:10.1.1.1:3310"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "DR_SCAN_CLAMD") {
		t.Errorf("a bad DR_SCAN_CLAMD: got %v, want an error naming the variable", err)
	}
}
