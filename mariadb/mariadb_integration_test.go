package mariadb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/internal/teststack"
)

func TestInspectAndDumpThroughTheEngine(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	ctx := context.Background()
	db := New(eng, s.ContainerID(t, teststack.DBService))

	info, err := db.Inspect(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Databases, teststack.SeedDatabases()) {
		t.Errorf("all databases = %v, want %v (system ones left out)", info.Databases, teststack.SeedDatabases())
	}
	if !strings.Contains(info.ServerVersion, "MariaDB") || info.Client != "mariadb-dump" || !strings.Contains(info.ClientVersion, "Distrib") {
		t.Errorf("versions: server %q, client %q %q", info.ServerVersion, info.Client, info.ClientVersion)
	}
	for _, table := range teststack.SeedNonInnoDB() {
		if e := info.Engines[table]; e == "" || strings.EqualFold(e, "InnoDB") {
			t.Errorf("engine of %s = %q, want the non-InnoDB engine the seed uses", table, e)
		}
	}
	if e := info.Engines["appwrite._1_users"]; e != "InnoDB" {
		t.Errorf("engine of appwrite._1_users = %q", e)
	}

	if _, err := db.Inspect(ctx, []string{"appwrite", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown database: got %v, want an error naming it", err)
	}

	var out bytes.Buffer
	if err := db.Dump(ctx, DumpArgs([]string{"appwrite"}, false), &out); err != nil {
		t.Fatal(err)
	}
	dump := out.String()
	for _, want := range []string{"CREATE DATABASE", "CREATE TABLE `_1_users`", "INSERT INTO `_1_users`", "CREATE DEFINER", "-- Dump completed"} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if strings.Contains(dump, "appwrite_logs") {
		t.Error("dump of [appwrite] holds appwrite_logs")
	}
}

func TestDumpFailsWithTheClientsError(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	db := New(eng, s.ContainerID(t, teststack.DBService))
	err := db.Dump(context.Background(), []string{"--databases", "no_such_db"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no_such_db") || !strings.Contains(err.Error(), "exit code") {
		t.Errorf("got %v, want the client's stderr and exit code", err)
	}
}

// TestRowsOverTheDefaultPacketLimit: a 12 MiB and a 50 MiB row (24 and 100
// MiB as hex INSERTs) go through the dump, dr's import and the by-hand
// import dr prints, on a server with the default 16 MiB limit, which is
// the default again afterwards.
func TestRowsOverTheDefaultPacketLimit(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	ctx := context.Background()
	id := s.ContainerID(t, teststack.DBService)
	s.UseDefaultPacketLimit(t)
	s.SQL(t, "CREATE DATABASE dr_packet; CREATE TABLE dr_packet.big (id INT PRIMARY KEY, v LONGBLOB)")
	t.Cleanup(func() { s.SQL(t, "DROP DATABASE IF EXISTS dr_packet") })
	s.InsertLargeRows(t, "dr_packet.big", 12<<20, 50<<20)
	want := s.RowSums(t, "dr_packet.big")
	db := New(eng, id)

	dump, err := os.Create(filepath.Join(t.TempDir(), "dump.sql"))
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	if err := db.Dump(ctx, DumpArgs([]string{"dr_packet"}, false), dump); err != nil {
		t.Fatalf("dumping rows over the default packet limit: %v", err)
	}

	imports := []struct {
		name string
		run  func(r io.Reader) error
	}{
		{"dr's import", func(r io.Reader) error { return db.Import(ctx, r) }},
		{"the printed by-hand import", func(r io.Reader) error {
			cmd := exec.Command("sh", "-c", ByHandImport(id))
			cmd.Stdin = r
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%v: %.2000s", err, stderr.String())
			}
			return nil
		}},
	}
	for _, imp := range imports {
		t.Run(imp.name, func(t *testing.T) {
			s.SQL(t, "DELETE FROM dr_packet.big")
			if _, err := dump.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if err := imp.run(dump); err != nil {
				t.Fatalf("import: %.2000v", err)
			}
			if got := s.RowSums(t, "dr_packet.big"); got != want {
				t.Errorf("rows after the import:\n%s\nwant:\n%s", got, want)
			}
			if got := s.PacketLimit(t); got != teststack.DefaultPacketLimit {
				t.Errorf("server's max_allowed_packet after the import = %d, want the default %d back", got, teststack.DefaultPacketLimit)
			}
		})
	}
}
