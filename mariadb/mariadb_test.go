package mariadb

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestDumpArgs(t *testing.T) {
	got := DumpArgs([]string{"appwrite", "logs"}, true)
	want := append(append([]string{}, DumpOptions...), "--system=users", "--databases", "appwrite", "logs")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DumpArgs = %v, want %v", got, want)
	}
	for _, required := range []string{"--max-allowed-packet=1G", "--single-transaction", "--quick", "--routines", "--events", "--triggers", "--hex-blob", "--add-drop-database", "--default-character-set=utf8mb4"} {
		if !strings.Contains(strings.Join(got, " "), required) {
			t.Errorf("dump options lack %s", required)
		}
	}
}

func TestSQLList(t *testing.T) {
	if got, want := SQLList([]string{"a", `it's`, `back\slash`}), `'a','it\'s','back\\slash'`; got != want {
		t.Errorf("SQLList = %s, want %s", got, want)
	}
}

func TestCondenseStatements(t *testing.T) {
	long := strings.Repeat("A1", 300)
	union := "SELECT 'app.a\\nb', COUNT(*) FROM `app`.`a\nb`" + strings.Repeat(" UNION ALL SELECT 'app.t', COUNT(*) FROM `app`.`t`", 600)
	tests := []struct{ name, in, want string }{
		{"message only", "ERROR 1045 (28000): Access denied", "ERROR 1045 (28000): Access denied"},
		{"echoed statement", "--------------\nINSERT INTO `b` VALUES\n(1,0x" + long + ")\n--------------\n\nERROR 2006 (HY000) at line 47: Server has gone away",
			"--------------\nINSERT INTO `b` VALUES\\n(1,0x" + long[:120-len("INSERT INTO `b` VALUES\n(1,0x")] + "… (629 bytes)\n--------------\n\nERROR 2006 (HY000) at line 47: Server has gone away"},
		{"a failed query over many tables, a name with a newline", "--------------\n" + union + "\n--------------\n\nERROR 1146 (42S02) at line 1: Table 'app.a\nb' doesn't exist",
			"--------------\n" + "SELECT 'app.a\\nb', COUNT(*) FROM `app`.`a\\nb` UNION ALL SELECT 'app.t', COUNT(*) FROM `app`.`t` UNION ALL SELECT 'app.t',… (" + strconv.Itoa(len(union)) + " bytes)\n--------------\n\nERROR 1146 (42S02) at line 1: Table 'app.a\nb' doesn't exist"},
		{"a statement whose frame the tail cut off", "(1,0x" + long + ")\n--------------\n\nERROR 2006 (HY000)",
			"(1,0x" + long[:115] + "… (606 bytes)\n--------------\n\nERROR 2006 (HY000)"},
		{"a line just short enough stays", strings.Repeat("x", 512), strings.Repeat("x", 512)},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := condenseStatements(tt.in); got != tt.want {
				t.Errorf("condenseStatements = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestByHandImport(t *testing.T) {
	cmd := ByHandImport("appwrite-mariadb-1")
	for _, want := range []string{"docker exec -i appwrite-mariadb-1 sh -c '", "--max-allowed-packet=1G", "SET GLOBAL max_allowed_packet=1073741824", `SET GLOBAL max_allowed_packet=$p`, "--binary-mode", `MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}"`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("the by-hand import lacks %q: %s", want, cmd)
		}
	}
	// The password stays in the environment, off every command line, and
	// the script is one single-quoted word for the host's shell.
	if strings.Contains(cmd, " -p") || strings.Count(cmd, "'") != 2 {
		t.Errorf("the by-hand import passes a password or breaks its quoting: %s", cmd)
	}
}

func TestUnescapeBatch(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain`, "plain"},
		{`BEGIN\n\tSELECT 1; END`, "BEGIN\n\tSELECT 1; END"},
		{`a\\nb`, `a\nb`},
		{`nul\0end`, "nul\x00end"},
		{`trailing\`, `trailing\`},
	} {
		if got := unescapeBatch(tc.in); got != tc.want {
			t.Errorf("unescapeBatch(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestBatchRows: names as MariaDB accepts them come back as the server
// holds them, whatever the client's --batch output escapes or leaves raw.
func TestBatchRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  string
		want [][]string
	}{
		{"plain", "appwrite\t_1_users\n", [][]string{{"appwrite", "_1_users"}}},
		{"a newline in a name", `d` + "\t" + `a\nb` + "\n", [][]string{{"d", "a\nb"}}},
		{"a tab in a name", `d` + "\t" + `a\tb` + "\n", [][]string{{"d", "a\tb"}}},
		{"a backslash before an n", `d` + "\t" + `a\\nb` + "\n", [][]string{{"d", `a\nb`}}},
		{"a carriage return ends a name", "d\ta\r\nd\tb\n", [][]string{{"d", "a\r"}, {"d", "b"}}},
		{"quotes, backticks, comments and unicode stay", "d\t`a``'\"-- /*;é\n", [][]string{{"d", "`a``'\"-- /*;é"}}},
		{"empty lines", "\nx\n\n", [][]string{{"x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := batchRows(tc.out); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("batchRows(%q) = %q, want %q", tc.out, got, tc.want)
			}
		})
	}
}
