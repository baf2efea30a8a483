package mariadb

import (
	"bytes"
	"io"
	"strings"
)

// The users section of a dump (mariadb-dump --system=users, the
// include_grants setting) creates every account of the server it was taken
// from, as CREATE USER and CREATE ROLE, then grants their privileges, the
// first GRANT of each account carrying its password again (IDENTIFIED BY
// PASSWORD). Imported as written into any server that already has one of
// the accounts, and every server has root@localhost and mariadb.sys, the
// first CREATE USER fails and the import with it.
//
// A restore therefore imports it rewritten, so that it adds to a server
// only what the server lacks: an account or role it does not have is
// created as the backup has it, password included (CREATE … IF NOT
// EXISTS); one it has keeps its password and attributes, because the
// running stack, and dr itself, log in with the passwords of the target
// host's .env and containers, which a backup's older password would lock
// out half way through a restore. Privileges are granted as the backup
// has them, added to those an account has (GRANT never takes one away).

// usersSectionStart is the statement that opens the users section: the
// first account mariadb-dump writes.
const usersSectionStart = "CREATE USER "

// usersRewrites are the statements of the users section a rewrite changes,
// as mariadb-dump writes them at the start of a line.
var usersRewrites = []string{usersSectionStart, "GRANT ", "/*M!100005 CREATE ROLE ", "/*!80001 CREATE ROLE "}

// delimiterCommand is the client command that changes the delimiter;
// mariadb-dump writes it around the bodies of routines, triggers and
// events, which may hold statements of their own that must stay as they
// are.
const delimiterCommand = "DELIMITER "

// usersLineCap bounds a statement of the users section held to be
// rewritten; a longer one is none mariadb-dump writes and goes through as
// it is.
const usersLineCap = 64 << 10

// GrantsRewriter passes a dump through to w with its users section
// rewritten to add only what the server lacks (see above). Everything
// before the users section goes through byte for byte: the rewrite
// begins at the first line that starts a statement with CREATE USER
// while the delimiter is ";", which in a dump of mariadb-dump is the
// first account of the users section, written after every database. A
// line is held only while it starts a statement and may be one to act
// on; the rest of the dump streams through in the writes it came in.
type GrantsRewriter struct {
	w io.Writer
	// held is the start of the current line, kept while it may be a
	// statement to act on; passing: the rest of the line goes through.
	held    []byte
	passing bool
	// lineTail is the current line's last bytes, to see whether it ends
	// with the delimiter; blank is true while the line is only space,
	// comment when it is a "--" or "#" comment, delimiterLine when it is
	// a DELIMITER command.
	lineTail      []byte
	blank         bool
	comment       bool
	delimiterLine bool
	// stmtStart: the current line starts a statement.
	stmtStart bool
	delim     string
	inUsers   bool
}

// NewGrantsRewriter returns a rewriter writing to w. Close passes on a
// last line that has no newline.
func NewGrantsRewriter(w io.Writer) *GrantsRewriter {
	return &GrantsRewriter{w: w, delim: ";", stmtStart: true, blank: true}
}

