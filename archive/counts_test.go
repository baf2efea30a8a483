package archive

import "testing"

// Views are not tables: every command counts tables and rows here.
func TestDatabaseCounts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		db     *Database
		tables int
		rows   int64
	}{
		{"no database", nil, 0, 0},
		{"tables only", &Database{Tables: []Table{{Name: "a", Rows: 2}, {Name: "b", Rows: 3}}}, 2, 5},
		{"a view is no table", &Database{Tables: []Table{{Name: "a", Rows: 2}, {Name: "v", View: true}}}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tables, rows := tc.db.Counts()
			if tables != tc.tables || rows != tc.rows {
				t.Errorf("Counts = %d tables, %d rows; want %d, %d", tables, rows, tc.tables, tc.rows)
			}
		})
	}
}
