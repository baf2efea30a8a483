package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestPostgresRestoreCommands: on a PostgreSQL stack, dr restore
// --dry-run, dr restore --only db, dr aside list, undo and drop run the
// same commands as on MariaDB, the databases renamed aside.
func TestPostgresRestoreCommands(t *testing.T) {
	teststack.Extended(t)
	s := pgStack.Get(t)
	cfg := writeConfig(t, fmt.Sprintf(`stack:
  project: %s
  dir: %s
  volumes: []
  database: {service: %s}
destinations:
  - name: local
    remote: %s
archive: {chunk_size: 1MiB}
state_dir: %s
`, s.Project, s.Dir, teststack.PGService, t.TempDir(), filepath.Join(t.TempDir(), "state")))
	t.Cleanup(func() {
		for _, n := range strings.Fields(s.PSQL(t, "postgres", `SELECT datname FROM pg_database WHERE starts_with(datname, 'dr_aside_')`)) {
			s.PSQL(t, "postgres", `DROP DATABASE "`+n+`" WITH (FORCE)`)
		}
	})
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	out, errOut, code := run(t, nil, "restore", "--latest", "--dry-run", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "the current databases are moved aside first") || !strings.Contains(out, "dry run: nothing was changed") {
		t.Errorf("restore --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "imported;") || !strings.Contains(out, "moved aside") || !strings.Contains(out, "undo: dr restore --undo") {
		t.Fatalf("restore --only db --yes: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "list", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "dr_aside_appwrite_") || !strings.Contains(out, "dr_aside_appwrite_logs_") {
		t.Errorf("aside list: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "list", "--json", "--config", cfg)
	var listed []asideSchemaJSON
	if err := json.Unmarshal([]byte(out), &listed); code != exitOK || err != nil || len(listed) != 2 || !listed[0].Mine || listed[0].Tables == 0 || !listed[0].Complete {
		t.Errorf("aside list --json: exit %d, %v: %+v\n%s%s", code, err, listed, out, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "undo", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "undone: appwrite, appwrite_logs are as they were") {
		t.Errorf("aside undo --yes: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg); code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "drop", "all", "--yes", "--config", cfg)
	if code != exitOK || strings.Count(out, "dropped dr_aside_") != 2 {
		t.Errorf("aside drop all: exit %d\n%s%s", code, out, errOut)
	}
}
