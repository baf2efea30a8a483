// Package dumpsplit cuts a mariadb-dump/mysqldump stream, as it passes by,
// into sections that a parallel import may run on separate connections:
// the session preamble (replayed on every connection), each plain table's
// section (its DROP, CREATE, rows and triggers: independent of every other
// table's), and serial sections (databases, views, routines, events,
// users, the trailer, and whatever the splitter does not recognise), which
// must run on one connection after everything before them.
//
// A wrong cut is data loss, so the splitter cuts only where the mariadb
// client itself is between statements: in code (not inside a string, a
// comment or a statement), with the delimiter ";", at the comment block
// mariadb-dump writes before each section ("--\n-- Table structure for
// table `x`\n--"). It reads the dump through dumplex, which follows the
// client's rules (client/mysql.cc add_line), and follows a DELIMITER
// command only to a delimiter the client takes as it is written. Within a table's section every statement is checked before a
// byte of it is passed on; one a table's section should not hold is an
// error, never run beside other tables. A table whose CREATE TABLE
// declares a foreign key is a serial section: MariaDB refuses rows into a
// table under LOCK TABLES while another connection creates a table whose
// key references it, which a serial run of the dump never does.
//
// The concatenation of every byte passed to the Sink is the input, in
// order; only the cut into sections is the splitter's.
package dumpsplit

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/appwrite-dr/dr/archive/dumplex"
	"github.com/appwrite-dr/dr/internal/excerpt"
)

// Kind says where a section may run.
type Kind uint8

const (
	// Preamble is the dump's opening session settings: SET statements and
	// comments only. It runs first, and again at the start of every other
	// connection, so each has the dump's character set, time zone,
	// sql_mode and checks.
	Preamble Kind = iota
	// Serial runs on the one sequential connection, after every section
	// before it finished.
	Serial
	// Table is one plain table's section; it may run beside other tables'
	// sections on a connection of its own, in Database.
	Table
)

func (k Kind) String() string {
	switch k {
	case Preamble:
		return "preamble"
	case Serial:
		return "serial"
	default:
		return "table"
	}
}

// Section is a run of the dump, from one Begin to the next.
type Section struct {
	Kind     Kind
	Database string // Table: the database of the last USE before it
	Table    string // Table: the table's name
}

// Sink receives the dump cut into sections: Begin, then the section's
// bytes through Write, in the dump's order. Write must not keep p.
type Sink interface {
	Begin(Section) error
	Write(p []byte) error
}

// UnexpectedError is a statement in a table's section that a table's
// section does not hold in a dump of mariadb-dump or mysqldump: the dump
// cannot be imported in parallel safely.
type UnexpectedError struct {
	Table     string
	Statement string // its first words
}

// Error quotes the table and the statement as excerpts: both can hold a
// newline, and a statement's first words can be long quoted names.
func (e *UnexpectedError) Error() string {
	return fmt.Sprintf("the dump's section of table `%s` holds a statement a parallel import does not expect there (%s); import it over one connection (restore.import_connections: 1)",
		excerpt.Of(strings.ReplaceAll(e.Table, "`", "``")), excerpt.Of(e.Statement))
}

const (
	// headCap bounds the first bytes of a statement kept to recognise it:
	// enough for a trigger's CREATE with its definer and its ON table.
	headCap = 1024
	// holdCap bounds the bytes held back while a cut is undecided.
	holdCap = 64 << 10
	// preambleCap bounds the preamble every connection replays.
	preambleCap = 64 << 10
	// commentCap bounds a comment line kept to read a section's title.
	commentCap = 512
	// titleCap bounds a section's title over all its lines: a name of 64
	// newlines takes 64 lines.
	titleCap = 4 * commentCap
	// commandCap bounds a client command line (DELIMITER, sandbox).
	commandCap = 1024
)

