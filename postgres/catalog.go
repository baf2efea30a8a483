package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// userSchemas leaves out the server's own schemas.
const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'`

// notInExtension leaves out what an extension created: pg_dump leaves it
// out too (CREATE EXTENSION makes it again).
const notInExtension = `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = %s AND d.deptype = 'e')`

// Relation is a table or view of one database, named schema.name as the
// manifest records it.
type Relation struct {
	Name string
	View bool
}

// Relations lists database db's tables and views (see relationsQuery).
func (s *Server) Relations(ctx context.Context, db string) ([]Relation, error) {
	rows, err := s.Query(ctx, db, relationsQuery)
	if err != nil {
		return nil, fmt.Errorf("listing the tables of %s: %w", db, err)
	}
	out := make([]Relation, 0, len(rows))
	for _, r := range rows {
		if len(r) == 2 {
			out = append(out, Relation{Name: r[0], View: r[1] == "t"})
		}
	}
	return out, nil
}

// SplitName splits a manifest's schema.name.
func SplitName(qualified string) (schema, name string) {
	schema, name, ok := strings.Cut(qualified, ".")
	if !ok {
		return "public", qualified
	}
	return schema, name
}

// QualifiedIdent quotes a manifest's schema.name for SQL.
func QualifiedIdent(qualified string) string {
	schema, name := SplitName(qualified)
	return QuoteIdent(schema) + "." + QuoteIdent(name)
}

// tableSet is the set of database db's tables (not its views), by
// schema.name: what Checksums may ask about.
func (s *Server) tableSet(ctx context.Context, db string) (map[string]bool, error) {
	rels, err := s.Relations(ctx, db)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(rels))
	for _, r := range rels {
		if !r.View {
			have[r.Name] = true
		}
	}
	return have, nil
}

// RowCounts counts the rows of database db's tables (schema.name), each
// without its inheritance children or partitions (FROM ONLY), as COPY
// dumps them. Tables that do not exist are missing from the answer
// rather than failing it. One query finds and counts them (the count of a
// table named by a string is query_to_xml's), so that a restore's check
// costs one exec a database.
func (s *Server) RowCounts(ctx context.Context, db string, tables []string) (map[string]int64, error) {
	counts := make(map[string]int64, len(tables))
	const batch = 200
	for len(tables) > 0 {
		part := tables[:min(batch, len(tables))]
		tables = tables[len(part):]
		names := make([]string, len(part))
		idents := make([]string, len(part))
		for i, t := range part {
			names[i], idents[i] = QuoteString(t), QuoteString(QualifiedIdent(t))
		}
		q := `SELECT t.name, (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM ONLY ' || t.ident, false, true, '')))[1]::text` +
			` FROM unnest(ARRAY[` + strings.Join(names, ", ") + `], ARRAY[` + strings.Join(idents, ", ") + `]) AS t(name, ident)` +
			` JOIN pg_class c ON c.oid = to_regclass(t.ident) WHERE c.relkind IN ('r', 'p')`
		rows, err := s.Query(ctx, db, q)
		if err != nil {
			return nil, fmt.Errorf("counting the rows of %s: %w", db, err)
		}
		for _, r := range rows {
			if len(r) != 2 {
				continue
			}
			n, err := atoi64(r[1])
			if err != nil {
				return nil, fmt.Errorf("counting the rows of %s: reading %q: %w", db, r[1], err)
			}
			counts[r[0]] = n
		}
	}
	return counts, nil
}

// Object is a function, procedure or trigger of one database, named
// schema.name as the dump's table of contents names it (a function's
// overloads are one object).
type Object struct {
	Kind string // function, procedure or trigger
	Name string
}

