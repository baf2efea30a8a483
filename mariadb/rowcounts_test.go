package mariadb

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
)

// countServer answers a RowCounts query with one count per table and
// keeps the SQL it was sent.
type countServer struct{ sql []string }

func (c *countServer) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	sql := opts.Cmd[4]
	c.sql = append(c.sql, sql)
	var out strings.Builder
	for _, part := range strings.Split(sql, " UNION ALL ") {
		key, _, _ := strings.Cut(strings.TrimPrefix(part, "SELECT '"), "'")
		out.WriteString(key + "\t7\n")
	}
	_, err := io.WriteString(opts.Stdout, out.String())
	return &engine.ExecResult{}, err
}

// A versioned table is counted with its history, as a --dump-history dump
// carries it; a plain one as it is.
func TestRowCountsCountEveryRowVersionOfAVersionedTable(t *testing.T) {
	srv := &countServer{}
	counts, err := New(srv, "db").RowCounts(context.Background(), []TableRef{{Database: "h", Name: "t", AllVersions: true}, {Database: "h", Name: "plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts["h.t"] != 7 || counts["h.plain"] != 7 {
		t.Errorf("counts = %v", counts)
	}
	want := "SELECT 'h.t', COUNT(*) FROM `h`.`t` FOR SYSTEM_TIME ALL UNION ALL SELECT 'h.plain', COUNT(*) FROM `h`.`plain`"
	if len(srv.sql) != 1 || srv.sql[0] != want {
		t.Errorf("queries = %q, want %q", srv.sql, want)
	}
}
