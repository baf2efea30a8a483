// Package dumpscan reads a mariadb-dump/mysqldump stream as it passes by
// and records what a restore must reproduce: the databases, every table
// with its engine and the number of row tuples its INSERTs carry, the
// views, the triggers, routines and events it creates, and whether the dump
// ended with its completion trailer.
//
// It is a byte-level state machine fed through Write in slices of any
// size: every state survives a split at any byte, so the result never
// depends on how the stream was cut.
package dumpscan

import (
	"bytes"
	"strings"

	"github.com/appwrite-dr/dr/archive/dumplex"
)

// Table is a table (or view) seen in the dump.
type Table struct {
	Database string
	Name     string
	Engine   string
	Rows     int64
	View     bool
	// Versioned: the table is system-versioned (WITH SYSTEM VERSIONING).
	// Rows then counts every row version the dump carries: the history
	// too when the dump was made with --dump-history.
	Versioned bool
}

// Object is a trigger, procedure, function or event the dump creates.
type Object struct {
	Database string
	Kind     string // trigger, procedure, function or event
	Name     string
}

// Result is what the scanner saw.
type Result struct {
	Databases []string
	Tables    []Table
	Objects   []Object
	// Completed is true when the last non-empty line is the dump's
	// completion trailer ("-- Dump completed on …"): a dump cut short
	// never has it.
	Completed bool
}

const (
	headCap     = 4096
	lineHeadCap = 160
	// carryMore is how many bytes of the next Write decide a token the
	// last one ended in: more than the longest, /*M! and its version.
	carryMore = 16
)

// Scanner is an io.Writer that scans a dump stream.
type Scanner struct {
	lex   dumplex.Lexer
	stops dumplex.Stops
	// carry: the bytes of code at the end of the last Write whose token
	// the next decides ("-" of "-- ", "/" of "/*"); no line holds them yet.
	carry    []byte
	depth    int
	head     []byte // the statement so far, at paren depth 0, outside comments
	inValues bool   // an INSERT whose VALUES keyword has passed
	insertTo int    // the index in tables of that INSERT's table

	delim     string
	tail      []byte // last bytes of code, to match a multi-byte delimiter
	line      []byte // the current line's first bytes
	lastLine  []byte // the last non-empty line's first bytes
	lineEmpty bool

	db      string
	dbs     []string
	tables  []Table
	objects []Object
	byKey   map[string]int
}

// New returns a scanner for a fresh stream.
func New() *Scanner {
	return &Scanner{delim: ";", byKey: map[string]int{}, lineEmpty: true}
}

// Write scans p. It never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(s.carry) > 0 && len(p) > 0 {
		// The carried bytes, with enough of p to decide their token,
		// then p from wherever that left off.
		c := len(s.carry)
		k := min(len(p), carryMore)
		s.carry = append(s.carry, p[:k]...)
		used := s.scan(s.carry)
		if used < c {
			s.carry = append(s.carry[:0], s.carry[used:]...)
			p = p[k:]
			continue
		}
		s.carry = s.carry[:0]
		p = p[used-c:]
	}
	if used := s.scan(p); used < len(p) {
		s.carry = append(s.carry[:0], p[used:]...)
	}
	return n, nil
}

// scan scans p and returns how much of it it took: all but a token at
// its end that the next bytes decide.
func (s *Scanner) scan(p []byte) int {
	s.stops.Reset()
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch s.lex.State {
		case dumplex.Single, dumplex.Double, dumplex.Backtick:
			// The string's bytes in bulk, up to its end or the end of a
			// line inside it.
			k := s.lex.Skip(p, i, &s.stops, true)
			s.appendHead(p[i:k])
			if p[k-1] == '\n' && s.lex.State != dumplex.Code {
				s.appendLine(p[i : k-1])
				s.endLine(false)
			} else {
				s.appendLine(p[i:k])
			}
			i = k - 1
		case dumplex.LineComment, dumplex.BlockComment:
			// A DELIMITER command can stand in a line comment's line,
			// never in a block comment's.
			check := s.lex.State == dumplex.LineComment
			k := s.lex.Skip(p, i, &s.stops, false)
			s.lines(p[i:k], check)
			i = k - 1
		default:
			if s.depth > 0 && !rowStop[c] {
				// Fast path: the numbers, commas and hex literals of row
				// data between strings mean nothing to the scanner but
				// the line they are on.
				k := i + 1
				for k < len(p) && !rowStop[p[k]] {
					k++
				}
				s.appendLine(p[i:k])
				i = k - 1
				continue
			}
			if opener[c] && !s.endsDelimiter(c) {
				tok, k := s.lex.Open(p[i:], false)
				switch {
				case tok == dumplex.Undecided:
					return i
				case tok == dumplex.Marker || tok == dumplex.Opened && !s.lex.State.InString():
					// A comment's opener, or a versioned comment's
					// markers: no byte of the statement.
					s.appendLine(p[i : i+k])
					i += k - 1
					continue
				}
			}
			s.trackLine(c)
			s.code(c)
		}
	}
	return len(p)
}

