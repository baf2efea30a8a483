// Package dumplex is the one lexer of a mariadb-dump/mysqldump stream:
// where the mariadb client (client/mysql.cc add_line) is inside a string,
// a comment or code, byte by byte. dumpscan (counting what a backup holds)
// and dumpsplit (cutting a dump for a parallel import) read the same dump
// and must agree on where its statements are, so both read it through this.
//
// It follows the client's rules: '…', "…" and `…` strings, backslash
// escapes except inside backticks, "-- " (dashes then whitespace or the
// end) and "#" comments to the end of the line, /* */ comments but /*!
// and /*M! versioned ones as code, and the DELIMITER command.
//
// The lexer never holds bytes: its caller keeps the buffer, asks what
// starts at a byte of code (Open) and skips strings and comments in bulk
// (Skip). Every state survives a cut at any byte.
package dumplex

import (
	"bytes"
	"strings"
)

// State is where the client is.
type State uint8

const (
	Code         State = iota
	Single             // inside '…'
	Double             // inside "…"
	Backtick           // inside `…`
	LineComment        // "-- " or "#" to the end of the line
	BlockComment       // /* … */, not /*! or /*M!, whose content is code
)

// InString says whether s is inside a quoted string or name.
func (s State) InString() bool { return s == Single || s == Double || s == Backtick }

// quote is the byte that ends a string of state s.
func (s State) quote() byte {
	switch s {
	case Single:
		return '\''
	case Double:
		return '"'
	default:
		return '`'
	}
}

// Token is what Open found at a byte of code.
type Token uint8

const (
	// Plain: the byte is code of a statement.
	Plain Token = iota
	// Opened: the bytes opened a string or a comment; the lexer's State
	// says which.
	Opened
	// Marker: the bytes are the /*!NNNNN or /*M!NNNNN that opens a
	// versioned comment, or the */ that closes one: code for the client
	// (the content runs), but no word of the statement.
	Marker
	// Undecided: the bytes given end before the token does; call again
	// with more, or with eof.
	Undecided
)

// maxVersion bounds the digits of a versioned comment's version.
const maxVersion = 6

// Lexer is the client's reading state between two calls.
type Lexer struct {
	State State
	// escaped: the bytes given ended on a backslash inside a string.
	escaped bool
	// star: the bytes given ended on a '*' inside a block comment.
	star bool
	// versioned: inside a /*! or /*M! comment, whose */ is a marker.
	versioned bool
}

// Open says what starts at p[0], a byte of code: how many bytes the token
// takes (1 for a Plain byte, 0 when Undecided). eof says that p holds
// everything that is left of the stream.
func (l *Lexer) Open(p []byte, eof bool) (Token, int) {
	switch p[0] {
	case '\'':
		l.State = Single
	case '"':
		l.State = Double
	case '`':
		l.State = Backtick
	case '#':
		l.State = LineComment
	case '-':
		if len(p) < 3 && !eof {
			// "--" then whitespace: whether it is a comment waits on
			// the third byte, unless the second already says no.
			if len(p) == 2 && p[1] != '-' {
				return Plain, 1
			}
			return Undecided, 0
		}
		if len(p) < 2 || p[1] != '-' || len(p) > 2 && !isSpace(p[2]) {
			return Plain, 1
		}
		l.State = LineComment
		return Opened, 2
	case '/':
		return l.openSlash(p, eof)
	case '*':
		if !l.versioned {
			return Plain, 1
		}
		if len(p) < 2 {
			if eof {
				return Plain, 1
			}
			return Undecided, 0
		}
		if p[1] != '/' {
			return Plain, 1
		}
		l.versioned = false
		return Marker, 2
	default:
		return Plain, 1
	}
	return Opened, 1
}

// openSlash reads "/*", "/*!NNNNN" and "/*M!NNNNN" at p[0] == '/'.
func (l *Lexer) openSlash(p []byte, eof bool) (Token, int) {
	// The longest token is "/*M!" and the digits of its version, which
	// end at the first byte that is not one.
	n := 2
	switch {
	case len(p) < 2:
	case p[1] != '*':
		return Plain, 1
	case len(p) > 2 && p[2] == '!':
		n = 3
	case len(p) > 3 && p[2] == 'M' && p[3] == '!':
		n = 4
	case len(p) > 3 || len(p) == 3 && p[2] != 'M':
		l.State = BlockComment
		return Opened, 2
	}
	if len(p) < 2 {
		if !eof {
			return Undecided, 0
		}
		return Plain, 1
	}
	if n == 2 {
		// "/*" or "/*M" with nothing after yet.
		if !eof {
			return Undecided, 0
		}
		l.State = BlockComment
		return Opened, 2
	}
	start := n
	for n < len(p) && p[n] >= '0' && p[n] <= '9' && n-start < maxVersion {
		n++
	}
	if n == len(p) && !eof && n-start < maxVersion {
		return Undecided, 0
	}
	l.versioned = true
	return Marker, n
}

