package drill

import (
	"context"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestBackupWithGrantsPassesTheDrill is issue 21's item 3 on a fresh
// server: the drill imports into a new container of the production
// image, which has accounts of its own (root, mariadb.sys), as a new host
// after a server loss does. The backup's own account comes back.
func TestBackupWithGrantsPassesTheDrill(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Stack.Database.IncludeGrants = true
	s.SQL(t, "CREATE USER 'dr_drill_reader'@'%' IDENTIFIED BY 'reader-pw'; GRANT SELECT ON appwrite.* TO 'dr_drill_reader'@'%'")
	t.Cleanup(func() { s.SQL(t, "DROP USER IF EXISTS 'dr_drill_reader'@'%'") })
	cfg.Drill.Queries = []config.DrillQuery{
		{Name: "account back", SQL: "SELECT COUNT(*) FROM mysql.user WHERE user = 'dr_drill_reader' AND authentication_string = PASSWORD('reader-pw')", Expect: "1"},
	}
	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil || !rep.Passed {
		t.Fatalf("the drill of a backup with its grants failed (%v): %v", rep.Failed, err)
	}
	assertNothingLeft(t, eng, cfg)
}