// Splitter is an io.Writer that cuts a dump into sections for a Sink.
type Splitter struct {
	sink Sink
	err  error

	// buf holds the bytes not yet passed on, from absolute offset base;
	// lexed is the absolute offset of the first byte not yet lexed.
	buf   []byte
	base  int64
	lexed int64
	eof   bool

	lex       dumplex.Lexer
	stops     dumplex.Stops // over buf
	delim     string
	pending   bool // a statement has begun: the client's buffer is not empty
	lineStart bool // the next byte starts a line

	// A comment line that began at column 0 between statements.
	cmtCol0  bool
	cmtBegin int64
	cmt      []byte

	// The section comment block being read: cand lines of it seen
	// (1: "--", 2: "-- title"), from candAt.
	cand   int
	candAt int64
	title  string

	head       []byte
	classified bool

	// hold is where the bytes held back start, -1 when none are.
	hold int64

	cur      Section
	begun    bool
	preamble int64 // bytes passed on in the preamble
	db       string
	// confused: a DELIMITER the splitter cannot follow; everything from
	// there on is one serial section.
	confused bool

	// A table's section whose kind waits on its CREATE TABLE (pendTable
	// in pendDB, from pendAt): one that declares a foreign key runs
	// serially. MariaDB refuses rows into a table under LOCK TABLES while
	// another connection creates a table whose key references it
	// ("Table … was not locked with LOCK TABLES"), and a serial run of the
	// dump never does that.
	pendTable  string
	pendDB     string
	pendAt     int64
	pendCreate bool  // the statement being read is the pending table's CREATE
	stmtAt     int64 // where the statement being read began
}

// New returns a splitter that passes the dump to sink.
func New(sink Sink) *Splitter {
	// The preamble is held from its first byte: each statement of it is
	// checked before it goes on.
	return &Splitter{sink: sink, delim: ";", lineStart: true, cur: Section{Kind: Preamble}, hold: 0}
}

// Write cuts p into the sink's sections. Its error is the sink's, or an
// *UnexpectedError; after one, every call returns it.
func (s *Splitter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.buf = append(s.buf, p...)
	s.run()
	if s.err != nil {
		return 0, s.err
	}
	return len(p), nil
}

// Close passes on what is held: the end of the dump.
func (s *Splitter) Close() error {
	if s.err != nil {
		return s.err
	}
	s.eof = true
	s.run()
	if s.err != nil {
		return s.err
	}
	if s.pending && !s.classified {
		s.classify()
	}
	if s.pendTable != "" && s.err == nil {
		s.resolve(Serial)
	}
	s.hold = -1
	s.flushTo(s.base + int64(len(s.buf)))
	if !s.begun && s.err == nil {
		s.err = s.sink.Begin(s.cur)
		s.begun = true
	}
	return s.err
}

func (s *Splitter) end() int64 { return s.base + int64(len(s.buf)) }

// at is the byte at absolute offset off.
func (s *Splitter) at(off int64) byte { return s.buf[off-s.base] }

// avail says whether n bytes from off are in buf; at the end of the
// stream, whatever is there is all there will be.
func (s *Splitter) avail(off int64, n int) bool {
	return off+int64(n) <= s.end() || s.eof
}

func (s *Splitter) run() {
	s.stops.Reset()
	for s.err == nil && s.lexed < s.end() {
		if !s.step() {
			break // needs bytes of the next Write
		}
		if s.hold >= 0 && s.lexed-s.hold > holdCap {
			s.overHold()
		}
	}
	if s.err != nil {
		return
	}
	if s.hold >= 0 {
		s.flushTo(s.hold)
	} else {
		s.flushTo(s.lexed)
	}
}

