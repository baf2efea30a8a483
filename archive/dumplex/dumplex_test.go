package dumplex

import (
	"strings"
	"testing"
)

// classes lexes data handed over n bytes at a time (0: whole) as a
// streaming reader does, keeping what is undecided for the next bytes,
// and names the class of every byte: c code, m a versioned comment's
// marker, s string, l line comment, b block comment.
func classes(data string, n int) string {
	if n <= 0 {
		n = len(data)
	}
	var l Lexer
	var f Stops
	out := make([]byte, 0, len(data))
	p := []byte(data)
	done, have := 0, 0
	for done < len(p) {
		have = min(len(p), have+n)
		eof := have == len(p)
		buf := p[:have]
		f.Reset()
		for done < have {
			if l.State != Code {
				// The bytes Skip goes over are named for what they were in:
				// the byte that closes a string or comment is its last.
				cl := class(l.State)
				// Both ways of finding a string's end: through Stops,
				// stopping at lines or not, and afresh.
				var k int
				if n%3 == 0 {
					k = l.Skip(buf, done, nil, false)
				} else {
					k = l.Skip(buf, done, &f, n%2 == 0)
				}
				out = append(out, strings.Repeat(string(cl), k-done)...)
				done = k
				continue
			}
			tok, k := l.Open(buf[done:], eof)
			if tok == Undecided {
				break
			}
			c := byte('c')
			switch {
			case tok == Marker:
				c = 'm'
			case tok == Opened:
				c = class(l.State)
			}
			out = append(out, strings.Repeat(string(c), k)...)
			done += k
		}
	}
	return string(out)
}

// class names a state other than Code.
func class(st State) byte {
	switch st {
	case Single, Double, Backtick:
		return 's'
	case LineComment:
		return 'l'
	case BlockComment:
		return 'b'
	}
	return 0
}

// model is the client's reading written plainly, byte by byte, with the
// whole input in view.
func model(data string) string {
	out := make([]byte, len(data))
	versioned := false
	for i := 0; i < len(data); {
		c := data[i]
		mark := func(cl byte, n int) {
			for j := i; j < i+n && j < len(data); j++ {
				out[j] = cl
			}
			i += n
		}
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(data) && data[j] != c {
				if data[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			mark('s', j+1-i)
		case c == '#' || strings.HasPrefix(data[i:], "--") && (i+2 == len(data) || strings.ContainsRune(" \t\n\r\f\v", rune(data[i+2]))):
			j := strings.IndexByte(data[i:], '\n')
			if j < 0 {
				j = len(data) - i - 1
			}
			mark('l', j+1)
		case strings.HasPrefix(data[i:], "/*!") || strings.HasPrefix(data[i:], "/*M!"):
			j := 3
			if data[i+2] == 'M' {
				j = 4
			}
			for d := 0; d < maxVersion && i+j < len(data) && data[i+j] >= '0' && data[i+j] <= '9'; d++ {
				j++
			}
			versioned = true
			mark('m', j)
		case strings.HasPrefix(data[i:], "/*"):
			j := strings.Index(data[i+2:], "*/")
			if j < 0 {
				j = len(data) - i - 4
			}
			mark('b', j+4)
		case versioned && strings.HasPrefix(data[i:], "*/"):
			versioned = false
			mark('m', 2)
		default:
			mark('c', 1)
		}
	}
	return string(out)
}

func TestLexer(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"strings and escapes", `a'b\'c'"d\"e"` + "`f\\`g", "cssssssssssssssssc"},
		{"a doubled quote is two strings", "'a''b'", "ssssss"},
		{"dashes then a space", "a-- x\nb", "clllllc"},
		{"dashes then code", "a--x", "cccc"},
		{"dashes at the end", "a--", "cll"},
		{"hash", "#x\ny", "lllc"},
		{"block comment", "a/* x */b", "cbbbbbbbc"},
		{"versioned comment is code", "/*!40101 SET */;", "mmmmmmmmcccccmmc"},
		{"MariaDB's versioned comment", "/*M!100616 x*/", "mmmmmmmmmmccmm"},
		{"*/ outside a versioned comment is code", "2*/1", "cccc"},
		{"a comment's opener in a string", "'-- /*'x", "sssssssc"},
		{"backslash in a name is a byte", "`a\\`b", "ssssc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for n := 0; n <= len(tt.in); n++ {
				if got := classes(tt.in, n); got != tt.want {
					t.Fatalf("in pieces of %d: %q, want %q", n, got, tt.want)
				}
			}
			if got := model(tt.in); got != tt.want {
				t.Errorf("the model: %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDelimiter(t *testing.T) {
	tests := []struct {
		line, want string
		ok, plain  bool
	}{
		{"DELIMITER ;;", ";;", true, true},
		{"  delimiter\t$$ trailing", "$$", true, true},
		{"DELIMITER //", "//", true, false},
		{"DELIMITER 'x'", "'x'", true, false},
		{"DELIMITER ", "", true, false},
		{"DELIMITERS ;;", "", false, false},
		{"SELECT 1;", "", false, false},
	}
	for _, tt := range tests {
		d, ok, plain := Delimiter([]byte(tt.line))
		if d != tt.want || ok != tt.ok || plain != tt.plain {
			t.Errorf("Delimiter(%q) = %q, %v, %v; want %q, %v, %v", tt.line, d, ok, plain, tt.want, tt.ok, tt.plain)
		}
	}
}

// FuzzLexer: in pieces of any size the lexer names every byte as it does
// with the whole input in view, and as the plain model of the client does.
func FuzzLexer(f *testing.F) {
	f.Add("INSERT INTO `t` VALUES (1,'a\\'b\\\\','\"'),(0x0F,-1,\"x`'\");\n-- Dump completed", uint8(3))
	f.Add("/*!40101 SET NAMES utf8mb4 */;\n/*M!100616 SET x=1 */;\n# c\n/* b * / */--\n", uint8(1))
	f.Add("'\\\n'--\t/*M!*/", uint8(2))
	f.Fuzz(func(t *testing.T, data string, n uint8) {
		want := model(data)
		if got := classes(data, 0); got != want {
			t.Fatalf("whole: %q, the model: %q", got, want)
		}
		if got := classes(data, int(n%32)+1); got != want {
			t.Fatalf("in pieces of %d: %q, the model: %q", n%32+1, got, want)
		}
	})
}
