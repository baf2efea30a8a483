package drill

import (
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/dbkind"
)

func TestFlavorOfKind(t *testing.T) {
	pg := flavorOf(dbkind.PostgreSQL)
	if env := pg.env("pw"); !slices.Equal(env, []string{"POSTGRES_PASSWORD=pw"}) {
		t.Errorf("PostgreSQL container env %v", env)
	}
	if pg.dataDir != pgDataDir || !strings.Contains(strings.Join(pg.df, " "), "PGDATA") {
		t.Errorf("PostgreSQL data dir %q, df %v", pg.dataDir, pg.df)
	}
	// A manifest older than the kind field is MariaDB's.
	for _, kind := range []string{"", dbkind.MariaDB, dbkind.MySQL} {
		m := flavorOf(kind)
		if m.dataDir != dataDir || !slices.Contains(m.env("pw"), "MARIADB_ROOT_PASSWORD=pw") {
			t.Errorf("kind %q: data dir %q, env %v", kind, m.dataDir, m.env("pw"))
		}
	}
}

func TestTablesVerdict(t *testing.T) {
	tables := []archive.Table{
		{Database: "appwrite", Name: "public._1_users", Rows: 1000},
		{Database: "appwrite", Name: "public.active_sessions", View: true},
		{Database: "appwrite_logs", Name: "public.logs", Rows: 800},
	}
	c := tablesVerdict(tables, map[string]int64{"appwrite.public._1_users": 1000, "appwrite_logs.public.logs": 800})
	if !c.Passed || c.Figures["tables"] != 2 || c.Figures["rows"] != 1800 {
		t.Errorf("all rows there: %+v", c)
	}
	c = tablesVerdict(tables, map[string]int64{"appwrite.public._1_users": 997})
	if c.Passed || c.Detail != "appwrite.public._1_users has 997 rows, the backup 1000; appwrite_logs.public.logs is missing" {
		t.Errorf("rows missing: %+v", c)
	}
}

func TestViewsVerdict(t *testing.T) {
	want := map[string][]string{"appwrite": {"public.active_sessions", "public.old"}}
	if c := viewsVerdict(nil, nil, nil, nil); !c.Passed || !c.Skipped {
		t.Errorf("no view: %+v", c)
	}
	have := map[string]bool{"appwrite.public.active_sessions": true, "appwrite.public.old": true}
	if c := viewsVerdict(want, have, nil, nil); !c.Passed || c.Skipped || c.Detail != "all 2 views present and selectable" {
		t.Errorf("all views: %+v", c)
	}
	if c := viewsVerdict(want, have, nil, []string{"appwrite.public.old"}); !c.Passed || c.Figures["unpopulated"] != 1 || !strings.Contains(c.Detail, "1 selectable; not selected from: 1 materialized view(s) made WITH NO DATA") {
		t.Errorf("an unpopulated materialized view: %+v", c)
	}
	c := viewsVerdict(want, map[string]bool{"appwrite.public.old": true}, map[string]string{"appwrite.public.old": `column "x" does not exist`}, nil)
	if c.Passed || c.Detail != `appwrite.public.active_sessions is missing; appwrite.public.old cannot be selected from: column "x" does not exist` {
		t.Errorf("broken views: %+v", c)
	}
}

func TestHealthDetailSaysWhichCheckRan(t *testing.T) {
	if d := healthDetail(true, 23, 2); !strings.Contains(d, "amcheck") || !strings.Contains(d, "23 btree indexes") {
		t.Errorf("amcheck detail %q", d)
	}
	if d := healthDetail(false, 10, 2); !strings.Contains(d, "not available") || !strings.Contains(d, "indexes were not checked") {
		t.Errorf("fallback detail %q", d)
	}
}

func TestPostgresObjectsVerdict(t *testing.T) {
	want := []archive.Object{
		{Database: "appwrite", Kind: "function", Name: "public.user_label"},
		{Database: "appwrite", Kind: "trigger", Name: "public._1_users_touch"},
	}
	rows := [][]string{{"appwrite", "function", "public.user_label"}, {"appwrite", "trigger", "public._1_users_touch"}, {"appwrite", "procedure", "public.extra"}}
	if ok, detail := objectsVerdictOf(want, rows, "functions, procedures and triggers"); !ok || detail != "all 2 functions, procedures and triggers present" {
		t.Errorf("all there: %v %q", ok, detail)
	}
	// The same name in another database is not the object.
	rows = [][]string{{"appwrite_logs", "function", "public.user_label"}, {"appwrite", "trigger", "public._1_users_touch"}}
	if ok, detail := objectsVerdictOf(want, rows, "functions, procedures and triggers"); ok || detail != "missing: function appwrite.public.user_label" {
		t.Errorf("one missing: %v %q", ok, detail)
	}
}
