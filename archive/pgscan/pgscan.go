// Package pgscan reads a PostgreSQL plain-format dump stream as it is
// archived (pg_dumpall --globals-only and pg_dump --create, one after the
// other) and records what the manifest needs: the databases, every table
// with the rows its COPY carries, the views, functions, procedures and
// triggers, and whether every dump in the stream ended with its
// completion trailer.
//
// It reads the table of contents pg_dump writes above each object
// ("-- Name: film; Type: TABLE; Schema: public; Owner: postgres") and
// counts COPY's data lines (one a row: COPY escapes a newline inside a
// value). It never fails and keeps memory bounded whatever the lines'
// length.
package pgscan

import (
	"bytes"
	"strings"

	"github.com/appwrite-dr/dr/archive/dumpscan"
)

// lineCap is how much of a line is kept: a table-of-contents comment, a
// COPY header or a trailer fits; a data row is counted, not read.
const lineCap = 4096

// The lines pg_dump and pg_dumpall write around each dump.
const (
	dumpHeader     = "-- PostgreSQL database dump"
	dumpTrailer    = "-- PostgreSQL database dump complete"
	clusterHeader  = "-- PostgreSQL database cluster dump"
	clusterTrailer = "-- PostgreSQL database cluster dump complete"
)

// Scanner is an io.Writer that scans a dump stream.
type Scanner struct {
	line      []byte // the current line's first lineCap bytes
	long      bool   // the current line is longer than line holds
	inCopy    bool   // between a COPY … FROM stdin; and its \.
	copyTo    int    // the index in tables of the COPY's table
	copies    []int  // the index in tables of every COPY, in the stream's order
	dataFor   string // the table a "Data for Name" entry announced
	db        string
	dbs       []string
	tables    []dumpscan.Table
	objects   []dumpscan.Object
	byKey     map[string]int
	started   int
	completed int
	// afterDashes: the line before was a bare "--", as above every
	// table-of-contents comment (a function body's line that looks like
	// one is not read as one, unless it copies the frame too).
	afterDashes bool
	// last is the last line that says something: not empty, not a bare
	// "--", not \restrict or \unrestrict.
	last string
}

// New returns a scanner for a fresh stream.
func New() *Scanner { return &Scanner{byKey: map[string]int{}, copyTo: -1} }

// Write scans p. It never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.keep(p)
			break
		}
		if s.inCopy && len(s.line) == 0 && !s.long && !(i == 2 && p[0] == '\\' && p[1] == '.') {
			// The common case, a whole data row in p: counted, not copied.
			s.tables[s.copyTo].Rows++
			p = p[i+1:]
			continue
		}
		s.keep(p[:i])
		s.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (s *Scanner) keep(p []byte) {
	if room := lineCap - len(s.line); room > 0 {
		if len(p) > room {
			p, s.long = p[:room], true
		}
		s.line = append(s.line, p...)
	} else if len(p) > 0 {
		s.long = true
	}
}

func (s *Scanner) endLine() {
	line := string(s.line)
	long := s.long
	s.line, s.long = s.line[:0], false
	if s.inCopy {
		if line == `\.` && !long {
			s.inCopy = false
		} else if s.copyTo >= 0 {
			s.tables[s.copyTo].Rows++
		}
		return
	}
	line = strings.TrimSuffix(line, "\r")
	afterDashes := s.afterDashes
	s.afterDashes = line == "--"
	switch {
	case line == "" || line == "--" || strings.HasPrefix(line, `\restrict `) || strings.HasPrefix(line, `\unrestrict `):
		return
	case line == dumpHeader:
		s.started++
	case line == dumpTrailer:
		s.completed++
	case line == clusterHeader:
		s.started++
	case line == clusterTrailer:
		s.completed++
	case strings.HasPrefix(line, "-- Name: ") && afterDashes:
		s.entry(strings.TrimPrefix(line, "-- Name: "), false)
	case strings.HasPrefix(line, "-- Data for Name: ") && afterDashes:
		s.entry(strings.TrimPrefix(line, "-- Data for Name: "), true)
	case strings.HasPrefix(line, "COPY ") && strings.HasSuffix(line, " FROM stdin;") && s.dataFor != "":
		s.inCopy = true
		s.copyTo = s.table(s.dataFor, false)
		s.copies = append(s.copies, s.copyTo)
		s.dataFor = ""
	case strings.HasPrefix(line, `\connect `):
		// The database comes from its DATABASE entry above, which names
		// it unquoted.
	}
	s.last = line
}