// step lexes from s.lexed; false when it needs more bytes.
func (s *Splitter) step() bool {
	switch s.lex.State {
	case dumplex.Single, dumplex.Double, dumplex.Backtick:
		return s.stringBytes()
	case dumplex.LineComment:
		return s.lineComment()
	case dumplex.BlockComment:
		return s.blockComment()
	}
	i := s.lexed
	if s.pending && (s.classified || len(s.head) >= headCap) {
		// The bulk of rows: nothing but quotes, comment starts and the
		// delimiter matters until the statement ends.
		b := s.buf[i-s.base:]
		k := 0
		for {
			for k < len(b) && !special[b[k]] && b[k] != s.delim[0] {
				k++
			}
			// A row's string is opened and skipped here, not a byte
			// and a call at a time through step: row data is mostly
			// short strings, and the calls cost a fifth of the split.
			if k == len(b) || b[k] != '\'' && b[k] != '"' || b[k] == s.delim[0] {
				break
			}
			s.lex.Open(b[k:], s.eof)
			k = s.lex.Skip(b, k+1, nil, false)
			if s.lex.State != dumplex.Code {
				break // the string goes on past what has come
			}
		}
		if k > 0 {
			s.lexed += int64(k)
			s.lineStart = false
			return true
		}
	}
	c := s.at(i)
	if s.lineStart && !s.pending {
		if ok, done := s.command(i); !done {
			return false
		} else if ok {
			return true
		}
	}
	col0 := s.lineStart
	s.lineStart = false
	pause := func() bool {
		s.lineStart = col0 // this byte is read again with the next Write
		return false
	}
	// The delimiter comes first, as in the client.
	if c == s.delim[0] {
		if !s.avail(i, len(s.delim)) {
			return pause()
		}
		if bytes.HasPrefix(s.buf[i-s.base:], []byte(s.delim)) {
			s.lexed += int64(len(s.delim))
			if s.pending {
				s.endStatement()
			}
			return true
		}
	}
	switch c {
	case '\n':
		s.lexed++
		s.lineStart = true
		if !s.pending {
			s.resetCand() // a line that is not a comment ends a section comment
		}
		s.addHead(c)
		return true
	case ' ', '\t', '\r', '\f', '\v':
		s.lexed++
		s.addHead(c)
		return true
	}
	if !opener[c] {
		s.startStatement()
		s.lexed++
		s.addHead(c)
		return true
	}
	cut := s.canCut() // before Open takes the lexer out of code
	tok, n := s.lex.Open(s.buf[i-s.base:], s.eof)
	switch tok {
	case dumplex.Undecided:
		return pause()
	case dumplex.Opened:
		switch s.lex.State {
		case dumplex.LineComment:
			s.lineCommentStart(i, c, col0, cut)
			s.lexed += int64(n)
			return true
		case dumplex.BlockComment:
			if !s.pending {
				s.resetCand()
			}
			s.lexed += int64(n)
			return true
		}
	}
	// Code: a byte, a string's opening quote, or a versioned comment's
	// marker, which the client sends to the server with the statement.
	s.startStatement()
	s.appendHead(s.buf[i-s.base : i-s.base+int64(n)])
	s.lexed += int64(n)
	return true
}

// opener are the bytes of code a token may start with.
var opener = func() (t [256]bool) {
	for _, c := range []byte("'\"`#-/*") {
		t[c] = true
	}
	return t
}()

// lineCommentStart notes a line comment that starts at i with c ('#' or
// '-'): one of "--" at column 0 between statements may be a line of a
// section comment block. cut is canCut before the comment.
func (s *Splitter) lineCommentStart(i int64, c byte, col0, cut bool) {
	if c == '#' {
		s.cmtCol0 = false
		s.resetCand()
		return
	}
	s.cmtCol0 = col0 && !s.pending
	switch {
	case s.cmtCol0:
		s.cmtBegin = i
		s.cmt = append(s.cmt[:0], '-', '-')
		if s.hold < 0 && cut {
			s.hold = i // maybe a section comment: hold it until its end
		}
	case !s.pending:
		s.resetCand()
	}
}

// special are the bytes that matter inside a statement's bulk.
var special = func() (t [256]bool) {
	for _, c := range []byte("'\"`#-/") {
		t[c] = true
	}
	return t
}()

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (s *Splitter) startStatement() {
	if s.pending {
		return
	}
	s.pending = true
	s.stmtAt = s.lexed
	s.resetCand()
	s.head = s.head[:0]
	s.classified = false
}

func (s *Splitter) addHead(c byte) {
	if s.pending && !s.classified && len(s.head) < headCap {
		s.head = append(s.head, c)
		if len(s.head) == headCap {
			s.classify()
		}
	}
}

