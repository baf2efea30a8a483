package drill

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore"
)

// viewsServer answers the views check's query with the views it has.
type viewsServer struct{ rows string }

func (v viewsServer) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	_, err := io.WriteString(opts.Stdout, v.rows)
	return &engine.ExecResult{}, err
}

// The views check expects the views the backup holds, and names the ones
// it left out (broken when it was made) instead of reading as "every
// view"; the report carries what a restore lacks.
func TestViewsCheckNamesTheViewsTheBackupLeftOut(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tables  []archive.Table
		omitted []archive.Omission
		have    string
		passed  bool
		detail  string
	}{
		{name: "every view back", tables: []archive.Table{{Database: "a", Name: "v", View: true}}, have: "a\tv\n",
			passed: true, detail: "all 1 views present"},
		{name: "a view left out is named, not expected",
			tables:  []archive.Table{{Database: "a", Name: "v", View: true}},
			omitted: []archive.Omission{{Kind: archive.OmittedView, Database: "a", Name: "broken", Reason: "Table 'a.gone' doesn't exist"}},
			have:    "a\tv\n", passed: true,
			detail: "all 1 views present; 1 view(s) the backup left out, broken when it was made, are missing: a.broken"},
		{name: "the only view left out",
			omitted: []archive.Omission{{Kind: archive.OmittedView, Database: "a", Name: "broken"}, {Kind: archive.OmittedHistory, Database: "a", Name: "t"}},
			passed:  true, detail: "the backup holds no view; 1 view(s) the backup left out, broken when it was made, are missing: a.broken"},
		{name: "a view the backup holds is missing", tables: []archive.Table{{Database: "a", Name: "v", View: true}},
			detail: "missing: a.v"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &archive.Manifest{Database: &archive.Database{Tables: tc.tables, Omitted: tc.omitted}}
			d := &driller{rep: &Report{}, chosen: &restore.Chosen{Manifest: m}, log: slog.New(slog.DiscardHandler)}
			d.checkViews(context.Background(), mariadb.New(viewsServer{rows: tc.have}, "drill"))
			if len(d.rep.Checks) != 1 {
				t.Fatalf("checks = %+v, want the views check", d.rep.Checks)
			}
			c := d.rep.Checks[0]
			if c.Passed != tc.passed || c.Detail != tc.detail {
				t.Errorf("views check = passed %v %q, want passed %v %q", c.Passed, c.Detail, tc.passed, tc.detail)
			}
			if lacks := m.Database.Lacks(); len(lacks) != len(tc.omitted) || len(tc.omitted) > 0 && !strings.Contains(lacks[0], "a.broken is not in the backup") {
				t.Errorf("lacks = %q", lacks)
			}
		})
	}
}
