package postgres

import (
	"slices"
	"strings"
	"testing"
)

// psql's output as a dump import prints it: the tags of every statement
// and the rows of the queries the dump runs; only the COPY tags count,
// however the output is cut into writes.
func TestCopyTagsReadsOnlyTags(t *testing.T) {
	out := "SET\nSET\n set_config \n------------\n \n(1 row)\n\nCREATE DATABASE\nYou are now connected to database \"appwrite\" as user \"postgres\".\n" +
		"CREATE TABLE\nALTER TABLE\nCOPY 1000\nCOPY 0\n setval \n--------\n COPY 7\n(1 row)\n\n" +
		"COPY " + strings.Repeat("9", 40) + "\nCOPY -1\nCOPY 12x\nCOPY 3\nALTER TABLE\n"
	for _, step := range []int{1, 3, 7, len(out)} {
		c := &copyTags{}
		w := c.writer()
		for rest := out; len(rest) > 0; {
			k := min(step, len(rest))
			if n, err := w.Write([]byte(rest[:k])); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			rest = rest[k:]
		}
		if want := []int64{1000, 0, 3}; !slices.Equal(c.rows, want) {
			t.Errorf("writes of %d bytes: tags %v, want %v", step, c.rows, want)
		}
	}
}
