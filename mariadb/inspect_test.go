package mariadb

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseInspect(t *testing.T) {
	const client = "mariadb-dump\nmariadb-dump  Ver 10.19 Distrib 10.11.9-MariaDB\n--dr-inspect--\n"
	rows := "version\t10.11.9-MariaDB\n" +
		"schema\tmysql\nschema\tappwrite\nschema\tdr_aside_appwrite_20261126T080000Z\nschema\tanalytics\n" +
		"table\tappwrite\t_1_users\tInnoDB\tBASE TABLE\ntable\tanalytics\tevents\tAria\tBASE TABLE\n" +
		"table\tdr_aside_appwrite_20261126T080000Z\t_1_users\tInnoDB\tBASE TABLE\n"
	tests := []struct {
		name      string
		out       string
		wanted    []string
		databases []string
		engines   map[string]string
		err       string
	}{
		{name: "all stack databases, sorted, without system or aside schemas", out: client + rows,
			databases: []string{"analytics", "appwrite"},
			engines:   map[string]string{"appwrite._1_users": "InnoDB", "analytics.events": "Aria"}},
		{name: "the wanted ones only", out: client + rows, wanted: []string{"appwrite"},
			databases: []string{"appwrite"}, engines: map[string]string{"appwrite._1_users": "InnoDB"}},
		{name: "a wanted database the server lacks", out: client + rows, wanted: []string{"appwrite", "gone"},
			err: `names "gone", which the server does not have (it has: analytics, appwrite)`},
		{name: "nothing but system databases", out: client + "version\t10.11.9\nschema\tmysql\n",
			err: "nothing to back up"},
		{name: "names the client escaped, read as the server holds them", out: client + "version\t10.11.9-MariaDB\nschema\td\\nb\ntable\td\\nb\ta\\nb\tInnoDB\tBASE TABLE\ntable\td\\nb\tback\\\\slash\tAria\tBASE TABLE\n",
			databases: []string{"d\nb"},
			engines:   map[string]string{"d\nb.a\nb": "InnoDB", "d\nb.back\\slash": "Aria"}},
		{name: "no separator", out: "sh: 1: mariadb-dump: not found\n", err: "unexpected output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := parseInspect(tt.out, tt.wanted)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.ServerVersion != "10.11.9-MariaDB" || info.Client != "mariadb-dump" || !strings.Contains(info.ClientVersion, "Ver 10.19") {
				t.Errorf("server %q, client %q %q", info.ServerVersion, info.Client, info.ClientVersion)
			}
			if !reflect.DeepEqual(info.Databases, tt.databases) {
				t.Errorf("databases = %v, want %v", info.Databases, tt.databases)
			}
			if !reflect.DeepEqual(info.Engines, tt.engines) {
				t.Errorf("engines = %v, want %v", info.Engines, tt.engines)
			}
		})
	}
}

func FuzzParseInspect(f *testing.F) {
	f.Add("mariadb-dump\nVer 10\n--dr-inspect--\nversion\t10.11\nschema\tappwrite\ntable\tappwrite\tt\tInnoDB\tBASE TABLE\n", "")
	f.Add("--dr-inspect--\n\n", "appwrite")
	f.Fuzz(func(t *testing.T, out, wanted string) {
		var w []string
		if wanted != "" {
			w = strings.Split(wanted, ",")
		}
		info, err := parseInspect(out, w)
		if err != nil {
			return
		}
		if len(info.Databases) == 0 {
			t.Fatal("no error, and no database to dump")
		}
		for key := range info.Engines {
			db, _, _ := strings.Cut(key, ".")
			found := false
			for _, d := range info.Databases {
				found = found || d == db
			}
			if !found {
				t.Fatalf("engine of %s, outside the databases %v", key, info.Databases)
			}
		}
	})
}

