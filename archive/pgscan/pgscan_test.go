package pgscan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/appwrite-dr/dr/archive/dumpscan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testdata/dump.sql is real pg_dumpall --globals-only and pg_dump
// --create output of PostgreSQL 15: a table whose values hold a tab, a
// newline, "\." and the trailer's words; a quoted schema and table with a
// space; an empty table; a view, a materialized view, overloaded
// functions, a procedure, two triggers (one named with a space), an
// extension; and a function body holding a line that looks like a table
// of contents entry.
func readDump(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "dump.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func scan(data []byte, step int) dumpscan.Result {
	s := New()
	for len(data) > 0 {
		k := min(step, len(data))
		s.Write(data[:k])
		data = data[k:]
	}
	return s.Result()
}

func TestScanRealDumpMatchesGolden(t *testing.T) {
	got, err := json.MarshalIndent(scan(readDump(t), 1<<20), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "dump.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./archive/pgscan -update writes it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("scan of testdata/dump.sql:\n%s\nwant (testdata/dump.golden.json):\n%s", got, want)
	}
}

func TestScanSeesTablesRowsAndObjects(t *testing.T) {
	r := scan(readDump(t), 1<<20)
	rows := map[string]int64{}
	views := map[string]bool{}
	for _, tb := range r.Tables {
		if tb.Database != "appwrite" {
			t.Errorf("table %s in database %q, want appwrite", tb.Name, tb.Database)
		}
		rows[tb.Name] = tb.Rows
		views[tb.Name] = tb.View
	}
	for name, want := range map[string]int64{"public.t": 4, "app.odd name": 5, "public.empty": 0} {
		if got, ok := rows[name]; !ok || got != want {
			t.Errorf("table %s: rows %d (seen %v), want %d", name, got, ok, want)
		}
	}
	if !views["public.v"] || !views["public.mv"] {
		t.Errorf("views: %v, want public.v and public.mv", views)
	}
	if _, ok := rows["public.fake"]; ok {
		t.Error("a function body's line that looks like a table of contents entry was read as a table")
	}
	objects := map[string]bool{}
	for _, o := range r.Objects {
		objects[o.Kind+":"+o.Name] = true
	}
	for _, want := range []string{"function:public.f", "function:public.tf", "procedure:app.p", "trigger:public.trg", "trigger:app.trg two"} {
		if !objects[want] {
			t.Errorf("object %s not seen; saw %v", want, objects)
		}
	}
	if len(objects) != 5 {
		t.Errorf("objects %v: want the overloads of public.f as one", objects)
	}
	if !r.Completed {
		t.Error("a whole dump is not seen as completed")
	}
	if len(r.Databases) != 1 || r.Databases[0] != "appwrite" {
		t.Errorf("databases %v, want [appwrite]", r.Databases)
	}
}

func TestScanSeesADumpCutShort(t *testing.T) {
	data := readDump(t)
	whole := scan(data, len(data))
	if !whole.Completed {
		t.Fatal("the whole dump is not completed")
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"cut inside COPY", data[:bytes.Index(data, []byte("COPY \"public\".\"t\""))+60]},
		{"cut before the last trailer", data[:bytes.LastIndex(data, []byte(dumpTrailer))]},
		{"globals only", data[:bytes.Index(data, []byte(clusterTrailer))+len(clusterTrailer)+1][:0:0]},
		{"empty", nil},
		{"a trailer inside a value only", []byte(dumpHeader + "\n--\n-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: x\n--\nCOPY t (a) FROM stdin;\n" + dumpTrailer + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if scan(tt.data, 7).Completed {
				t.Error("seen as completed")
			}
		})
	}
	globals := data[:bytes.Index(data, []byte(clusterTrailer))+len(clusterTrailer)+1]
	if !scan(globals, 3).Completed {
		t.Error("a whole globals dump is not completed")
	}
}

// TestScanIsTheSameWhateverTheWrites: the pipeline hands the scanner
// blocks of any size; what it sees must not depend on where they end.
func TestScanIsTheSameWhateverTheWrites(t *testing.T) {
	data := readDump(t)
	want, _ := json.Marshal(scan(data, len(data)))
	for _, step := range []int{1, 2, 3, 5, 64, 4095, 4097} {
		if got, _ := json.Marshal(scan(data, step)); !bytes.Equal(got, want) {
			t.Errorf("writes of %d bytes: %s\nwant %s", step, got, want)
		}
	}
}

func TestScanCountsLongRows(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 3*lineCap)
	var b bytes.Buffer
	b.WriteString("--\n-- Data for Name: big; Type: TABLE DATA; Schema: public; Owner: x\n--\n\nCOPY \"public\".\"big\" (\"v\") FROM stdin;\n")
	for range 3 {
		b.Write(long)
		b.WriteByte('\n')
	}
	b.WriteString("\\.\n")
	r := scan(b.Bytes(), 1000)
	if len(r.Tables) != 1 || r.Tables[0].Rows != 3 {
		t.Errorf("tables %+v, want public.big with 3 rows", r.Tables)
	}
}

// FuzzScan: any stream scans without panicking, and the same whatever
// the size of the writes.
func FuzzScan(f *testing.F) {
	f.Add(readDump(f), 7)
	f.Add([]byte("--\n-- Name: a b; Type: TRIGGER; Schema: s; Owner: o\n"), 1)
	f.Add([]byte("--\n-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: x\nCOPY t FROM stdin;\n1\n\\.\n"), 2)
	f.Fuzz(func(t *testing.T, data []byte, step int) {
		if step <= 0 || step > len(data)+1 {
			step = len(data) + 1
		}
		a, _ := json.Marshal(scan(data, len(data)+1))
		b, _ := json.Marshal(scan(data, step))
		if !bytes.Equal(a, b) {
			t.Errorf("writes of %d bytes: %s\nwhole: %s", step, b, a)
		}
	})
}

// The COPY statements in the stream's order, which psql's COPY tags
// follow: the materialized view's data is REFRESHed, not copied.
func TestCopiesFollowTheStream(t *testing.T) {
	s := New()
	s.Write(readDump(t))
	want := []string{"appwrite.app.odd name", "appwrite.public.empty", "appwrite.public.t"}
	if got := s.Copies(); !slices.Equal(got, want) {
		t.Errorf("Copies() = %q, want %q", got, want)
	}
}