// Skip goes over the string or comment that p[i:] is in: it returns the
// index after the bytes that belong to it, up to and with the byte that
// ends it (the lexer is then in Code again), or len(p). With lines, it
// stops after each newline inside a string too, so that the caller sees
// every line end. f is the caller's Stops for p; nil scans each string
// afresh, which is faster where strings are short and lines need no
// stops (then lines must be false).
func (l *Lexer) Skip(p []byte, i int, f *Stops, lines bool) int {
	switch l.State {
	case Single, Double, Backtick:
		return l.skipString(p, i, f, lines)
	case LineComment:
		k := bytes.IndexByte(p[i:], '\n')
		if k < 0 {
			return len(p)
		}
		l.State = Code
		return i + k + 1
	case BlockComment:
		if l.star && i < len(p) {
			l.star = false
			if p[i] == '/' {
				l.State = Code
				return i + 1
			}
		}
		k := bytes.Index(p[i:], []byte("*/"))
		if k < 0 {
			l.star = len(p) > i && p[len(p)-1] == '*'
			return len(p)
		}
		l.State = Code
		return i + k + 2
	}
	return i
}

func (l *Lexer) skipString(p []byte, i int, f *Stops, lines bool) int {
	if l.escaped && i < len(p) {
		l.escaped = false
		i++
		if lines && p[i-1] == '\n' {
			return i
		}
	}
	for i < len(p) {
		var k int
		if f != nil {
			k = f.next(p, i, l.State, lines)
		} else {
			k = nextStop(p, i, l.State)
		}
		if k == len(p) {
			return k
		}
		switch p[k] {
		case '\n':
			return k + 1
		case '\\':
			// Never inside backticks: next does not stop there.
			if k+1 == len(p) {
				l.escaped = true
				return len(p)
			}
			i = k + 2
			if lines && p[k+1] == '\n' {
				return i
			}
			continue
		}
		// The closing quote.
		l.State = Code
		return k + 1
	}
	return i
}

// Stops finds, in one buffer, the next byte that can end or escape a
// string, or end the line. It remembers the next position of each such
// byte, so that a long string full of escapes, or quotes of one kind
// between strings of another, costs one pass over the bytes per kind of
// stop, not one per stop. Reset it whenever the buffer's bytes change.
type Stops struct {
	at [5]int // next ', ", `, \ and newline at or after the last query; -1: unknown
}

// Reset forgets every position: the buffer is another.
func (f *Stops) Reset() { f.at = [5]int{-1, -1, -1, -1, -1} }

var stopBytes = [5]byte{'\'', '"', '`', '\\', '\n'}

func (f *Stops) find(p []byte, i, which int) int {
	if f.at[which] < i {
		if k := bytes.IndexByte(p[i:], stopBytes[which]); k >= 0 {
			f.at[which] = i + k
		} else {
			f.at[which] = len(p)
		}
	}
	return f.at[which]
}

// next is the index of the first byte at or after i that can change the
// string state st (or, with lines, ends the line), or len(p).
func (f *Stops) next(p []byte, i int, st State, lines bool) int {
	var k int
	switch st {
	case Single:
		k = min(f.find(p, i, 0), f.find(p, i, 3))
	case Double:
		k = min(f.find(p, i, 1), f.find(p, i, 3))
	default:
		k = f.find(p, i, 2)
	}
	if lines {
		k = min(k, f.find(p, i, 4))
	}
	return k
}

// nextStop is the index of the first byte at or after i that can end or
// escape a string of state st, or len(p).
func nextStop(p []byte, i int, st State) int {
	q := st.quote()
	if st == Backtick {
		if k := bytes.IndexByte(p[i:], q); k >= 0 {
			return i + k
		}
		return len(p)
	}
	for k := i; k < len(p); k++ {
		if c := p[k]; c == q || c == '\\' {
			return k
		}
	}
	return len(p)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// SandboxLine is the first line of a recent mariadb-dump's output: the
// client reads it as a command (no shell escapes from here on), older
// clients and servers as a versioned comment that never runs.
const SandboxLine = `/*M!999999\- enable the sandbox mode */`

// MaxDelimiter bounds a delimiter the lexer follows.
const MaxDelimiter = 16

// Delimiter reads a DELIMITER command line, as the client does: the
// command, whitespace, and the first word after it. ok says the line is
// one; plain says the client takes the word as it is written, so a reader
// can follow it (a quoted delimiter, or one holding a comment's or a
// string's bytes, it cannot).
func Delimiter(line []byte) (delim string, ok, plain bool) {
	t := bytes.TrimLeft(line, " \t")
	if len(t) < 10 || !bytes.EqualFold(t[:9], []byte("delimiter")) || !isSpace(t[9]) {
		return "", false, false
	}
	arg := strings.TrimSpace(string(t[10:]))
	if f := strings.Fields(arg); len(f) > 0 {
		arg = f[0]
	}
	plain = arg != "" && len(arg) <= MaxDelimiter && !strings.ContainsAny(arg, "\\'\"`#-/*")
	return arg, true, plain
}

// QuoteEnd is the index after the quoted run that starts at s[j] (a
// doubled quote stays inside it), or len(s).
func QuoteEnd(s string, j int) int {
	q := s[j]
	for k := j + 1; k < len(s); k++ {
		if s[k] != q {
			continue
		}
		if k+1 < len(s) && s[k+1] == q {
			k++
			continue
		}
		return k + 1
	}
	return len(s)
}

// IsWord says whether w is one of the keywords kws, in any case.
func IsWord(w string, kws ...string) bool {
	for _, k := range kws {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}
