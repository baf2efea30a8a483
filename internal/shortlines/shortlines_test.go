package shortlines

import (
	"slices"
	"strings"
	"testing"
)

// Short lines come out whole however the output is cut into writes;
// longer ones, and a last line without its newline, never do.
func TestWriterSeesShortLinesOnly(t *testing.T) {
	out := "a\n\nabcd\nabcde\n" + strings.Repeat("x", 100) + "\nab\ntail"
	for _, step := range []int{1, 2, 3, 5, len(out)} {
		var got []string
		w := &Writer{Max: 4, Line: func(l []byte) { got = append(got, string(l)) }}
		for rest := out; len(rest) > 0; {
			k := min(step, len(rest))
			if n, err := w.Write([]byte(rest[:k])); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			rest = rest[k:]
		}
		if want := []string{"a", "", "abcd", "ab"}; !slices.Equal(got, want) {
			t.Errorf("writes of %d bytes: lines %q, want %q", step, got, want)
		}
	}
}