func (s *Splitter) endStatement() {
	if !s.classified {
		s.classify()
	}
	s.pending = false
	if s.pendCreate && s.err == nil {
		s.pendCreate = false
		stmt := s.buf[s.stmtAt-s.base : s.lexed-s.base]
		if bytes.Contains(bytes.ToUpper(stmt), []byte("REFERENCES")) {
			s.resolve(Serial)
		} else {
			s.resolve(Table)
		}
	}
	if s.cur.Kind != Serial && s.hold < 0 {
		// Between statements of the preamble or a table, everything is
		// held until the next statement is known.
		s.hold = s.lexed
	}
}

func (s *Splitter) stringBytes() bool {
	i := int(s.lexed - s.base)
	// Row data's strings are short: scanned afresh, not through Stops.
	k := s.lex.Skip(s.buf, i, nil, false)
	s.appendHead(s.buf[i:k])
	s.lexed += int64(k - i)
	return true
}

func (s *Splitter) appendHead(p []byte) {
	if s.pending && !s.classified && len(s.head) < headCap {
		s.head = append(s.head, p[:min(len(p), headCap-len(s.head))]...)
		if len(s.head) == headCap {
			s.classify()
		}
	}
}

func (s *Splitter) lineComment() bool {
	i := int(s.lexed - s.base)
	k := s.lex.Skip(s.buf, i, &s.stops, false)
	part := s.buf[i:k]
	ended := s.lex.State == dumplex.Code
	if ended {
		part = part[:len(part)-1] // its newline
	}
	if s.cmtCol0 && len(s.cmt) <= commentCap {
		s.cmt = append(s.cmt, part[:min(len(part), commentCap+1-len(s.cmt))]...)
	}
	s.lexed += int64(k - i)
	if ended {
		s.lineStart = true
		if s.cmtCol0 {
			s.commentLine()
		}
	}
	return true
}

func (s *Splitter) blockComment() bool {
	i := int(s.lexed - s.base)
	s.lexed += int64(s.lex.Skip(s.buf, i, &s.stops, false) - i)
	return true
}

// canCut says whether the client is where a section may start: between
// statements, with the delimiter ";".
func (s *Splitter) canCut() bool {
	return !s.pending && s.delim == ";" && !s.confused && s.lex.State == dumplex.Code
}

// commentLine reads one whole comment line that began at column 0
// between statements: the lines of a section comment block.
//
// mariadb-dump (and mysqldump) write a newline in a name as "\n-- ", so
// that the comment holds it: a title goes on over every "-- " line up to
// the closing "--", and each such line is one more newline of the title.
// The lines are taken raw, as a name may end a line in a space or "\r".
func (s *Splitter) commentLine() {
	raw := string(s.cmt)
	line := strings.TrimRight(raw, " \t\r")
	switch {
	case !s.canCut() || len(s.cmt) > commentCap:
		s.cand = 0
	case s.cand == 2 && strings.TrimSuffix(raw, "\r") == "--":
		s.cand = 0
		s.section(s.candAt, strings.TrimRight(s.title, " \t\r"))
	case s.cand == 2 && strings.HasPrefix(raw, "-- ") && len(s.title)+len(raw) <= titleCap:
		s.title += "\n" + raw[3:]
	case line == "--":
		s.cand, s.candAt = 1, s.cmtBegin
	case s.cand == 1 && strings.HasPrefix(raw, "-- "):
		s.cand, s.title = 2, raw[3:]
	default:
		s.cand = 0
	}
	if s.cand == 0 {
		s.resetCand()
	}
}

// resetCand drops a section comment block being read: in a serial
// section, what was held for it goes on.
func (s *Splitter) resetCand() {
	s.cand = 0
	if s.cur.Kind == Serial && s.pendTable == "" {
		s.hold = -1
	}
}

// resolve decides the pending table's section: Table, or Serial.
func (s *Splitter) resolve(kind Kind) {
	name, db, at := s.pendTable, s.pendDB, s.pendAt
	s.pendTable, s.pendCreate = "", false
	if kind == Table {
		s.cut(at, Section{Kind: Table, Database: db, Table: name})
		return
	}
	if s.cur.Kind != Serial {
		s.cut(at, Section{Kind: Serial})
	}
	s.hold = -1
}

