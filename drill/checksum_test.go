package drill

import "testing"

// Reports with and without checksums (older than them) both parse.
func TestParseReportChecksums(t *testing.T) {
	head := `{"tool":"dr 0.3","backup":"appwrite-20261101T080000Z.tar.zst","stack":"appwrite","started":"2026-11-01T09:00:00Z","passed":true,"checks":[]`
	tests := []struct {
		name string
		json string
		want map[string]uint64
	}{
		{"without checksums", head + `}`, nil},
		{"with checksums", head + `,"checksums":{"appwrite.users":18446744073709551615,"appwrite.sessions":0}}`,
			map[string]uint64{"appwrite.users": 18446744073709551615, "appwrite.sessions": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := ParseReport([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Checksums) != len(tt.want) || (tt.want == nil) != (rep.Checksums == nil) {
				t.Fatalf("checksums %v, want %v", rep.Checksums, tt.want)
			}
			for k, v := range tt.want {
				if rep.Checksums[k] != v {
					t.Fatalf("%s = %d, want %d", k, rep.Checksums[k], v)
				}
			}
		})
	}
	if _, err := ParseReport([]byte(`{"checksums":{"a.b":-1}}`)); err == nil {
		t.Fatal("a negative checksum parsed")
	}
}