// opener are the bytes of code a token may start with.
var opener = func() (t [256]bool) {
	for _, c := range []byte("'\"`#-/*") {
		t[c] = true
	}
	return t
}()

// endsDelimiter says whether c, in code, ends the delimiter: then it is
// not the start of a comment, as in the client.
func (s *Scanner) endsDelimiter(c byte) bool {
	d := s.delim
	return s.depth == 0 && c == d[len(d)-1] && bytes.HasSuffix(s.tail, []byte(d[:len(d)-1]))
}

// lines passes a comment's bytes to the line tracking.
func (s *Scanner) lines(p []byte, check bool) {
	for {
		j := bytes.IndexByte(p, '\n')
		if j < 0 {
			s.appendLine(p)
			return
		}
		s.appendLine(p[:j])
		s.endLine(check)
		p = p[j+1:]
	}
}

func (s *Scanner) code(c byte) {
	if s.depth > 0 && !special[c] {
		return // the bulk of row data: numbers, commas, hex literals
	}
	switch c {
	case '(':
		if s.depth == 0 && !s.inValues && isInsert(s.head) {
			// "VALUES(" with no space before the first row.
			if name, ok := valuesTarget(append(s.head, ' ')); ok {
				s.inValues = true
				s.insertTo = s.tableIndex(name)
			}
		}
		if s.depth == 0 && s.inValues {
			s.tables[s.insertTo].Rows++
		}
		s.depth++
		return
	case ')':
		if s.depth > 0 {
			s.depth--
		}
		return
	}
	if s.depth > 0 {
		return
	}
	s.appendHeadByte(c)
	if len(s.tail) == dumplex.MaxDelimiter {
		// Shifted in place: re-slicing from the front would shrink the
		// capacity until every append allocates.
		copy(s.tail, s.tail[1:])
		s.tail = s.tail[:dumplex.MaxDelimiter-1]
	}
	s.tail = append(s.tail, c)
	if s.lex.State == dumplex.Code && bytes.HasSuffix(s.tail, []byte(s.delim)) {
		s.endStatement(len(s.delim))
		return
	}
	if !s.inValues && (c == ' ' || c == '\n' || c == '\t' || c == '\r') && isInsert(s.head) {
		if name, ok := valuesTarget(s.head); ok {
			s.inValues = true
			s.insertTo = s.tableIndex(name)
		}
	}
}

// special are the bytes that matter inside parentheses.
var special = func() (t [256]bool) {
	for _, c := range []byte("'\"`()#-/*;") {
		t[c] = true
	}
	return t
}()

// rowStop ends the fast path over row data: the special bytes, and the
// end of a line.
var rowStop = func() (t [256]bool) {
	t = special
	t['\n'] = true
	return t
}()

func (s *Scanner) appendHeadByte(c byte) {
	if s.depth == 0 && len(s.head) < headCap {
		s.head = append(s.head, c)
	}
}

func (s *Scanner) appendHead(p []byte) {
	if s.depth == 0 && len(s.head) < headCap {
		room := headCap - len(s.head)
		if len(p) > room {
			p = p[:room]
		}
		s.head = append(s.head, p...)
	}
}

// trackLine keeps the first bytes of the current line and the last
// non-empty line, for the completion trailer and DELIMITER commands.
func (s *Scanner) trackLine(c byte) {
	if c == '\n' {
		s.endLine(true)
		return
	}
	if len(s.line) < lineHeadCap {
		s.line = append(s.line, c)
	}
	if c != ' ' && c != '\t' && c != '\r' {
		s.lineEmpty = false
	}
}

func (s *Scanner) appendLine(p []byte) {
	if len(p) == 0 {
		return
	}
	if room := lineHeadCap - len(s.line); room > 0 {
		if len(p) > room {
			s.line = append(s.line, p[:room]...)
		} else {
			s.line = append(s.line, p...)
		}
	}
	if s.lineEmpty && len(bytes.Trim(p, " \t\r")) > 0 {
		s.lineEmpty = false
	}
}

