package forensics

import (
	"strconv"
	"testing"
)

func TestCompareChecksums(t *testing.T) {
	tests := []struct {
		name  string
		a, b  map[string]uint64
		rowsB int64 // of appwrite._1_users; base has 3
		want  []string
	}{
		{"same sums", map[string]uint64{"appwrite._1_users": 7}, map[string]uint64{"appwrite._1_users": 7}, 3, nil},
		{"same rows, other sum", map[string]uint64{"appwrite._1_users": 7, "appwrite._1_sessions": 1}, map[string]uint64{"appwrite._1_users": 8, "appwrite._1_sessions": 1}, 3,
			[]string{"appwrite._1_users checksum 7 -> 8"}},
		{"rows differ: rows reported, not the sum", map[string]uint64{"appwrite._1_users": 7}, map[string]uint64{"appwrite._1_users": 8}, 4,
			[]string{"appwrite._1_users rows 3 -> 4"}},
		{"backup side has none", nil, map[string]uint64{"appwrite._1_users": 8}, 3, nil},
		{"live side has none", map[string]uint64{"appwrite._1_users": 7}, nil, 3, nil},
		{"table only summed on one side", map[string]uint64{"appwrite._1_sessions": 1}, map[string]uint64{"appwrite._1_users": 8, "appwrite._1_sessions": 1}, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			a.Checksums, b.Checksums = tt.a, tt.b
			b.Tables["appwrite._1_users"] = Table{Rows: tt.rowsB}
			r := Compare(a, b)
			var got []string
			for _, c := range r.Tables {
				switch {
				case c.ChecksumA != nil:
					got = append(got, c.Table+" checksum "+strconv.FormatUint(*c.ChecksumA, 10)+" -> "+strconv.FormatUint(*c.ChecksumB, 10))
				case c.RowsA != nil && c.RowsB != nil:
					got = append(got, c.Table+" rows "+strconv.FormatInt(*c.RowsA, 10)+" -> "+strconv.FormatInt(*c.RowsB, 10))
				default:
					got = append(got, c.Table+" "+c.Change)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
			if r.Counts["tables"] != len(tt.want) {
				t.Fatalf("counted %d table differences, want %d", r.Counts["tables"], len(tt.want))
			}
		})
	}
}
