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

type state uint8

const (
	stCode         state = iota
	stSingle             // inside '…'
	stDouble             // inside "…"
	stBacktick           // inside `…`
	stLineComment        // -- or # to end of line
	stBlockComment       // /* … */ (not /*! which is code)
)

const (
	headCap     = 4096
	lineHeadCap = 160
)

// Scanner is an io.Writer that scans a dump stream.
type Scanner struct {
	st      state
	escaped bool // previous byte was a backslash inside a string
	prev    byte // previous byte in code (for two-byte tokens)
	depth   int
	// blockStart: the byte after "/*", where "!" makes it a versioned
	// comment whose content is code; skipVersion: its version digits.
	blockStart  bool
	skipVersion bool
	head        []byte // the statement so far, at paren depth 0, outside comments
	inValues    bool   // an INSERT whose VALUES keyword has passed
	insertTo    int    // the index in tables of that INSERT's table

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
	started bool
}

// New returns a scanner for a fresh stream.
func New() *Scanner {
	return &Scanner{delim: ";", byKey: map[string]int{}, lineEmpty: true}
}

// Write scans p. It never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	var stops stringStops
	stops.reset()
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch s.st {
		case stSingle, stDouble, stBacktick:
			// Fast path: skip ordinary string bytes in bulk, up to the
			// next byte that can end or escape the string or end the
			// line, so the span goes to the line as it is.
			if !s.escaped {
				k := stops.next(p, i, s.st)
				if k > i {
					s.appendLine(p[i:k])
					s.appendHead(p[i:k])
					if k == len(p) {
						return n, nil
					}
					i = k
					c = p[i]
				}
			}
			s.trackLine(c)
			s.appendHeadByte(c)
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\' && s.st != stBacktick:
				s.escaped = true
			case c == quoteOf(s.st):
				s.st = stCode
				s.prev = 0
			}
		case stLineComment:
			s.trackLine(c)
			if c == '\n' {
				s.st = stCode
				s.prev = '\n'
			}
		case stBlockComment:
			s.trackLine(c)
			if s.blockStart {
				s.blockStart = false
				if c == '!' {
					s.st = stCode
					s.skipVersion = true
					s.prev = 0
					continue
				}
			}
			if s.prev == '*' && c == '/' {
				s.st = stCode
				s.prev = 0
				continue
			}
			s.prev = c
		default:
			if s.depth > 0 && !s.skipVersion && !rowStop[c] {
				// Fast path: the numbers, commas and hex literals of row
				// data between strings mean nothing to the scanner but
				// the line they are on, and the last of them is the
				// previous byte of a two-byte token.
				k := i + 1
				for k < len(p) && !rowStop[p[k]] {
					k++
				}
				s.appendLine(p[i:k])
				s.prev = p[k-1]
				i = k - 1
				continue
			}
			s.trackLine(c)
			s.code(c)
		}
	}
	return n, nil
}

// stringStops finds, in one Write's bytes, the next byte that can end or
// escape a string, or end the line. It remembers the next position of
// each such byte, so that a long string full of escapes, or quotes of one
// kind between strings of another, costs one pass over the bytes per kind
// of stop, not one per stop; and since strings rarely hold a raw newline,
// the span up to the stop goes to the line as it is.
type stringStops struct {
	at [5]int // next ', ", `, \ and newline at or after the last query; -1: unknown
}

func (f *stringStops) reset() { f.at = [5]int{-1, -1, -1, -1, -1} }

var stopBytes = [5]byte{'\'', '"', '`', '\\', '\n'}

