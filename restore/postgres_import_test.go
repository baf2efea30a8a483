package restore

import (
	"context"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
)

// A dump psql takes whole but that lacks a completion trailer fails the
// import: psql would have ended a COPY at the end of its input.
func TestImportWholeNeedsEveryTrailer(t *testing.T) {
	whole := "--\n-- PostgreSQL database dump\n--\n\nCREATE DATABASE \"a\";\n\\connect a\nCOPY \"public\".\"t\" (\"id\") FROM stdin;\n1\n2\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n"
	imp := func(_ context.Context, r io.Reader) ([]int64, error) {
		_, err := io.Copy(io.Discard, r)
		return []int64{2}, err
	}
	if _, err := importWhole(context.Background(), strings.NewReader(whole), imp); err != nil {
		t.Errorf("whole dump: %v", err)
	}
	cut := whole[:strings.Index(whole, "2\n")]
	if _, err := importWhole(context.Background(), strings.NewReader(cut), imp); !errors.Is(err, ErrDumpCutShort) {
		t.Errorf("cut dump: %v", err)
	}
	// psql's own failure is the import's.
	boom := errors.New("exit code 3: ERROR: syntax error")
	if _, err := importWhole(context.Background(), strings.NewReader(whole), func(context.Context, io.Reader) ([]int64, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("failed psql: %v", err)
	}
}

// psql's COPY tags become each table's stored rows only when they pair
// one to one with the dump's COPY statements.
func TestImportWholeStoredRowsFromCopyTags(t *testing.T) {
	dump := "--\n-- PostgreSQL database dump\n--\n\n" +
		"--\n-- Name: a; Type: DATABASE; Schema: -; Owner: postgres\n--\n\nCREATE DATABASE \"a\";\n\\connect a\n" +
		"--\n-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: postgres\n--\n\nCOPY \"public\".\"t\" (\"id\") FROM stdin;\n1\n2\n\\.\n\n" +
		"--\n-- Data for Name: u; Type: TABLE DATA; Schema: public; Owner: postgres\n--\n\nCOPY \"public\".\"u\" (\"id\") FROM stdin;\n\\.\n\n" +
		"--\n-- PostgreSQL database dump complete\n--\n\n"
	for _, tc := range []struct {
		name string
		tags []int64
		want map[string]int64
	}{
		{"one tag a COPY", []int64{2, 0}, map[string]int64{"a.public.t": 2, "a.public.u": 0}},
		{"the server stored fewer", []int64{1, 0}, map[string]int64{"a.public.t": 1, "a.public.u": 0}},
		{"a tag short", []int64{2}, nil},
		{"a tag too many", []int64{2, 0, 5}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := importWhole(context.Background(), strings.NewReader(dump), func(_ context.Context, r io.Reader) ([]int64, error) {
				_, err := io.Copy(io.Discard, r)
				return tc.tags, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("stored rows %v, want %v", got, tc.want)
			}
		})
	}
}

// The row check of an import that reports what the server stored compares
// that with the manifest, without asking the server again: a table short
// of rows, or one the import never reached, fails the restore.
func TestCheckRowsUsesTheRowsTheImportStored(t *testing.T) {
	tables := []archive.Table{
		{Database: "appwrite", Name: "public.t", Rows: 5},
		{Database: "appwrite", Name: "public.empty"},
		{Database: "appwrite", Name: "public.v", View: true},
	}
	for _, tc := range []struct {
		name    string
		stored  map[string]int64
		wantErr string
	}{
		{"as the backup", map[string]int64{"appwrite.public.t": 5, "appwrite.public.empty": 0}, ""},
		{"a table short", map[string]int64{"appwrite.public.t": 4, "appwrite.public.empty": 0}, "appwrite.public.t has 4 rows, the backup 5"},
		{"a table missing", map[string]int64{"appwrite.public.t": 5}, "appwrite.public.empty is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No engine: were the server asked, the test would panic.
			x := &executor{
				plan: &Plan{Manifest: &archive.Manifest{Database: &archive.Database{Kind: "postgresql", Tables: tables}}},
				imp:  &DumpImport{finished: true, stored: tc.stored},
				res:  &Result{},
			}
			err := x.checkRows(context.Background())
			if tc.wantErr == "" {
				if err != nil || x.res.TablesChecked != 2 {
					t.Errorf("checkRows = %v, %d tables checked; want nil, 2", err, x.res.TablesChecked)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("checkRows = %v, want it to say %q", err, tc.wantErr)
			}
		})
	}
}