// Objects lists database db's functions, procedures and triggers, sorted.
func (s *Server) Objects(ctx context.Context, db string) ([]Object, error) {
	rows, err := s.Query(ctx, db, `SELECT DISTINCT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind IN ('f', 'p') AND `+userSchemas+` AND `+fmt.Sprintf(notInExtension, "p.oid")+
		` UNION SELECT 'trigger', n.nspname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND `+userSchemas+` ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("listing the functions and triggers of %s: %w", db, err)
	}
	out := make([]Object, 0, len(rows))
	for _, r := range rows {
		if len(r) == 2 {
			out = append(out, Object{Kind: r[0], Name: r[1]})
		}
	}
	return out, nil
}

// missingRolesScript creates, without login, every role of roles the
// server lacks, so that a dump's OWNER TO and GRANT statements find their
// role (a fresh server or a drill's container has only its own). psql
// asks whether each is there (\gset) and creates it only then (\if).
func missingRolesScript(roles []string) string {
	var b strings.Builder
	for _, r := range roles {
		if r == "" || strings.HasPrefix(r, "pg_") {
			continue
		}
		fmt.Fprintf(&b, "SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) AS dr_missing \\gset\n\\if :dr_missing\nCREATE ROLE %s NOLOGIN;\n\\endif\n", QuoteString(r), QuoteIdent(r))
	}
	return b.String()
}

// AsideMeta is what an aside database's comment records.
type AsideMeta struct {
	Origin string `json:"origin"`
	Backup string `json:"backup,omitempty"`
	At     string `json:"at"`
	// Absent: the server had no database Origin before the restore, which
	// creates it; the aside database is an empty marker that tells the
	// undo to drop the created one (see MarkAbsent).
	Absent bool `json:"absent,omitempty"`
}

// asideCommentPrefix marks the comment dr writes on an aside database.
const asideCommentPrefix = "dr aside "

// AsideDatabase is one database a restore renamed aside.
type AsideDatabase struct {
	Name  string
	Meta  AsideMeta
	Bytes int64
}

// AsideDatabases lists the aside databases on the server, sorted by name
// (which starts with the time they were made).
func (s *Server) AsideDatabases(ctx context.Context) ([]AsideDatabase, error) {
	rows, err := s.Query(ctx, "postgres", `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), ''), pg_database_size(oid) FROM pg_database WHERE starts_with(datname, `+QuoteString(AsidePrefix)+`) ORDER BY datname`)
	if err != nil {
		return nil, fmt.Errorf("listing the aside databases: %w", err)
	}
	var out []AsideDatabase
	for _, r := range rows {
		if len(r) != 3 {
			continue
		}
		a := AsideDatabase{Name: r[0]}
		a.Bytes, _ = atoi64(r[2])
		if c, ok := strings.CutPrefix(r[1], asideCommentPrefix); ok {
			_ = json.Unmarshal([]byte(c), &a.Meta)
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// closeSessions keeps new sessions out of database db and ends the ones
// it has: a database with sessions can be neither renamed nor dropped.
func closeSessions(db string) string {
	return fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS false;\nSELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid();\n",
		QuoteIdent(db), QuoteString(db))
}

// MoveAside renames database db to aside and records where it came from
// in its comment.
func (s *Server) MoveAside(ctx context.Context, db, aside string, meta AsideMeta) error {
	meta.Origin = db
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("recording the aside database: %w", err)
	}
	// The comment goes first: it follows the database through the
	// rename, so that a run killed between the two statements never
	// leaves an aside database that does not say where it came from.
	sql := fmt.Sprintf("COMMENT ON DATABASE %s IS %s;\n", QuoteIdent(db), QuoteString(asideCommentPrefix+string(js))) +
		closeSessions(db) +
		fmt.Sprintf("ALTER DATABASE %s RENAME TO %s;\n", QuoteIdent(db), QuoteIdent(aside)) +
		fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", QuoteIdent(aside))
	if err := s.ExecAutocommit(ctx, "postgres", sql); err != nil {
		return fmt.Errorf("renaming database %s to %s: %w", db, aside, err)
	}
	return nil
}

// PutBack drops database db when it exists (the restore's import, or its
// remains) and renames aside back to db.
func (s *Server) PutBack(ctx context.Context, aside, db string) error {
	exists, err := s.DatabaseExists(ctx, db)
	if err != nil {
		return err
	}
	var b strings.Builder
	if exists {
		b.WriteString(closeSessions(db))
		fmt.Fprintf(&b, "DROP DATABASE %s;\n", QuoteIdent(db))
	}
	b.WriteString(closeSessions(aside))
	fmt.Fprintf(&b, "ALTER DATABASE %s RENAME TO %s;\n", QuoteIdent(aside), QuoteIdent(db))
	fmt.Fprintf(&b, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", QuoteIdent(db))
	fmt.Fprintf(&b, "COMMENT ON DATABASE %s IS NULL;\n", QuoteIdent(db))
	if err := s.ExecAutocommit(ctx, "postgres", b.String()); err != nil {
		return fmt.Errorf("putting database %s back as %s: %w", aside, db, err)
	}
	return nil
}

// DropDatabase drops database db, ending its sessions first; a database
// that is not there is not an error.
func (s *Server) DropDatabase(ctx context.Context, db string) error {
	return s.DropDatabases(ctx, db)
}

// DropDatabases is DropDatabase of each of dbs, in one exec: psql asks
// whether each is there (\gset) and drops it only then (\if), since DROP
// DATABASE IF EXISTS would not spare the statements that end its sessions
// first.
func (s *Server) DropDatabases(ctx context.Context, dbs ...string) error {
	if len(dbs) == 0 {
		return nil
	}
	if err := s.ExecAutocommit(ctx, "postgres", dropScript(dbs)); err != nil {
		return fmt.Errorf("dropping database %s: %w", strings.Join(dbs, ", "), err)
	}
	return nil
}

// dropScript is DropDatabases' psql script.
func dropScript(dbs []string) string {
	var b strings.Builder
	for _, db := range dbs {
		fmt.Fprintf(&b, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s) AS dr_exists \\gset\n\\if :dr_exists\n", QuoteString(db))
		b.WriteString(closeSessions(db))
		fmt.Fprintf(&b, "DROP DATABASE %s;\n\\endif\n", QuoteIdent(db))
	}
	return b.String()
}

// ImportPrelude is what a restore's import runs before the dump, in the
// same psql: it drops the databases of drop the server still has (the
// dump's CREATE DATABASE would fail on them) and creates the roles of
// roles it lacks. In the import's own session rather than execs of their
// own: each exec is a round of engine calls and a client start.
func ImportPrelude(drop, roles []string) string {
	return dropScript(drop) + missingRolesScript(roles)
}

// DatabaseExists says whether the server has database db.
func (s *Server) DatabaseExists(ctx context.Context, db string) (bool, error) {
	rows, err := s.Query(ctx, "postgres", "SELECT 1 FROM pg_database WHERE datname = "+QuoteString(db))
	if err != nil {
		return false, fmt.Errorf("looking for database %s: %w", db, err)
	}
	return len(rows) > 0, nil
}

// ExistingDatabases returns the databases of names the server has.
func (s *Server) ExistingDatabases(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	rows, err := s.Query(ctx, "postgres", "SELECT datname FROM pg_database WHERE datname IN ("+SQLList(names)+") ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("looking for databases %s: %w", strings.Join(names, ", "), err)
	}
	return column(rows), nil
}

// MarkAbsent records that the server has no database db before a restore
// creates it: an empty aside database whose comment says so, from which
// the undo knows to drop the created one (PutBack then finds aside empty
// of any data, and DropAbsent drops both).
func (s *Server) MarkAbsent(ctx context.Context, db, aside string, meta AsideMeta) error {
	meta.Origin, meta.Absent = db, true
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("recording the aside database: %w", err)
	}
	sql := fmt.Sprintf("CREATE DATABASE %s;\n", QuoteIdent(aside)) +
		fmt.Sprintf("COMMENT ON DATABASE %s IS %s;\n", QuoteIdent(aside), QuoteString(asideCommentPrefix+string(js)))
	if err := s.ExecAutocommit(ctx, "postgres", sql); err != nil {
		return fmt.Errorf("recording that database %s is new in %s: %w", db, aside, err)
	}
	return nil
}

// DropAbsent undoes what a restore did to a database the server did not
// have before it (see MarkAbsent): it drops database db, when it exists,
// then the marker aside.
func (s *Server) DropAbsent(ctx context.Context, aside, db string) error {
	return s.DropDatabases(ctx, db, aside)
}

// TableCount is how many plain tables database db holds.
func (s *Server) TableCount(ctx context.Context, db string) (int, error) {
	rows, err := s.Query(ctx, db, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND `+userSchemas)
	if err != nil {
		return 0, fmt.Errorf("counting the tables of %s: %w", db, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("counting the tables of %s: unexpected answer", db)
	}
	n, err := atoi64(rows[0][0])
	return int(n), err
}

