package postgres

import (
	"reflect"
	"strings"
	"testing"
)

func TestCopyRowsUnescapes(t *testing.T) {
	tests := []struct {
		out  string
		want [][]string
	}{
		{"a\tb\n", [][]string{{"a", "b"}}},
		{"tab\\there\tnew\\nline\n\\N\tback\\\\slash\n", [][]string{{"tab\there", "new\nline"}, {"", `back\slash`}}},
		{"\\x41\\101\\r\\v\\f\\b\\q\n", [][]string{{"AA\r\v\f\bq"}}},
		{"\n\n", nil},
		{"trailing\\", [][]string{{`trailing\`}}},
	}
	for _, tt := range tests {
		if got := copyRows(tt.out); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("copyRows(%q) = %q, want %q", tt.out, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ qualified, schema, name, ident string }{
		{"public.users", "public", "users", `"public"."users"`},
		{"app.odd name", "app", "odd name", `"app"."odd name"`},
		{`s.a"b.c`, "s", `a"b.c`, `"s"."a""b.c"`},
		{"bare", "public", "bare", `"public"."bare"`},
	}
	for _, tt := range tests {
		s, n := SplitName(tt.qualified)
		if s != tt.schema || n != tt.name || QualifiedIdent(tt.qualified) != tt.ident {
			t.Errorf("%q: %q %q %s, want %q %q %s", tt.qualified, s, n, QualifiedIdent(tt.qualified), tt.schema, tt.name, tt.ident)
		}
	}
	if got := QuoteString("O'Brien"); got != "'O''Brien'" {
		t.Errorf("QuoteString = %s", got)
	}
	if IsStackDatabase("postgres") || IsStackDatabase("template1") || IsStackDatabase("dr_aside_x") || !IsStackDatabase("appwrite") {
		t.Error("IsStackDatabase misjudges the server's own or aside databases")
	}
}

func TestDumpArgs(t *testing.T) {
	i := &Info{Databases: []string{"appwrite", "logs"}}
	if got := i.DumpArgs(true); !reflect.DeepEqual(got, []string{"globals", "appwrite", "logs"}) {
		t.Errorf("DumpArgs(true) = %q", got)
	}
	if got := i.DumpArgs(false); !reflect.DeepEqual(got, []string{"none", "appwrite", "logs"}) {
		t.Errorf("DumpArgs(false) = %q", got)
	}
}

// escapeCopy is COPY's text escaping of one field, as the server writes it.
func escapeCopy(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\b", `\b`, "\f", `\f`, "\v", `\v`)
	return r.Replace(s)
}

// FuzzCopyRows: any output reads without panicking, and fields the server
// escaped read back as they were.
func FuzzCopyRows(f *testing.F) {
	f.Add("a\tb\n\\N\tc\\\\d\n", "x\ty")
	f.Add("\\x4g\\777\\\n", "new\nline")
	f.Fuzz(func(t *testing.T, out, field string) {
		copyRows(out)
		if field == "" || field == `\N` || strings.ContainsRune(field, 0) {
			return
		}
		rows := copyRows(escapeCopy(field) + "\t" + escapeCopy(field) + "\n")
		if len(rows) != 1 || len(rows[0]) != 2 || rows[0][0] != field || rows[0][1] != field {
			t.Errorf("field %q read back as %q", field, rows)
		}
	})
}
