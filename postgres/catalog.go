package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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

// Relations lists database db's tables (plain ones, whose rows COPY
// dumps, and partitioned ones, which pg_dump lists as tables with no rows
// of their own) and views (materialized ones too), sorted by name.
func (s *Server) Relations(ctx context.Context, db string) ([]Relation, error) {
	rows, err := s.Query(ctx, db, `SELECT n.nspname || '.' || c.relname, c.relkind IN ('v', 'm') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm') AND `+userSchemas+` AND `+fmt.Sprintf(notInExtension, "c.oid")+` ORDER BY 1`)
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
// schema.name: what RowCounts and Checksums may ask about.
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
// rather than failing it.
func (s *Server) RowCounts(ctx context.Context, db string, tables []string) (map[string]int64, error) {
	if len(tables) == 0 {
		return map[string]int64{}, nil
	}
	have, err := s.tableSet(ctx, db)
	if err != nil {
		return nil, err
	}
	var existing []string
	for _, t := range tables {
		if have[t] {
			existing = append(existing, t)
		}
	}
	return s.CountRows(ctx, db, existing)
}

// CountRows is RowCounts of tables the caller has just listed (see
// Relations), without listing them again.
func (s *Server) CountRows(ctx context.Context, db string, tables []string) (map[string]int64, error) {
	counts := make(map[string]int64, len(tables))
	const batch = 200
	for len(tables) > 0 {
		part := tables[:min(batch, len(tables))]
		tables = tables[len(part):]
		selects := make([]string, len(part))
		for i, t := range part {
			selects[i] = fmt.Sprintf("SELECT %s, count(*) FROM ONLY %s", QuoteString(t), QualifiedIdent(t))
		}
		rows, err := s.Query(ctx, db, strings.Join(selects, " UNION ALL "))
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

// CreateMissingRoles creates, without login, every role of roles the
// server lacks, so that a dump's OWNER TO and GRANT statements find their
// role (a fresh server or a drill's container has only its own). It
// returns the roles it created.
func (s *Server) CreateMissingRoles(ctx context.Context, roles []string) ([]string, error) {
	have, err := s.Roles(ctx)
	if err != nil {
		return nil, err
	}
	var created []string
	var b strings.Builder
	for _, r := range roles {
		if r == "" || strings.HasPrefix(r, "pg_") || slices.Contains(have, r) {
			continue
		}
		fmt.Fprintf(&b, "CREATE ROLE %s NOLOGIN;\n", QuoteIdent(r))
		created = append(created, r)
	}
	if len(created) == 0 {
		return nil, nil
	}
	if err := s.Exec(ctx, "postgres", b.String()); err != nil {
		return nil, fmt.Errorf("creating the roles the dump names (%s): %w", strings.Join(created, ", "), err)
	}
	return created, nil
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
	exists, err := s.DatabaseExists(ctx, db)
	if err != nil || !exists {
		return err
	}
	if err := s.ExecAutocommit(ctx, "postgres", closeSessions(db)+fmt.Sprintf("DROP DATABASE %s;\n", QuoteIdent(db))); err != nil {
		return fmt.Errorf("dropping database %s: %w", db, err)
	}
	return nil
}

// DatabaseExists says whether the server has database db.
func (s *Server) DatabaseExists(ctx context.Context, db string) (bool, error) {
	rows, err := s.Query(ctx, "postgres", "SELECT 1 FROM pg_database WHERE datname = "+QuoteString(db))
	if err != nil {
		return false, fmt.Errorf("looking for database %s: %w", db, err)
	}
	return len(rows) > 0, nil
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
	if err := s.DropDatabase(ctx, db); err != nil {
		return err
	}
	return s.DropDatabase(ctx, aside)
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

// DatabaseSizes returns the size of each database of dbs the server has.
func (s *Server) DatabaseSizes(ctx context.Context, dbs []string) (map[string]int64, error) {
	sizes := map[string]int64{}
	if len(dbs) == 0 {
		return sizes, nil
	}
	rows, err := s.Query(ctx, "postgres", "SELECT datname, pg_database_size(oid) FROM pg_database WHERE datname IN ("+SQLList(dbs)+")")
	if err != nil {
		return nil, fmt.Errorf("measuring the databases: %w", err)
	}
	for _, r := range rows {
		if len(r) == 2 {
			n, err := atoi64(r[1])
			if err != nil {
				return nil, fmt.Errorf("measuring database %s: reading %q: %w", r[0], r[1], err)
			}
			sizes[r[0]] = n
		}
	}
	return sizes, nil
}

// ReopenInterrupted lets connections into the databases of dbs that a
// killed MoveAside or PutBack left closed (ALLOW_CONNECTIONS false, dr's
// comment on them), so that they can be read, dumped or moved again, and
// returns them. Databases closed by anyone else are left alone.
func (s *Server) ReopenInterrupted(ctx context.Context, dbs []string) ([]string, error) {
	if len(dbs) == 0 {
		return nil, nil
	}
	rows, err := s.Query(ctx, "postgres", "SELECT datname FROM pg_database WHERE NOT datallowconn AND datname IN ("+SQLList(dbs)+") AND starts_with(coalesce(shobj_description(oid, 'pg_database'), ''), "+QuoteString(asideCommentPrefix)+")")
	if err != nil {
		return nil, fmt.Errorf("looking for databases an interrupted restore left closed: %w", err)
	}
	names := column(rows)
	if len(names) == 0 {
		return nil, nil
	}
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", QuoteIdent(n))
	}
	if err := s.ExecAutocommit(ctx, "postgres", b.String()); err != nil {
		return nil, fmt.Errorf("opening the databases an interrupted restore left closed (%s): %w", strings.Join(names, ", "), err)
	}
	return names, nil
}
