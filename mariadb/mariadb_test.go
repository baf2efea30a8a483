package mariadb

import (
	"reflect"
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