// endLine ends the current line; check says whether the line ended in
// code or a line comment, where it may be a DELIMITER command.
func (s *Scanner) endLine(check bool) {
	if !s.lineEmpty {
		s.lastLine = append(s.lastLine[:0], s.line...)
		if check {
			if d, ok, _ := dumplex.Delimiter(s.line); ok && d != "" {
				s.delim = d
				s.resetStatement()
			} else if bytes.HasPrefix(s.line, []byte(dumplex.SandboxLine)) {
				// A client command, not the start of the next statement.
				s.resetStatement()
			}
		}
	}
	s.line = s.line[:0]
	s.lineEmpty = true
}

func (s *Scanner) resetStatement() {
	s.head = s.head[:0]
	s.tail = s.tail[:0]
	s.inValues = false
	s.insertTo = 0
	s.depth = 0
}

// endStatement classifies the statement that just ended.
func (s *Scanner) endStatement(delimLen int) {
	head := s.head
	if len(head) >= delimLen {
		head = head[:len(head)-delimLen]
	}
	s.classify(string(head))
	s.resetStatement()
}

func (s *Scanner) classify(stmt string) {
	words := tokens(stmt, 64)
	if len(words) < 2 {
		return
	}
	first := strings.ToUpper(words[0])
	switch first {
	case "USE":
		s.useDatabase(unquote(words[1]))
	case "CREATE":
		s.classifyCreate(stmt, words)
	}
}

func (s *Scanner) classifyCreate(stmt string, words []string) {
	// CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] name … ENGINE=x
	// CREATE [OR REPLACE] [ALGORITHM=…] [DEFINER=…] [SQL SECURITY …] VIEW name
	for i := 1; i < len(words); i++ {
		w := strings.ToUpper(words[i])
		switch w {
		case "TABLE":
			j := i + 1
			for j < len(words) && dumplex.IsWord(words[j], "IF", "NOT", "EXISTS") {
				j++
			}
			if j >= len(words) || !isName(words[j]) {
				return
			}
			t := s.tableFor(words[j])
			if !t.View {
				// The table options come after the columns, which the
				// head never holds, so a wide table's are still within
				// the first words; more are read for them than classify
				// needs for any other statement.
				options := tokens(stmt, tableOptionWords)
				t.Engine = engineOf(options)
				t.Versioned = systemVersioned(options)
			}
			return
		case "VIEW":
			if i+1 < len(words) && isName(words[i+1]) {
				t := s.tableFor(words[i+1])
				t.View = true
				t.Engine = ""
			}
			return
		case "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT":
			// A routine's parameter list is inside parentheses, which the
			// head never holds, so the next word is the bare name.
			j := i + 1
			for j < len(words) && dumplex.IsWord(words[j], "IF", "NOT", "EXISTS") {
				j++
			}
			if j < len(words) && isName(words[j]) {
				s.addObject(strings.ToLower(w), words[j])
			}
			return
		case "DATABASE", "SCHEMA", "INDEX", "USER", "ROLE", "SEQUENCE":
			return
		}
	}
}

// tableOptionWords bounds the words of a CREATE TABLE read for its
// options: SHOW CREATE TABLE writes a dozen or so, WITH SYSTEM VERSIONING
// last.
const tableOptionWords = 256

// systemVersioned says whether a CREATE TABLE's words end its options with
// WITH SYSTEM VERSIONING (a column's own WITH SYSTEM VERSIONING is inside
// the parentheses, which the head never holds; a quoted COMMENT is one
// word).
func systemVersioned(words []string) bool {
	for i := 0; i+2 < len(words); i++ {
		if strings.EqualFold(words[i], "WITH") && strings.EqualFold(words[i+1], "SYSTEM") && strings.EqualFold(words[i+2], "VERSIONING") {
			return true
		}
	}
	return false
}

func engineOf(words []string) string {
	for i, w := range words {
		u := strings.ToUpper(w)
		if strings.HasPrefix(u, "ENGINE=") {
			return w[len("ENGINE="):]
		}
		if u == "ENGINE" && i+1 < len(words) {
			v := words[i+1]
			if v == "=" && i+2 < len(words) {
				v = words[i+2]
			}
			return strings.TrimPrefix(v, "=")
		}
	}
	return ""
}

func (s *Scanner) useDatabase(name string) {
	s.db = name
	for _, d := range s.dbs {
		if d == name {
			return
		}
	}
	s.dbs = append(s.dbs, name)
}

