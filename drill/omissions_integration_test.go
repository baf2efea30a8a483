package drill

import (
	"context"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// A drill of a backup with a versioned table's history and a view left
// out (its table was dropped) passes every check, with the history's row
// versions counted, and its report says what a restore lacks.
func TestDrillOfABackupThatLacksABrokenView(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	s.SQL(t, "CREATE DATABASE dr_gaps;"+
		"CREATE TABLE dr_gaps.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB WITH SYSTEM VERSIONING;"+
		"INSERT INTO dr_gaps.t VALUES (1, 1); UPDATE dr_gaps.t SET v = 2; UPDATE dr_gaps.t SET v = 3;"+
		"CREATE TABLE dr_gaps.base (x INT); CREATE VIEW dr_gaps.v_bad AS SELECT x FROM dr_gaps.base; DROP TABLE dr_gaps.base")
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS dr_gaps") })

	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil || !rep.Passed {
		t.Fatalf("drill: %v, failed %v", err, rep.Failed)
	}
	if len(rep.Lacks) != 1 || !strings.Contains(rep.Lacks[0], "view dr_gaps.v_bad is not in the backup") {
		t.Errorf("report lacks = %q, want the broken view", rep.Lacks)
	}
	for _, c := range rep.Checks {
		if c.Name == CheckViews && !strings.Contains(c.Detail, "missing: dr_gaps.v_bad") {
			t.Errorf("views check %q does not name the view left out", c.Detail)
		}
	}
	if r := readReports(t, cfg, name); len(r) != 1 || len(r[0].Lacks) != 1 {
		t.Errorf("the written report does not carry what the backup lacks: %+v", r)
	}
}