// section acts on a whole section comment block that starts at off.
func (s *Splitter) section(off int64, title string) {
	if s.pendTable != "" {
		// A section with no CREATE TABLE: nothing to wait for.
		s.resolve(Table)
	}
	if name, ok := titleName(title, "Table structure for table "); ok {
		if s.db != "" {
			// Held until its CREATE TABLE says whether it may run beside
			// other tables.
			s.pendTable, s.pendDB, s.pendAt = name, s.db, off
			s.hold = min(max(s.hold, 0), off)
			if s.hold < s.base {
				s.hold = off
			}
			return
		}
	} else if name, ok := titleName(title, "Dumping data for table "); ok {
		if (s.cur.Kind == Table && s.cur.Table == name) || s.cur.Kind == Serial {
			if s.cur.Kind == Serial {
				s.hold = -1
			}
			return // the rows of the table whose section this is
		}
	}
	if s.cur.Kind != Serial {
		s.cut(off, Section{Kind: Serial})
	}
	s.hold = -1
}

// titleName reads the backquoted name after prefix in a section title.
func titleName(title, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(title, prefix)
	if !ok {
		return "", false
	}
	name, n, ok := quotedName(rest)
	return name, ok && n == len(rest)
}

// quotedName reads a `quoted` name at the start of s: the name and the
// bytes it took.
func quotedName(s string) (string, int, bool) {
	if len(s) < 2 || s[0] != '`' {
		return "", 0, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '`' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '`' {
			b.WriteByte('`')
			i++
			continue
		}
		return b.String(), i + 1, b.Len() > 0
	}
	return "", 0, false
}

// cut passes on everything before off in the current section and starts
// sec there.
func (s *Splitter) cut(off int64, sec Section) {
	s.flushTo(off)
	if s.err != nil {
		return
	}
	if !s.begun {
		// A preamble with no byte in it: nothing to begin.
		s.begun = true
		if off > 0 {
			s.err = s.sink.Begin(s.cur)
		}
	}
	s.cur = sec
	if s.err == nil {
		s.err = s.sink.Begin(sec)
	}
}

// flushTo passes on the bytes before off.
func (s *Splitter) flushTo(off int64) {
	if s.err != nil || off <= s.base {
		return
	}
	if !s.begun {
		s.begun = true
		if s.err = s.sink.Begin(s.cur); s.err != nil {
			return
		}
	}
	n := int(off - s.base)
	if s.cur.Kind == Preamble {
		s.preamble += int64(n)
	}
	if s.err = s.sink.Write(s.buf[:n]); s.err != nil {
		return
	}
	s.base = off
	s.buf = append(s.buf[:0], s.buf[n:]...)
	s.stops.Reset()
}

// overHold ends a hold that grew past holdCap.
func (s *Splitter) overHold() {
	switch {
	case s.pendTable != "":
		s.resolve(Serial) // a CREATE TABLE too long to hold: serially
	case s.pending && !s.classified:
		s.classify()
	case s.cand > 0:
		s.cand = 0
		if s.cur.Kind == Serial {
			s.hold = -1
		}
	default:
		// Comments and blank lines between statements: they may go.
		s.flushTo(s.lexed)
		s.hold = s.lexed
	}
}

