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
		"table\tappwrite\t_1_users\tInnoDB\ntable\tanalytics\tevents\tAria\n" +
		"table\tdr_aside_appwrite_20261126T080000Z\t_1_users\tInnoDB\n"
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
		{name: "names the client escaped, read as the server holds them", out: client + "version\t10.11.9-MariaDB\nschema\td\\nb\ntable\td\\nb\ta\\nb\tInnoDB\ntable\td\\nb\tback\\\\slash\tAria\n",
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
	f.Add("mariadb-dump\nVer 10\n--dr-inspect--\nversion\t10.11\nschema\tappwrite\ntable\tappwrite\tt\tInnoDB\n", "")
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
