package restore

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/sakila"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/dumpsplit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// loadSakila loads the Sakila sample database (views, triggers, routines,
// a spatial column, BLOBs, foreign keys) into the shared stack as sakila,
// for the rest of the test. CI always has the dataset; elsewhere the test
// skips, naming where it looked.
func loadSakila(t *testing.T, s *teststack.Stack) {
	t.Helper()
	schema, data := sakila.Files(t)
	cmd := exec.Command("docker", "exec", "-i", s.ContainerID(t, teststack.DBService), "sh", "-c",
		`MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}" exec mariadb -uroot`)
	cmd.Stdin = bytes.NewReader(append(append(schema, '\n'), data...))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("loading sakila: %v: %s", err, out)
	}
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS sakila") })
}

// makeManyTables makes an Appwrite-shaped database of n collection tables
// of mixed sizes, one of them larger than a connection's buffer so that
// it streams through.
func makeManyTables(t *testing.T, s *teststack.Stack, db string, n int) {
	t.Helper()
	var q strings.Builder
	fmt.Fprintf(&q, "CREATE DATABASE %s; USE %s;\n", db, db)
	for i := 1; i <= n; i++ {
		rows := (i * 37) % 300
		if i == n/2 {
			rows = 30000 // ~9 MiB: more than feedCap
		}
		fmt.Fprintf(&q, "CREATE TABLE _1_collection_%d (_id INT AUTO_INCREMENT PRIMARY KEY, _uid VARCHAR(255) NOT NULL, _createdAt DATETIME(3), _permissions TEXT, title VARCHAR(255), body LONGTEXT, blob_data BLOB, UNIQUE KEY (_uid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n", i)
		if rows > 0 {
			fmt.Fprintf(&q, "INSERT INTO _1_collection_%d (_uid, _createdAt, _permissions, title, body, blob_data) SELECT CONCAT('doc', seq), '2026-11-25 08:00:00.000' + INTERVAL seq SECOND, '[\"read(\\\"any\\\")\"]', CONCAT('Title ''', seq, ''' ;\\n--\\n-- Table structure for table `x`\\n--\\n'), REPEAT(CONCAT('body ', seq, ' '), 25), UNHEX(CONCAT('00275C29', HEX(seq))) FROM seq_1_to_%d;\n", i, rows)
		}
	}
	s.SQL(t, q.String())
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS "+db) })
}

// TestSplitSakilaDump: the splitter's cut of a real mariadb-dump of
// Sakila, against a golden list of its sections (go test -run
// TestSplitSakilaDump ./restore -update rewrites it).
func TestSplitSakilaDump(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	loadSakila(t, s)
	var dump bytes.Buffer
	srv := mariadb.New(eng, s.ContainerID(t, teststack.DBService))
	if err := srv.Dump(context.Background(), mariadb.DumpArgs([]string{"sakila"}, false), &dump); err != nil {
		t.Fatal(err)
	}
	secs := sectionsOf(t, dump.String())
	var got strings.Builder
	var all strings.Builder
	for _, sec := range secs {
		all.WriteString(sec.data)
		switch sec.Kind {
		case dumpsplit.Table:
			fmt.Fprintf(&got, "table %s.%s\n", sec.Database, sec.Table)
			if !strings.Contains(sec.data, "CREATE TABLE `"+sec.Table+"`") || !strings.Contains(sec.data, "UNLOCK TABLES;") {
				t.Errorf("the section of %s lacks its CREATE TABLE or its rows", sec.Table)
			}
		default:
			fmt.Fprintf(&got, "%s\n", sec.Kind)
		}
	}
	if all.String() != dump.String() {
		t.Fatal("the sections' bytes are not the dump")
	}
	// Each trigger is in its own table's section.
	for _, sec := range secs {
		if sec.Kind != dumpsplit.Table {
			continue
		}
		for _, trig := range []string{"customer_create_date", "ins_film", "upd_film", "del_film", "payment_date", "rental_date"} {
			if strings.Contains(sec.data, "TRIGGER `"+trig+"`") && !strings.Contains(sec.data, "ON `"+sec.Table+"`") {
				t.Errorf("trigger %s is in the section of %s", trig, sec.Table)
			}
		}
	}
	golden := filepath.Join("testdata", "sakila-sections.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestSplitSakilaDump ./restore -update writes it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("sections of the sakila dump:\n%s\nwant (%s):\n%s", got.String(), golden, want)
	}
}

// TestParallelRestoreMatchesSerial: restoring a backup of Sakila and of a
// database of many collection tables over one connection and over three
// gives the same tables, checksum for checksum, and the same views,
// triggers and routines.
func TestParallelRestoreMatchesSerial(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	loadSakila(t, s)
	makeManyTables(t, s, "dr_many", 60)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Stack.Database.Databases = []string{"sakila", "dr_many"}
	t.Cleanup(func() { dropAllAside(t, s) })
	type state struct {
		sums    map[string]string
		objects []string
	}
	stateNow := func() state {
		st := state{sums: map[string]string{}}
		for _, db := range cfg.Stack.Database.Databases {
			for table, sum := range s.Checksums(t, db) {
				st.sums[db+"."+table] = sum
			}
			for _, o := range s.Objects(t, db) {
				st.objects = append(st.objects, db+":"+o)
			}
		}
		return st
	}
	want := stateNow()
	if len(want.sums) < 60+16 || len(want.objects) < 7+6+6 {
		t.Fatalf("the databases hold too little to test with: %d tables, objects %v", len(want.sums), want.objects)
	}
	res := takeBackup(t, eng, cfg, dests)
	for _, n := range []int{1, 3} {
		// The crisis: a table gone, rows changed, a view dropped.
		s.SQL(t, "DROP TABLE dr_many._1_collection_7; UPDATE sakila.actor SET first_name = 'X'; DROP VIEW sakila.actor_info; DELETE FROM dr_many._1_collection_30")
		if maps.Equal(stateNow().sums, want.sums) {
			t.Fatal("the crisis changed nothing: the test would prove nothing")
		}
		cfg.Restore.ImportConnections = n
		if _, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}}); err != nil {
			t.Fatalf("restore over %d connections: %v", n, err)
		}
		got := stateNow()
		if !maps.Equal(got.sums, want.sums) {
			for k, v := range want.sums {
				if got.sums[k] != v {
					t.Errorf("over %d connections: %s has checksum %q, want %q", n, k, got.sums[k], v)
				}
			}
			t.Fatalf("over %d connections the tables differ from the backup", n)
		}
		if !slices.Equal(got.objects, want.objects) {
			t.Fatalf("over %d connections: objects %v, want %v", n, got.objects, want.objects)
		}
		dropAllAside(t, s)
	}
}
