package forensics

import (
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name string
		a, b []byte
		want string // the hunks, after the two header lines
	}{
		{"one line changed", []byte("a\nb\nc\n"), []byte("a\nB\nc\n"),
			"@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"deletions before insertions", []byte("1\n2\n3\n4\n"), []byte("1\nx\ny\n4\n"),
			"@@ -1,4 +1,4 @@\n 1\n-2\n-3\n+x\n+y\n 4\n"},
		{"far apart changes make two hunks",
			[]byte("a\n1\n2\n3\n4\n5\n6\n7\n8\nz\n"), []byte("A\n1\n2\n3\n4\n5\n6\n7\n8\nZ\n"),
			"@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-z\n+Z\n"},
		{"near changes share a hunk",
			[]byte("a\n1\n2\n3\nz\n"), []byte("A\n1\n2\n3\nZ\n"),
			"@@ -1,5 +1,5 @@\n-a\n+A\n 1\n 2\n 3\n-z\n+Z\n"},
		{"file added", nil, []byte("x\ny\n"), "@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"file removed", []byte("x\n"), nil, "@@ -1 +0,0 @@\n-x\n"},
		{"no newline at end", []byte("a\nb"), []byte("a\nb\n"),
			"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{"binary", []byte("a\x00"), []byte("b\x00"), "Binary files differ\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unified("f", tt.a, tt.b, "A", "B")
			header, hunks, _ := strings.Cut(got, "+++ ")
			_, hunks, _ = strings.Cut(hunks, "\n")
			if !strings.HasPrefix(header, "--- ") {
				t.Fatalf("no header: %q", got)
			}
			if hunks != tt.want {
				t.Errorf("got\n%s\nwant\n%s", hunks, tt.want)
			}
		})
	}
}

func TestUnifiedTooLarge(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		a.WriteString("a" + strings.Repeat("x", i%7) + "\n")
		b.WriteString("b" + strings.Repeat("y", i%5) + "\n")
	}
	got := Unified("f", []byte(a.String()), []byte(b.String()), "A", "B")
	if !strings.Contains(got, "too many differences") {
		t.Errorf("got %.200q", got)
	}
}