func TestParseInspectVersionedTablesAndViews(t *testing.T) {
	out := "mariadb-dump\nmariadb-dump  Ver 10.19 Distrib 10.11.18-MariaDB\n" + historyOption + "\n--dr-inspect--\n" +
		"version\t10.11.18-MariaDB\nschema\th\nschema\tother\n" +
		"table\th\tt\tInnoDB\tSYSTEM VERSIONED\ntable\th\tplain\tInnoDB\tBASE TABLE\n" +
		"table\tother\tx\tInnoDB\tSYSTEM VERSIONED\n" +
		"view\th\tv\nview\tother\tw\n"
	info, err := parseInspect(out, []string{"h"})
	if err != nil {
		t.Fatal(err)
	}
	if !info.ClientDumpsHistory {
		t.Error("the client's --dump-history was not seen")
	}
	if !reflect.DeepEqual(info.Versioned, []string{"h.t"}) {
		t.Errorf("versioned = %v, want [h.t] (the other database is not dumped)", info.Versioned)
	}
	if info.Engines["h.t"] != "InnoDB" {
		t.Errorf("engines = %v: the versioned table's engine is missing", info.Engines)
	}
	if want := []TableRef{{Database: "h", Name: "v"}}; !reflect.DeepEqual(info.views, want) {
		t.Errorf("views to check = %v, want %v", info.views, want)
	}
	old, err := parseInspect("mysqldump\nmysqldump  Ver 10.13 Distrib 10.6.20-MariaDB\n--dr-inspect--\nversion\t10.6.20\nschema\th\ntable\th\tt\tInnoDB\tSYSTEM VERSIONED\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if old.ClientDumpsHistory {
		t.Error("a client that did not print the option is taken to dump history")
	}
}

func TestInfoDumpArgs(t *testing.T) {
	tests := []struct {
		name    string
		info    Info
		more    []string
		leftOut string // part of HistoryLeftOut, "" for none
	}{
		{name: "nothing special", info: Info{ClientDumpsHistory: true}},
		{name: "versioned tables, a client that dumps history", info: Info{Versioned: []string{"h.t"}, ClientDumpsHistory: true},
			more: []string{"--dump-history"}},
		{name: "versioned tables, an older client", info: Info{Client: "mysqldump", ClientVersion: "Ver 10.13 Distrib 10.6.20-MariaDB", Versioned: []string{"h.t"}},
			leftOut: "(mysqldump Ver 10.13 Distrib 10.6.20-MariaDB) has no --dump-history"},
		{name: "a transaction-precise table stops the client's --dump-history", info: Info{Versioned: []string{"h.t", "h.trx"}, ClientDumpsHistory: true, TransactionPrecise: []string{"h.trx"}},
			leftOut: "transaction-precise versioning of h.trx"},
		{name: "broken views are left out", info: Info{BrokenViews: []BrokenView{{Database: "h", Name: "v"}, {Database: "h", Name: "w"}}},
			more: []string{"--ignore-table=h.v", "--ignore-table=h.w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.info.Databases = []string{"h"}
			got := tt.info.DumpArgs(false)
			want := DumpArgs([]string{"h"}, false, tt.more...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DumpArgs = %v, want %v", got, want)
			}
			if left := tt.info.HistoryLeftOut(); (tt.leftOut == "") != (left == "") || !strings.Contains(left, tt.leftOut) {
				t.Errorf("HistoryLeftOut = %q, want one with %q", left, tt.leftOut)
			}
		})
	}
}

func TestCheckProblems(t *testing.T) {
	// CHECK TABLE's rows for a good view, a view whose table was dropped
	// and a table, as MariaDB 10.11 gives them.
	rows := [][]string{
		{"h.v_ok", "check", "status", "OK"},
		{"h.v_bad", "check", "Error", "Table 'h.base' doesn't exist"},
		{"h.v_bad", "check", "Error", "View 'h.v_bad' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them"},
		{"h.v_bad", "check", "error", "Corrupt"},
		{"h.t", "check", "note", "The storage engine for the table doesn't support check"},
		{"h.t", "check", "status", "OK"},
		{"h.crashed", "check", "status", "Table is marked as crashed"},
	}
	want := map[string]string{
		"h.v_bad":   "Table 'h.base' doesn't exist; View 'h.v_bad' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them; Corrupt",
		"h.crashed": "Table is marked as crashed",
	}
	if got := CheckProblems(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("CheckProblems = %v, want %v", got, want)
	}
}