// ReopenInterrupted lets connections into the databases of dbs that a
// killed MoveAside or PutBack left closed (ALLOW_CONNECTIONS false, dr's
// comment on them), so that they can be read, dumped or moved again, and
// returns them. Databases closed by anyone else are left alone.
func (s *Server) ReopenInterrupted(ctx context.Context, dbs []string) ([]string, error) {
	if len(dbs) == 0 {
		return nil, nil
	}
	rows, err := s.Query(ctx, "postgres", "SELECT datname FROM pg_database WHERE "+closedByDr(dbs))
	if err != nil {
		return nil, fmt.Errorf("looking for databases an interrupted restore left closed: %w", err)
	}
	names := column(rows)
	if len(names) == 0 {
		return nil, nil
	}
	if err := s.reopen(ctx, names); err != nil {
		return nil, err
	}
	return names, nil
}

// closedByDr is the condition on pg_database of the databases of dbs that
// a killed MoveAside or PutBack left closed: no connections allowed, and
// dr's comment on them.
func closedByDr(dbs []string) string {
	return "NOT datallowconn AND datname IN (" + SQLList(dbs) + ") AND starts_with(coalesce(shobj_description(oid, 'pg_database'), ''), " + QuoteString(asideCommentPrefix) + ")"
}

// reopen lets connections into the databases of names again.
func (s *Server) reopen(ctx context.Context, names []string) error {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", QuoteIdent(n))
	}
	if err := s.ExecAutocommit(ctx, "postgres", b.String()); err != nil {
		return fmt.Errorf("opening the databases an interrupted restore left closed (%s): %w", strings.Join(names, ", "), err)
	}
	return nil
}