func (s *Scanner) addObject(kind, raw string) {
	db, name := s.db, unquote(raw)
	if d, n, ok := splitQualified(raw); ok {
		db, name = d, n
	}
	for _, o := range s.objects {
		if o.Database == db && o.Kind == kind && o.Name == name {
			return
		}
	}
	s.objects = append(s.objects, Object{Database: db, Kind: kind, Name: name})
}

// tableFor finds or adds a table by its (possibly db-qualified) name.
func (s *Scanner) tableFor(raw string) *Table {
	return &s.tables[s.tableIndex(raw)]
}

// tableIndex is tableFor's index in tables, which stays valid as tables
// grows: an INSERT's rows are counted through it without a lookup each.
func (s *Scanner) tableIndex(raw string) int {
	db, name := s.db, unquote(raw)
	if d, n, ok := splitQualified(raw); ok {
		db, name = d, n
	}
	key := db + "\x00" + name
	if i, ok := s.byKey[key]; ok {
		return i
	}
	s.tables = append(s.tables, Table{Database: db, Name: name})
	s.byKey[key] = len(s.tables) - 1
	return len(s.tables) - 1
}

// isInsert says whether the statement starts with INSERT or REPLACE.
func isInsert(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n;")
	return len(h) >= 6 && (bytes.EqualFold(h[:6], []byte("INSERT")) || (len(h) >= 7 && bytes.EqualFold(h[:7], []byte("REPLACE"))))
}

// valuesTarget parses "INSERT [modifiers] [INTO] name [(cols)] VALUES" once
// the head has reached VALUES, and returns the table.
func valuesTarget(head []byte) (string, bool) {
	words := tokens(string(head), 16)
	if len(words) < 3 || !strings.EqualFold(words[len(words)-1], "VALUES") && !strings.EqualFold(words[len(words)-1], "VALUE") {
		return "", false
	}
	for _, w := range words[1 : len(words)-1] {
		if dumplex.IsWord(w, "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO") {
			continue
		}
		return w, isName(w)
	}
	return "", false
}

// isName says whether a word can name a table or an object: MariaDB
// refuses a name holding NUL.
func isName(w string) bool { return strings.IndexByte(w, 0) < 0 }

// tokens splits SQL into words, keeping quoted names whole and stopping
// after max words.
func tokens(s string, max int) []string {
	var out []string
	i := 0
	for i < len(s) && len(out) < max {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == ',':
			i++
		default:
			j := i
			for j < len(s) {
				d := s[j]
				if d == '`' || d == '\'' || d == '"' {
					k := strings.IndexByte(s[j+1:], d)
					if k < 0 {
						j = len(s)
						break
					}
					j += k + 2
					continue
				}
				if d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == ';' || d == ',' {
					break
				}
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

func unquote(w string) string {
	if len(w) >= 2 && (w[0] == '`' || w[0] == '"') && w[len(w)-1] == w[0] {
		q := string(w[0])
		return strings.ReplaceAll(w[1:len(w)-1], q+q, q)
	}
	return w
}

// splitQualified splits `db`.`table`. A quoted part ends at its closing
// backtick, never at a doubled one, which is a backtick of the name.
func splitQualified(w string) (db, name string, ok bool) {
	if strings.HasPrefix(w, "`") {
		end := dumplex.QuoteEnd(w, 0)
		if end < len(w) && w[end] == '.' {
			return unquote(w[:end]), unquote(w[end+1:]), true
		}
		return "", "", false
	}
	if i := strings.IndexByte(w, '.'); i > 0 {
		return w[:i], unquote(w[i+1:]), true
	}
	return "", "", false
}

// Result returns what was seen so far.
func (s *Scanner) Result() Result {
	last := strings.TrimSpace(string(s.lastLine))
	if !s.lineEmpty || len(s.carry) > 0 {
		// A final line without a newline still counts, with the bytes
		// carried for the next Write: the stream ends with them.
		line := append(s.line[:len(s.line):len(s.line)], s.carry[:min(len(s.carry), max(0, lineHeadCap-len(s.line)))]...)
		last = strings.TrimSpace(string(line))
	}
	tables := make([]Table, len(s.tables))
	copy(tables, s.tables)
	return Result{
		Databases: append([]string(nil), s.dbs...),
		Tables:    tables,
		Objects:   append([]Object(nil), s.objects...),
		Completed: strings.HasPrefix(last, "-- Dump completed"),
	}
}