// command reads a client command line (DELIMITER, the sandbox line) at
// the start of a line between statements: ok when it was one (and was
// consumed), done false when the line is not whole yet.
func (s *Splitter) command(i int64) (ok, done bool) {
	b := s.buf[i-s.base:]
	nl := bytes.IndexByte(b[:min(len(b), commandCap)], '\n')
	var line []byte
	switch {
	case nl >= 0:
		line = b[:nl]
	case len(b) < commandCap && !s.eof:
		// Decide as soon as the line cannot be a command.
		t := bytes.TrimLeft(b, " \t")
		if len(t) == 0 || isPrefixFold(t, "delimiter") || strings.HasPrefix(dumplex.SandboxLine, string(b[:min(len(b), len(dumplex.SandboxLine))])) {
			return false, false
		}
		return false, true
	default:
		line = b[:min(len(b), commandCap)]
	}
	// A command line longer than commandCap is cut: the client would read
	// more of it than the splitter knows.
	cutLine := nl < 0 && len(line) == commandCap
	consumed := int64(len(line))
	if nl >= 0 {
		consumed++
	}
	if bytes.HasPrefix(line, []byte(dumplex.SandboxLine)) {
		s.lexed += consumed
		s.lineStart = nl >= 0
		s.resetCand()
		return true, true
	}
	arg, ok, plain := dumplex.Delimiter(line)
	if !ok {
		return false, true
	}
	if s.hold < 0 {
		s.hold = i
	}
	s.cand = 0
	if s.pendTable != "" {
		s.resolve(Serial)
	}
	switch s.cur.Kind {
	case Preamble:
		s.cut(i, Section{Kind: Serial})
	case Table:
		if !plain || cutLine {
			// Everything after it would go to this table's connection.
			s.err = &UnexpectedError{Table: s.cur.Table, Statement: "DELIMITER " + arg}
			return true, true
		}
	}
	if s.cur.Kind == Serial {
		s.hold = -1
	}
	s.lexed += consumed
	s.lineStart = nl >= 0
	if !plain || cutLine {
		// A delimiter the splitter cannot follow as the client would:
		// from here on, nothing is cut.
		s.confused = true
		return true, true
	}
	s.delim = arg
	return true, true
}

func isPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return strings.EqualFold(string(b), prefix[:len(b)])
	}
	return strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// classify decides about the statement whose head was read: the preamble
// ends before a statement that is not a session SET; a table's section
// takes only what mariadb-dump writes there.
func (s *Splitter) classify() {
	s.classified = true
	words := headWords(string(s.head), 12)
	if len(words) >= 2 && strings.EqualFold(words[0], "USE") {
		if name, ok := identifier(words[1]); ok {
			defer func() { s.db = name }()
		} else {
			defer func() { s.db = "" }()
		}
	}
	if s.pendTable != "" {
		switch {
		case !tableStatement(words, s.pendDB, s.pendTable):
			s.resolve(Serial)
			if s.cur.Kind == Serial {
				return
			}
		case dumplex.IsWord(words[0], "CREATE") && len(words) > 1 && dumplex.IsWord(words[1], "TABLE"):
			s.pendCreate = true
			return // held to its end
		case dumplex.IsWord(words[0], "DROP", "SET"):
			return // held with the rest of the section's start
		default:
			s.resolve(Table)
		}
	}
	switch s.cur.Kind {
	case Preamble:
		if sessionSet(words) && s.preamble+(s.lexed-s.base) <= preambleCap {
			s.hold = -1
			return
		}
		at := s.hold
		if at < 0 {
			at = s.lexed
		}
		s.cut(at, Section{Kind: Serial})
		s.hold = -1
	case Table:
		if !tableStatement(words, s.cur.Database, s.cur.Table) {
			s.err = &UnexpectedError{Table: s.cur.Table, Statement: strings.Join(words[:min(len(words), 6)], " ")}
			return
		}
		s.hold = -1
	}
}

// sessionSet is a SET of this session's variables only.
func sessionSet(w []string) bool {
	if len(w) < 2 || !strings.EqualFold(w[0], "SET") {
		return false
	}
	if dumplex.IsWord(w[1], "GLOBAL", "PASSWORD", "ROLE", "DEFAULT", "STATEMENT", "TRANSACTION") {
		return false
	}
	for _, x := range w {
		if strings.Contains(strings.ToUpper(x), "GLOBAL") {
			return false
		}
	}
	return true
}

