package mariadb

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

func newEngine(t *testing.T) *engine.Client {
	t.Helper()
	eng, err := engine.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func TestInspectAndDumpThroughTheEngine(t *testing.T) {
	s := stack.Get(t)
	eng := newEngine(t)
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
	eng := newEngine(t)
	db := New(eng, s.ContainerID(t, teststack.DBService))
	err := db.Dump(context.Background(), []string{"--databases", "no_such_db"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no_such_db") || !strings.Contains(err.Error(), "exit code") {
		t.Errorf("got %v, want the client's stderr and exit code", err)
	}
}