// surveyScript reads, in one exec, what a restore needs before it
// renames databases aside: the size of each of the databases named in
// its arguments the server has, whether a killed rename left it closed
// (ALLOW_CONNECTIONS false, dr's comment on it), and the free KiB of the
// data directory's filesystem (a "free-error" line with df's complaint
// when it cannot tell). $1 is the query that reads the databases.
const surveyScript = credentialPrelude + `psql -X -q -v ON_ERROR_STOP=1 -c "COPY ($1) TO STDOUT"
dir=$(psql -X -q -A -t -c "SHOW data_directory")
if free=$(df -Pk "$dir" 2>&1); then
  printf 'free\t%s\n' "$(printf '%s\n' "$free" | awk 'NR==2 {print $4}')"
else
  printf 'free-error\t%s\n' "$(printf '%s' "$free" | tr '\t\n' '  ')"
fi
`

// relationsScript lists the relations (relationsQuery, in $1) of each
// database named after it, every row led by its database's name.
const relationsScript = credentialPrelude + `q=$1; shift
for db in "$@"; do psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "COPY (SELECT current_database(), r.* FROM ($q) r) TO STDOUT"; done
`

// relationsQuery lists a database's tables (plain ones, whose rows COPY
// dumps, and partitioned ones, which pg_dump lists as tables with no rows
// of their own) and views (materialized ones too), sorted by name.
var relationsQuery = `SELECT n.nspname || '.' || c.relname, c.relkind IN ('v', 'm') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ` + userSchemas + ` AND ` + fmt.Sprintf(notInExtension, "c.oid") + ` ORDER BY 1`

// Survey is what a restore reads of the server before it renames
// databases aside (see SurveyAside).
type Survey struct {
	// Sizes has the databases asked for that the server has.
	Sizes map[string]int64
	// Relations lists each of them (see Relations).
	Relations map[string][]Relation
	// Free is the free space of the data directory's filesystem; FreeErr
	// says why it could not be measured.
	Free    int64
	FreeErr error
}

// SurveyAside reads, in two execs, what renaming the databases of dbs
// aside needs: which the server has, their sizes and relations, and the
// free space of the data directory. A database a killed rename left
// closed is opened first (see ReopenInterrupted): it is still the
// database as it was, to be read and kept.
func (s *Server) SurveyAside(ctx context.Context, dbs []string) (*Survey, error) {
	sv := &Survey{Sizes: map[string]int64{}, Relations: map[string][]Relation{}}
	if len(dbs) == 0 {
		return sv, nil
	}
	q := "SELECT 'size', datname, pg_database_size(oid)::text FROM pg_database WHERE datname IN (" + SQLList(dbs) + ")" +
		" UNION ALL SELECT 'closed', datname, '' FROM pg_database WHERE " + closedByDr(dbs)
	out, err := s.output(ctx, "inspecting the databases", 1<<20, surveyScript, "dr-survey", q)
	if err != nil {
		return nil, err
	}
	var closed, have []string
	sawFree := false
	for _, r := range copyRows(out) {
		switch {
		case len(r) == 3 && r[0] == "size":
			n, err := atoi64(r[2])
			if err != nil {
				return nil, fmt.Errorf("measuring database %s: reading %q: %w", r[1], r[2], err)
			}
			sv.Sizes[r[1]] = n
			have = append(have, r[1])
		case len(r) == 3 && r[0] == "closed":
			closed = append(closed, r[1])
		case len(r) == 2 && r[0] == "free":
			sawFree = true
			kib, err := atoi64(r[1])
			if err != nil {
				sv.FreeErr = fmt.Errorf("measuring the free space of the data directory: df said %q", r[1])
			} else {
				sv.Free = kib * 1024
			}
		case len(r) == 2 && r[0] == "free-error":
			sawFree = true
			sv.FreeErr = fmt.Errorf("measuring the free space of the data directory: %s", strings.TrimSpace(r[1]))
		}
	}
	if !sawFree {
		sv.FreeErr = errors.New("measuring the free space of the data directory: df said nothing")
	}
	if len(closed) > 0 {
		if err := s.reopen(ctx, closed); err != nil {
			return nil, err
		}
	}
	if len(have) == 0 {
		return sv, nil
	}
	out, err = s.output(ctx, "listing the tables", 64<<20, relationsScript, "dr-relations", append([]string{relationsQuery}, have...)...)
	if err != nil {
		return nil, err
	}
	for _, r := range copyRows(out) {
		if len(r) == 3 {
			sv.Relations[r[0]] = append(sv.Relations[r[0]], Relation{Name: r[1], View: r[2] == "t"})
		}
	}
	return sv, nil
}