func (f *stringStops) find(p []byte, i, which int) int {
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
// string state st or ends the line, or len(p).
func (f *stringStops) next(p []byte, i int, st state) int {
	switch st {
	case stSingle:
		return min(f.find(p, i, 0), f.find(p, i, 3), f.find(p, i, 4))
	case stDouble:
		return min(f.find(p, i, 1), f.find(p, i, 3), f.find(p, i, 4))
	default:
		return min(f.find(p, i, 2), f.find(p, i, 4))
	}
}

func quoteOf(st state) byte {
	switch st {
	case stSingle:
		return '\''
	case stDouble:
		return '"'
	default:
		return '`'
	}
}

func (s *Scanner) code(c byte) {
	prev := s.prev
	s.prev = c
	if s.skipVersion {
		// The NNNNN of a /*!NNNNN versioned comment is not SQL.
		if c >= '0' && c <= '9' {
			return
		}
		s.skipVersion = false
	}
	if s.depth > 0 && !special[c] {
		return // the bulk of row data: numbers, commas, hex literals
	}
	// Two-byte tokens: the first byte was already taken as code; take it
	// back out of the head.
	switch {
	case prev == '-' && c == '-':
		s.dropHeadByte()
		s.st = stLineComment
		return
	case prev == '/' && c == '*':
		s.dropHeadByte()
		s.st = stBlockComment
		s.blockStart = true
		s.prev = 0
		return
	case prev == '*' && c == '/':
		// The end of a /*!NNNNN … */ versioned comment: its content was
		// code, the markers are nothing.
		s.dropHeadByte()
		s.prev = 0
		return
	}
	switch c {
	case '\'':
		s.st = stSingle
	case '"':
		s.st = stDouble
	case '`':
		s.st = stBacktick
	case '#':
		s.st = stLineComment
		return
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
	if len(s.tail) == 8 {
		// Shifted in place: re-slicing from the front would shrink the
		// capacity until every append allocates.
		copy(s.tail, s.tail[1:])
		s.tail = s.tail[:7]
	}
	s.tail = append(s.tail, c)
	if s.st == stCode && bytes.HasSuffix(s.tail, []byte(s.delim)) {
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

func (s *Scanner) dropHeadByte() {
	if s.depth == 0 && len(s.head) > 0 {
		s.head = s.head[:len(s.head)-1]
	}
	if len(s.tail) > 0 {
		s.tail = s.tail[:len(s.tail)-1]
	}
}

// trackLine keeps the first bytes of the current line and the last
// non-empty line, for the completion trailer and DELIMITER commands.
func (s *Scanner) trackLine(c byte) {
	if c == '\n' {
		s.endLine()
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

func (s *Scanner) endLine() {
	if !s.lineEmpty {
		s.lastLine = append(s.lastLine[:0], s.line...)
		if s.st == stCode || s.st == stLineComment {
			if d, ok := delimiterCommand(s.line); ok {
				s.delim = d
				s.resetStatement()
			}
		}
	}
	s.line = s.line[:0]
	s.lineEmpty = true
}

func delimiterCommand(line []byte) (string, bool) {
	// Every line of the dump comes here: no string is made of one that
	// is not a DELIMITER command.
	t := bytes.TrimSpace(line)
	if len(t) > 10 && bytes.EqualFold(t[:10], []byte("DELIMITER ")) {
		d := bytes.TrimSpace(t[10:])
		if len(d) > 0 && len(d) <= 8 {
			return string(d), true
		}
	}
	return "", false
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
			for j < len(words) && isKeyword(words[j], "IF", "NOT", "EXISTS") {
				j++
			}
			if j >= len(words) {
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
			if i+1 < len(words) {
				t := s.tableFor(words[i+1])
				t.View = true
				t.Engine = ""
			}
			return
		case "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT":
			// A routine's parameter list is inside parentheses, which the
			// head never holds, so the next word is the bare name.
			j := i + 1
			for j < len(words) && isKeyword(words[j], "IF", "NOT", "EXISTS") {
				j++
			}
			if j < len(words) {
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

func isKeyword(w string, kws ...string) bool {
	for _, k := range kws {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
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
		if isKeyword(w, "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO") {
			continue
		}
		return w, true
	}
	return "", false
}

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
		end := quotedEnd(w)
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

// quotedEnd is the index after the `quoted` part that starts w (a doubled
// backtick stays inside it), or len(w).
func quotedEnd(w string) int {
	for i := 1; i < len(w); i++ {
		if w[i] != '`' {
			continue
		}
		if i+1 < len(w) && w[i+1] == '`' {
			i++
			continue
		}
		return i + 1
	}
	return len(w)
}

// Result returns what was seen so far.
func (s *Scanner) Result() Result {
	last := strings.TrimSpace(string(s.lastLine))
	if !s.lineEmpty {
		// A final line without a newline still counts.
		last = strings.TrimSpace(string(s.line))
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