// entry reads one table-of-contents comment: "<name>; Type: <type>;
// Schema: <schema>; Owner: <owner>" (and maybe "; Tablespace: …").
func (s *Scanner) entry(rest string, data bool) {
	ti := strings.LastIndex(rest, "; Type: ")
	if ti < 0 {
		return
	}
	name := rest[:ti]
	after := rest[ti+len("; Type: "):]
	typ, after, ok := strings.Cut(after, "; Schema: ")
	if !ok {
		return
	}
	schema, _, _ := strings.Cut(after, "; ")
	switch {
	case typ == "DATABASE":
		s.db = name
		s.dbs = append(s.dbs, name)
	case data && typ == "TABLE DATA":
		s.dataFor = schema + "." + name
	case typ == "TABLE":
		s.table(schema+"."+name, false)
	case typ == "VIEW" || typ == "MATERIALIZED VIEW":
		s.table(schema+"."+name, true)
	case typ == "FUNCTION" || typ == "PROCEDURE":
		if i := strings.IndexByte(name, '('); i > 0 {
			name = name[:i]
		}
		s.object(strings.ToLower(typ), schema+"."+name)
	case typ == "TRIGGER":
		s.object("trigger", schema+"."+s.triggerName(schema, name))
	}
}

// triggerName takes the trigger's name out of its entry's "<table>
// <trigger>", both unquoted: the longest table of the schema the entry
// starts with decides where the table's name ends.
func (s *Scanner) triggerName(schema, tag string) string {
	best := -1
	for _, t := range s.tables {
		if t.Database != s.db {
			continue
		}
		if tn, ok := strings.CutPrefix(t.Name, schema+"."); ok && strings.HasPrefix(tag, tn+" ") && len(tn) > best {
			best = len(tn)
		}
	}
	if best >= 0 {
		return tag[best+1:]
	}
	if i := strings.LastIndexByte(tag, ' '); i >= 0 {
		return tag[i+1:]
	}
	return tag
}

func (s *Scanner) table(name string, view bool) int {
	key := s.db + "\x00" + name
	if i, ok := s.byKey[key]; ok {
		return i
	}
	s.tables = append(s.tables, dumpscan.Table{Database: s.db, Name: name, View: view})
	s.byKey[key] = len(s.tables) - 1
	return len(s.tables) - 1
}

func (s *Scanner) object(kind, name string) {
	for _, o := range s.objects {
		if o.Database == s.db && o.Kind == kind && o.Name == name {
			return
		}
	}
	s.objects = append(s.objects, dumpscan.Object{Database: s.db, Kind: kind, Name: name})
}

// Copies are the tables of the stream's COPY statements in their order,
// keyed as the manifest's row counts are (database.schema.table): psql
// answers each COPY with the rows it stored, in the same order.
func (s *Scanner) Copies() []string {
	keys := make([]string, len(s.copies))
	for i, t := range s.copies {
		keys[i] = s.tables[t].Database + "." + s.tables[t].Name
	}
	return keys
}

// Result is what the scanner saw. Completed needs every dump the stream
// started to have ended with its trailer, and the trailer to be the last
// thing the stream says.
func (s *Scanner) Result() dumpscan.Result {
	r := dumpscan.Result{
		Databases: append([]string(nil), s.dbs...),
		Tables:    append([]dumpscan.Table(nil), s.tables...),
		Objects:   append([]dumpscan.Object(nil), s.objects...),
	}
	r.Completed = s.started > 0 && s.started == s.completed && !s.inCopy && len(s.line) == 0 &&
		(s.last == dumpTrailer || s.last == clusterTrailer)
	return r
}
