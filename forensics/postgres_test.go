package forensics

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/postgres"
)

func TestLiveServerKind(t *testing.T) {
	for _, tt := range []struct {
		kind, image string
		postgres    bool
	}{
		{dbkind.PostgreSQL, "mariadb:10.11", true}, // the configured (or the backup's) kind wins
		{"", "postgres:15", true},
		{dbkind.Auto, "dr-test/postgres:15", true},
		{dbkind.Auto, "mariadb:10.11", false},
		{"", "", false},
		{dbkind.MariaDB, "postgres:15", false},
	} {
		_, pg := liveServer(nil, engine.Container{ID: "c", Image: tt.image}, tt.kind).(postgresLive)
		if pg != tt.postgres {
			t.Errorf("kind %q, image %q: PostgreSQL reader %v, want %v", tt.kind, tt.image, pg, tt.postgres)
		}
	}
}

// pgAnswers answers the postgres package's catalog queries as a server
// with one stack database would, in COPY's text format.
type pgAnswers struct{}

func (pgAnswers) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	sql := opts.Cmd[len(opts.Cmd)-1]
	var out string
	switch {
	case strings.Contains(sql, "FROM pg_database"):
		out = "appwrite\n"
	case strings.Contains(sql, "FROM ONLY"):
		out = "public._1_users\t3\n"
	case strings.Contains(sql, "FROM pg_class"):
		out = "public._1_users\tf\npublic.active_sessions\tt\n"
	case strings.Contains(sql, "FROM pg_proc"):
		out = "function\tpublic.user_label\ntrigger\tpublic._1_users_touch\n"
	case strings.Contains(sql, "FROM pg_roles"):
		out = "postgres\nuser\n"
	default:
		return nil, fmt.Errorf("unexpected query %q", sql)
	}
	_, err := io.WriteString(opts.Stdout, out)
	return &engine.ExecResult{}, err
}

// A live PostgreSQL snapshot is keyed as a PostgreSQL backup's manifest
// is: the same server compares equal, a difference shows.
func TestPostgresLiveSnapshotMatchesTheManifest(t *testing.T) {
	m := &archive.Manifest{Name: "b", Database: &archive.Database{
		Kind: dbkind.PostgreSQL,
		Tables: []archive.Table{
			{Database: "appwrite", Name: "public._1_users", Rows: 3},
			{Database: "appwrite", Name: "public.active_sessions", View: true},
		},
		Objects: []archive.Object{
			{Database: "appwrite", Kind: "function", Name: "public.user_label"},
			{Database: "appwrite", Kind: "trigger", Name: "public._1_users_touch"},
		},
		Users: []string{"postgres", "user"},
	}}
	live := &Snapshot{Label: LiveLabel}
	if err := (postgresLive{srv: postgres.New(pgAnswers{}, "")}).read(context.Background(), live, nil); err != nil {
		t.Fatal(err)
	}
	if r := Compare(FromManifest(m), live); !r.Empty() || len(r.Notes) > 0 {
		t.Errorf("the same server differs: %+v", r)
	}
	m.Database.Tables[0].Rows = 2
	m.Database.Users = []string{"postgres"}
	r := Compare(FromManifest(m), live)
	if r.Counts["tables"] != 1 || r.Counts["users"] != 1 || r.Users.Added[0] != "user" || r.Tables[0].Table != "appwrite.public._1_users" {
		t.Errorf("differences: %+v", r)
	}
}
