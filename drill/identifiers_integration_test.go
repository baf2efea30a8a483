package drill

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/mariadb"
)

// TestDrillOfEveryIdentifier: a backup of tables, a view and a trigger
// whose names hold every kind of character MariaDB accepts (dumpsplit's
// testdata/identifiers.setup.sql: a newline, a backtick, quotes, a
// backslash, "--", "/*", ";", a dot, …) drills clean: imported over the
// default three connections, every table's rows, the view and the
// trigger found by name.
func TestDrillOfEveryIdentifier(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	setupSQL, err := os.ReadFile("../restore/dumpsplit/testdata/identifiers.setup.sql")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "exec", "-i", s.ContainerID(t, teststack.DBService), "sh", "-c",
		`MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}" exec mariadb -uroot --binary-mode --default-character-set=utf8mb4`)
	cmd.Stdin = bytes.NewReader(setupSQL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the databases: %v: %s", err, out)
	}
	databases := []string{"app", "d\nb", "d.b"}
	t.Cleanup(func() {
		for _, db := range databases {
			s.SQL(t, "DROP DATABASE IF EXISTS "+mariadb.QuoteIdent(db))
		}
	})
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Stack.Database.Databases = databases
	if cfg.Restore.ImportConnections != 3 {
		t.Fatalf("the default import_connections is %d; this test means the parallel import", cfg.Restore.ImportConnections)
	}
	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil || len(rep.Failed) > 0 {
		t.Fatalf("the drill failed (%v): %v", rep.Failed, err)
	}
	assertNothingLeft(t, eng, cfg)
}
