package mariadb

import (
	"strings"
	"testing"
)

// TestParseShowCreate: the fields come as the server holds them (Query
// unescapes the client's --batch output), and are taken as they are.
func TestParseShowCreate(t *testing.T) {
	tests := []struct {
		name string
		ref  ObjectRef
		row  []string
		want Definition
		err  bool
	}{
		{"procedure", ObjectRef{Kind: "procedure", Name: "p"}, []string{"p", "", "BEGIN\n\tSELECT 'a\\b'; END", "utf8mb4", "c"},
			Definition{Kind: "procedure", Name: "p", Stmt: "BEGIN\n\tSELECT 'a\\b'; END", Charset: "utf8mb4", Collation: "c"}, false},
		{"event", ObjectRef{Kind: "event", Name: "e"}, []string{"e", "STRICT", "+00:00", "CREATE EVENT e", "utf8mb4", "c"},
			Definition{Kind: "event", Name: "e", SQLMode: "STRICT", TimeZone: "+00:00", Stmt: "CREATE EVENT e", Charset: "utf8mb4", Collation: "c"}, false},
		{"database", ObjectRef{Kind: "database", Name: "d"}, []string{"d", "CREATE DATABASE `d`"},
			Definition{Kind: "database", Name: "d", Stmt: "CREATE DATABASE `d`"}, false},
		{"hidden definition", ObjectRef{Kind: "function", Name: "f"}, []string{"f", "", "NULL"}, Definition{}, true},
		{"short row", ObjectRef{Kind: "view", Name: "v"}, []string{"v"}, Definition{}, true},
	}
	for _, tt := range tests {
		got, err := parseShowCreate(tt.ref, tt.row)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v, error %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// TestBatch: names are quoted, a saved definition is run as it was
// saved, and a body holding ";" is recreated under another delimiter.
func TestBatch(t *testing.T) {
	var b Batch
	b.RenameTables(nil)
	if b.Len() != 0 {
		t.Fatalf("no table to move wrote %q", b.String())
	}
	b.DropTrigger("a`b", "t")
	b.RenameTables([]TableMove{{From: "a`b", To: "dr_aside_x", Table: "t1"}, {From: "a`b", To: "dr_aside_x", Table: "t2"}})
	b.CreateDatabase("a`b", &Definition{Kind: "database", Stmt: "CREATE DATABASE `a``b` CHARSET latin1"}, false)
	b.CreateDatabase("c", nil, true)
	b.Recreate("c", Definition{Kind: "procedure", Name: "p", SQLMode: "it's", Stmt: "CREATE PROCEDURE p() BEGIN SELECT 1; END"})
	for _, want := range []string{
		"DROP TRIGGER `a``b`.`t`;\n",
		"RENAME TABLE `a``b`.`t1` TO `dr_aside_x`.`t1`, `a``b`.`t2` TO `dr_aside_x`.`t2`;\n",
		"CREATE DATABASE `a``b` CHARSET latin1;\n",
		"CREATE DATABASE IF NOT EXISTS `c`;\n",
		"SET SESSION sql_mode = 'it\\'s';\n",
		"DROP PROCEDURE IF EXISTS `p`;\nDELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1; END;;\nDELIMITER ;\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the script lacks %q:\n%s", want, b.String())
		}
	}
}