// tableStatement is a statement mariadb-dump (or mysqldump) writes in the
// section of table name.
func tableStatement(w []string, db, name string) bool {
	if len(w) == 0 {
		return false
	}
	is := func(i int, kw ...string) bool { return i < len(w) && dumplex.IsWord(w[i], kw...) }
	named := func(i int) bool {
		if i >= len(w) {
			return false
		}
		if n, ok := identifier(w[i]); ok {
			return n == name
		}
		d, n, ok := qualified(w[i])
		return ok && d == db && n == name
	}
	switch strings.ToUpper(w[0]) {
	case "SET":
		return sessionSet(w)
	case "DROP":
		if is(1, "TABLE") && is(2, "IF") && is(3, "EXISTS") {
			return named(4)
		}
		return is(1, "TABLE") && named(2)
	case "CREATE":
		if is(1, "TABLE") {
			if is(2, "IF") && is(3, "NOT") && is(4, "EXISTS") {
				return named(5)
			}
			return named(2)
		}
		// CREATE [DEFINER=…] TRIGGER t {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON name
		i := 1
		for i < len(w) && i < 6 && definerWord(w[i]) {
			i++
		}
		return is(i, "TRIGGER") && is(i+2, "BEFORE", "AFTER") && is(i+3, "INSERT", "UPDATE", "DELETE") && is(i+4, "ON") && named(i+5)
	case "LOCK":
		return is(1, "TABLES", "TABLE") && named(2) && is(3, "WRITE")
	case "UNLOCK":
		return len(w) == 2 && is(1, "TABLES", "TABLE")
	case "ALTER":
		return is(1, "TABLE") && named(2) && is(3, "DISABLE", "ENABLE") && is(4, "KEYS")
	case "INSERT":
		i := 1
		if is(i, "IGNORE") {
			i++
		}
		return is(i, "INTO") && named(i+1)
	case "REPLACE":
		return is(1, "INTO") && named(2)
	}
	return false
}

// definerWord is a word of a DEFINER clause (DEFINER=`u`@`h`, or spaced).
func definerWord(w string) bool {
	return strings.HasPrefix(strings.ToUpper(w), "DEFINER") || w == "=" || strings.Contains(w, "@") || strings.EqualFold(w, "CURRENT_USER")
}

// identifier reads a bare or `quoted` name, never a qualified one.
func identifier(w string) (string, bool) {
	if strings.HasPrefix(w, "`") {
		name, n, ok := quotedName(w)
		return name, ok && n == len(w)
	}
	if w == "" || strings.ContainsAny(w, ".`'\"@") {
		return "", false
	}
	return w, true
}

// qualified reads db.name, each part bare or `quoted`.
func qualified(w string) (db, name string, ok bool) {
	var i int
	if strings.HasPrefix(w, "`") {
		i = dumplex.QuoteEnd(w, 0)
	} else {
		i = strings.IndexByte(w, '.')
	}
	if i <= 0 || i >= len(w) || w[i] != '.' {
		return "", "", false
	}
	db, ok1 := identifier(w[:i])
	name, ok2 := identifier(w[i+1:])
	return db, name, ok1 && ok2
}

// headWords splits a statement's head into words: the markers of
// versioned comments (/*!NNNNN, /*M!NNNNN, */) dropped, `quoted` names
// kept whole, "(" "," and "=" … separating.
func headWords(h string, max int) []string {
	var words []string
	i := 0
	for i < len(h) && len(words) < max {
		switch c := h[i]; {
		case strings.HasPrefix(h[i:], "/*!") || strings.HasPrefix(h[i:], "/*M!"):
			i += 3
			if h[i-1] == 'M' {
				i++
			}
			for i < len(h) && h[i] >= '0' && h[i] <= '9' {
				i++
			}
		case strings.HasPrefix(h[i:], "*/"):
			i += 2
		case isSpace(c) || c == '(' || c == ')' || c == ',' || c == ';':
			i++
		default:
			j := i
			for j < len(h) {
				d := h[j]
				if d == '`' || d == '\'' || d == '"' {
					j = dumplex.QuoteEnd(h, j)
					continue
				}
				if isSpace(d) || d == '(' || d == ')' || d == ',' || d == ';' || strings.HasPrefix(h[j:], "*/") {
					break
				}
				j++
			}
			words = append(words, h[i:j])
			i = j
		}
	}
	return words
}