func (g *GrantsRewriter) Write(p []byte) (int, error) {
	run := 0 // p[run:] up to the line being read goes through unchanged
	flush := func(to int) error {
		if to <= run {
			return nil
		}
		_, err := g.w.Write(p[run:to])
		run = to
		return err
	}
	write := func(b []byte, next int) error {
		_, err := g.w.Write(b)
		run = next
		return err
	}
	for i := 0; i < len(p); {
		end, ends := len(p), false
		if nl := bytes.IndexByte(p[i:], '\n'); nl >= 0 {
			end, ends = i+nl+1, true
		}
		seg := p[i:end]
		g.track(seg)
		if !g.passing {
			line := seg
			if len(g.held) > 0 {
				g.held = append(g.held, seg...)
				line = g.held
			}
			var err error
			switch {
			case !g.candidate(line, ends):
				// Not one to act on: it goes through as it is.
				if len(g.held) > 0 {
					err = write(g.held, end)
					g.held = g.held[:0]
				}
				g.passing = !ends
			case ends:
				if err = flush(i); err == nil {
					err = write([]byte(g.act(string(line))), end)
				}
				g.held = g.held[:0]
			case len(line) > usersLineCap:
				if err = flush(i); err == nil {
					err = write(line, end)
				}
				g.held = g.held[:0]
				g.passing = true
			default:
				// May be one to act on: held until its end.
				if err = flush(i); err == nil && len(g.held) == 0 {
					g.held = append(g.held, seg...)
				}
				run = end
			}
			if err != nil {
				return 0, err
			}
		}
		if ends {
			g.endLine()
		}
		i = end
	}
	if err := flush(len(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// track keeps what endLine needs of the line: its last bytes, and
// whether it is blank or a comment.
func (g *GrantsRewriter) track(seg []byte) {
	if g.blank {
		trimmed := bytes.TrimLeft(seg, " \t\r\n")
		if len(trimmed) > 0 {
			g.blank = false
			g.comment = bytes.HasPrefix(trimmed, []byte("--")) || trimmed[0] == '#'
		}
	}
	const tailCap = 64
	if len(seg) > tailCap {
		seg = seg[len(seg)-tailCap:]
	}
	g.lineTail = append(g.lineTail, seg...)
	if len(g.lineTail) > tailCap {
		g.lineTail = append(g.lineTail[:0], g.lineTail[len(g.lineTail)-tailCap:]...)
	}
}

// candidate says whether the line read so far may be one to act on;
// whole: it is all there.
func (g *GrantsRewriter) candidate(line []byte, whole bool) bool {
	if !g.stmtStart {
		return false
	}
	for _, prefix := range g.prefixes() {
		n := min(len(line), len(prefix))
		if string(line[:n]) == prefix[:n] && (!whole || len(line) >= len(prefix)) {
			return true
		}
	}
	return false
}

// prefixes are the statement starts acted on from where the dump is.
func (g *GrantsRewriter) prefixes() []string {
	switch {
	case g.delim != ";":
		return []string{delimiterCommand}
	case g.inUsers:
		return append([]string{delimiterCommand}, usersRewrites...)
	}
	return []string{delimiterCommand, usersSectionStart}
}

// act is what becomes of one whole line that starts a statement acted on.
func (g *GrantsRewriter) act(line string) string {
	if d, ok := strings.CutPrefix(line, delimiterCommand); ok {
		if d = strings.TrimSpace(d); d != "" {
			g.delim = d
		}
		g.delimiterLine = true
		return line
	}
	if strings.HasPrefix(line, usersSectionStart) {
		g.inUsers = true
	}
	return RewriteUsersStatement(line)
}

// endLine decides, at the end of a line, whether the next one starts a
// statement: after a line ending with the delimiter, or a DELIMITER
// command; blank and comment lines change nothing.
func (g *GrantsRewriter) endLine() {
	switch {
	case g.delimiterLine:
		g.stmtStart = true
	case g.blank || g.comment:
	default:
		g.stmtStart = strings.HasSuffix(strings.TrimRight(string(g.lineTail), " \t\r\n"), g.delim)
	}
	g.passing, g.blank, g.comment, g.delimiterLine = false, true, false, false
	g.lineTail = g.lineTail[:0]
}

// Close writes what is held: a last line without a newline.
func (g *GrantsRewriter) Close() error {
	if len(g.held) == 0 {
		return nil
	}
	line := g.held
	if g.candidate(line, true) {
		line = []byte(g.act(string(line)))
	}
	g.held = nil
	_, err := g.w.Write(line)
	return err
}

// RewriteUsersStatement rewrites one statement of a dump's users section
// (a whole line, as mariadb-dump writes it) to add only what a server
// lacks: CREATE USER and CREATE ROLE become CREATE … IF NOT EXISTS, and a
// GRANT loses its IDENTIFIED clause, which would set the password of an
// account the server already has. Any other statement is returned as it
// is.
func RewriteUsersStatement(line string) string {
	for _, create := range []string{"CREATE USER ", "/*M!100005 CREATE ROLE ", "/*!80001 CREATE ROLE "} {
		if rest, ok := strings.CutPrefix(line, create); ok {
			if strings.HasPrefix(rest, "IF NOT EXISTS ") {
				return line
			}
			return create + "IF NOT EXISTS " + rest
		}
	}
	if strings.HasPrefix(line, "GRANT ") {
		return withoutIdentified(line)
	}
	return line
}

// withoutIdentified drops the IDENTIFIED clause of a GRANT (" IDENTIFIED
// BY PASSWORD '…'" or " IDENTIFIED VIA plugin [USING '…'] [OR …]"), which
// runs to the WITH of its options or to the statement's end, outside
// quotes.
func withoutIdentified(stmt string) string {
	start := indexOutsideQuotes(stmt, " IDENTIFIED ", 0)
	if start < 0 {
		return stmt
	}
	end := indexOutsideQuotes(stmt, " WITH ", start)
	if end < 0 {
		end = strings.LastIndexByte(stmt, ';')
		if end < start {
			end = len(strings.TrimRight(stmt, " \t\r\n"))
		}
	}
	return stmt[:start] + stmt[end:]
}

// indexOutsideQuotes is the index of word in s at or after from, outside
// '…', "…" and `…` quotes (backslash escapes inside the first two).
func indexOutsideQuotes(s, word string, from int) int {
	var quote byte
	for i := from; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case strings.HasPrefix(s[i:], word):
			return i
		}
	}
	return -1
}
