package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// pgStack is the PostgreSQL test stack the command tests share, started
// by the first that needs it; a test that changes it puts it back.
var pgStack = teststack.NewShared(teststack.Options{Name: "cmdpg", Engine: teststack.PostgreSQL})

// TestPostgresInitDoctorBackup: on an Appwrite stack that runs
// PostgreSQL, dr init writes a config that works unchanged, dr doctor
// passes but warns about Appwrite's fsync=off, and dr backup records the
// engine.
func TestPostgresInitDoctorBackup(t *testing.T) {
	s := pgStack.Get(t)
	cfg := filepath.Join(t.TempDir(), "dr.yaml")
	env := map[string]string{"DR_STATE_DIR": filepath.Join(t.TempDir(), "state")}
	out, errOut, code := run(t, env, "init", "--project", s.Project, "--remote", t.TempDir(), "--out", cfg)
	if code != exitOK {
		t.Fatalf("dr init: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "skipped    appwrite-postgresql: the database's data directory") {
		t.Errorf("dr init did not leave the database's volume out:\n%s", out)
	}

	out, _, code = run(t, env, "doctor", "-c", cfg)
	if code != exitOK {
		t.Fatalf("dr doctor: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`OK\s+database credentials`).MatchString(out) ||
		!regexp.MustCompile(`WARN\s+database durability .*fsync=off and full_page_writes=off`).MatchString(out) ||
		!strings.Contains(out, "remove -c fsync=off") {
		t.Errorf("dr doctor on Appwrite's PostgreSQL settings:\n%s", out)
	}

	out, errOut, code = run(t, env, "backup", "-c", cfg, "--dry-run", "--json")
	var plan struct {
		Kind      string   `json:"kind"`
		Client    string   `json:"client"`
		Databases []string `json:"databases"`
	}
	if err := json.Unmarshal([]byte(out), &plan); code != exitOK || err != nil {
		t.Fatalf("dr backup --dry-run --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if plan.Kind != "postgresql" || plan.Client != "pg_dump" || strings.Join(plan.Databases, ",") != "appwrite,appwrite_logs" {
		t.Errorf("dr backup --dry-run --json: %s", out)
	}

	out, errOut, code = run(t, env, "backup", "-c", cfg, "--json")
	if code != exitOK {
		t.Fatalf("dr backup: exit %d\n%s%s", code, out, errOut)
	}
	var doc struct {
		Tables int   `json:"tables"`
		Rows   int64 `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("dr backup --json: %v\n%s", err, out)
	}
	var rows int64
	for _, n := range teststack.SeedPostgresRows() {
		rows += int64(n)
	}
	if doc.Tables != len(teststack.SeedPostgresRows()) || doc.Rows != rows {
		t.Errorf("dr backup --json: %d tables, %d rows, want %d and %d\n%s", doc.Tables, doc.Rows, len(teststack.SeedPostgresRows()), rows, out)
	}
}
