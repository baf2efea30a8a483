package restore

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/storage"
)

// A system-versioned table's history comes back exactly (every row
// version, with its row_start and row_end), over one connection and over
// several, and a view whose table was dropped neither stops the backup
// nor the restore: the backup leaves it out and says so, keeps its
// definition, and the restore says the database lacks it.
func TestVersionedHistoryAndABrokenViewComeBackAsRecorded(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	s.SQL(t, "CREATE DATABASE dr_hist;"+
		"CREATE TABLE dr_hist.t (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB WITH SYSTEM VERSIONING;"+
		"INSERT INTO dr_hist.t VALUES (1,'a'),(2,'b'); UPDATE dr_hist.t SET v='a2' WHERE id=1; UPDATE dr_hist.t SET v='a3' WHERE id=1; DELETE FROM dr_hist.t WHERE id=2;"+
		"CREATE TABLE dr_hist.base (x INT); CREATE VIEW dr_hist.v_ok AS SELECT 1 AS one; CREATE VIEW dr_hist.v_bad AS SELECT x FROM dr_hist.base; DROP TABLE dr_hist.base")
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS dr_hist") })
	const history = "SELECT id, v, row_start, row_end FROM dr_hist.t FOR SYSTEM_TIME ALL ORDER BY row_start, id"
	want := s.SQL(t, history)
	if n := len(strings.Split(strings.TrimSpace(want), "\n")); n != 4 {
		t.Fatalf("the versioned table has %d row versions, want 4:\n%s", n, want)
	}

	res := takeBackup(t, eng, cfg, dests)
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "view dr_hist.v_bad is not in the backup") {
		t.Errorf("no warning about the broken view: %v", res.Warnings)
	}
	db := res.Manifest.Database
	i := slices.IndexFunc(db.Tables, func(tb archive.Table) bool { return tb.Database == "dr_hist" && tb.Name == "t" })
	if i < 0 || !db.Tables[i].Versioned || db.Tables[i].Rows != 4 {
		t.Errorf("manifest tables %+v: want dr_hist.t versioned with its 4 row versions", db.Tables)
	}
	if len(db.Omitted) != 1 || db.Omitted[0].Kind != archive.OmittedView || db.Omitted[0].Name != "v_bad" {
		t.Errorf("omitted = %+v, want the broken view only (the history is dumped)", db.Omitted)
	}
	entries, err := storage.Catalog(context.Background(), dests)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := storage.Choose(entries, storage.Query{Name: res.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), dests, entry, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}

	for _, connections := range []int{1, 4} {
		cfg.Restore.ImportConnections = connections
		// The second restore's safety net is a dump of the live server,
		// broken view and all: it must not stop on the view either.
		if connections > 1 {
			cfg.Restore.SafetyNet = config.SafetyNetDump
		}
		// The crisis: the history rewritten (a new version of row 1 and
		// the deleted row 2 back) and the good view gone; the broken view
		// is there again (the first restore dropped it with its database).
		s.SQL(t, "UPDATE dr_hist.t SET v='x' WHERE id=1; INSERT INTO dr_hist.t VALUES (2,'again'); DROP VIEW dr_hist.v_ok;"+
			"CREATE TABLE dr_hist.base (x INT); CREATE OR REPLACE VIEW dr_hist.v_bad AS SELECT x FROM dr_hist.base; DROP TABLE dr_hist.base")
		r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
		if err != nil {
			t.Fatalf("restore over %d connections: %.2000v", connections, err)
		}
		if got := s.SQL(t, history); got != want {
			t.Errorf("row versions after the restore over %d connections:\n%s\nwant:\n%s", connections, got, want)
		}
		if r.TablesChecked == 0 {
			t.Errorf("the restore over %d connections checked no table's rows", connections)
		}
		if connections > 1 && r.SafetyDump == "" {
			t.Errorf("the restore over %d connections made no safety dump", connections)
		}
		if !strings.Contains(strings.Join(r.Warnings, "\n"), "view dr_hist.v_bad is not in the backup") {
			t.Errorf("the restore does not say the broken view is missing: %v", r.Warnings)
		}
		if got := s.SQL(t, "SELECT table_name FROM information_schema.views WHERE table_schema = 'dr_hist'"); strings.TrimSpace(got) != "v_ok" {
			t.Errorf("views after the restore over %d connections: %q, want v_ok only", connections, got)
		}
	}
}

// A table with transaction-precise versioning makes mariadb-dump's
// --dump-history stop the whole dump: the backup is made without it, and
// names every versioned table as missing its history.
func TestTransactionPreciseVersioningDoesNotStopTheBackup(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	s.SQL(t, "CREATE DATABASE dr_trx;"+
		"CREATE TABLE dr_trx.t (id INT) ENGINE=InnoDB WITH SYSTEM VERSIONING;"+
		"CREATE TABLE dr_trx.trx (id INT, s BIGINT UNSIGNED GENERATED ALWAYS AS ROW START, e BIGINT UNSIGNED GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(s, e)) ENGINE=InnoDB WITH SYSTEM VERSIONING;"+
		"INSERT INTO dr_trx.t VALUES (1); UPDATE dr_trx.t SET id = 2; INSERT INTO dr_trx.trx (id) VALUES (1); UPDATE dr_trx.trx SET id = 2")
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS dr_trx") })

	res := takeBackup(t, eng, cfg, dests)
	var omitted []string
	for _, o := range res.Manifest.Database.Omitted {
		omitted = append(omitted, o.Kind+":"+o.Database+"."+o.Name)
	}
	if want := []string{"history:dr_trx.t", "history:dr_trx.trx"}; !slices.Equal(omitted, want) {
		t.Errorf("omitted = %v, want %v", omitted, want)
	}
	if slices.Contains(res.Manifest.Database.DumpOptions, "--dump-history") {
		t.Errorf("dumped with --dump-history beside a transaction-precise table: %v", res.Manifest.Database.DumpOptions)
	}
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "transaction-precise versioning of dr_trx.trx") {
		t.Errorf("no warning naming the transaction-precise table: %v", res.Warnings)
	}
}
