package mariadb

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The SQL of moving databases aside (restore decides what moves and when
// it comes back): an aside schema holds the tables renamed into it and a
// table AsideMetaTable whose rows are JSON: row 0 the AsideMeta, rows 1…
// the Definitions a rename does not carry.

// AsideMetaTable is the table in each aside schema that says what it holds.
const AsideMetaTable = "dr_aside"

// AsideMeta is row 0 of an aside schema's meta table.
type AsideMeta struct {
	Origin  string `json:"origin"`
	Stamp   string `json:"stamp"`
	Backup  string `json:"backup"`
	Existed bool   `json:"existed"`
	Tables  int    `json:"tables"`
}

// Definition is what a rename does not carry, as SHOW CREATE gave it.
type Definition struct {
	Kind      string `json:"kind"` // database, view, trigger, procedure, function, event
	Name      string `json:"name"`
	SQLMode   string `json:"sql_mode,omitempty"`
	Charset   string `json:"charset,omitempty"`
	Collation string `json:"collation,omitempty"`
	TimeZone  string `json:"time_zone,omitempty"`
	Stmt      string `json:"stmt"`
}

// ObjectRef names an object of a database whose definition SHOW CREATE
// reads: Kind is database, view, trigger, procedure, function or event.
type ObjectRef struct {
	Database, Kind, Name string
}

// TableInfo is a table or a view of a database, with its size on disk.
type TableInfo struct {
	Database, Name string
	View           bool
	Bytes          int64
}

// ExistingDatabases returns which of names are databases on the server.
func (m *Server) ExistingDatabases(ctx context.Context, names []string) ([]string, error) {
	rows, err := m.Query(ctx, "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ("+SQLList(names)+")")
	if err != nil {
		return nil, err
	}
	return column(rows), nil
}

// AsideSurvey is what moving databases aside needs to know of them.
type AsideSurvey struct {
	Existing []string    // which of the databases the server has
	Tables   []TableInfo // their tables and views, by database and name
	// Objects are their triggers (in the order they fire), procedures,
	// functions and events.
	Objects []ObjectRef
	// Free is the free bytes of the filesystem of the server's datadir,
	// measured inside the container; FreeErr says why it could not be.
	Free    int64
	FreeErr error
}

// surveyScript runs the query in $1, then prints surveySeparator and the
// free bytes of the filesystem of the server's datadir, as df sees it
// inside the container. One exec, not one a question: each exec is a
// round of engine calls and a client start.
const surveyScript = credentialPrelude + `DR_CLIENT=$(pick mariadb mysql)
"$DR_CLIENT" --user="$DR_USER" --batch --skip-column-names --default-character-set=utf8mb4 -e "$1" || exit
echo "` + surveySeparator + `"
d=$("$DR_CLIENT" --user="$DR_USER" --batch --skip-column-names -e 'SELECT @@datadir') && df -Pk "$d" | awk 'NR==2 {print $4 * 1024}'
exit 0
`

const surveySeparator = "--dr-survey--"

// SurveyAside reads, in one exec, what moving the databases aside needs:
// which exist, their tables, views and stored programs, and the free
// space of the datadir. A free space that cannot be measured is FreeErr,
// not a failure of the survey.
func (m *Server) SurveyAside(ctx context.Context, dbs []string) (*AsideSurvey, error) {
	list := SQLList(dbs)
	query := strings.Join([]string{
		"SELECT 'schema', schema_name FROM information_schema.schemata WHERE schema_name IN (" + list + ")",
		"SELECT 'table', table_schema, table_name, table_type, IFNULL(data_length,0)+IFNULL(index_length,0) FROM information_schema.tables WHERE table_schema IN (" + list + ") ORDER BY table_schema, table_name",
		"SELECT 'trigger', trigger_schema, trigger_name FROM information_schema.triggers WHERE trigger_schema IN (" + list + ") ORDER BY trigger_schema, event_object_table, action_timing, event_manipulation, action_order",
		"SELECT 'routine', routine_schema, routine_name, routine_type FROM information_schema.routines WHERE routine_schema IN (" + list + ") ORDER BY routine_schema, routine_name",
		"SELECT 'event', event_schema, event_name FROM information_schema.events WHERE event_schema IN (" + list + ") ORDER BY event_schema, event_name",
	}, ";\n")
	out, err := m.output(ctx, "surveying the databases to move aside", 16<<20, surveyScript, "dr-survey", query)
	if err != nil {
		return nil, err
	}
	rows, free, ok := strings.Cut(out, surveySeparator+"\n")
	if !ok {
		return nil, fmt.Errorf("surveying the databases to move aside: the answer lacks its %s line", surveySeparator)
	}
	sv := &AsideSurvey{}
	for _, r := range batchRows(rows) {
		switch {
		case r[0] == "schema" && len(r) == 2:
			sv.Existing = append(sv.Existing, r[1])
		case r[0] == "table" && len(r) == 5:
			n, _ := strconv.ParseInt(r[4], 10, 64)
			sv.Tables = append(sv.Tables, TableInfo{Database: r[1], Name: r[2], View: r[3] == "VIEW", Bytes: n})
		case (r[0] == "trigger" || r[0] == "event") && len(r) == 3:
			sv.Objects = append(sv.Objects, ObjectRef{Database: r[1], Kind: r[0], Name: r[2]})
		case r[0] == "routine" && len(r) == 4:
			sv.Objects = append(sv.Objects, ObjectRef{Database: r[1], Kind: strings.ToLower(r[3]), Name: r[2]})
		}
	}
	if sv.Free, err = strconv.ParseInt(strings.TrimSpace(free), 10, 64); err != nil {
		sv.FreeErr = fmt.Errorf("measuring the free space of the datadir: df said %q", strings.TrimSpace(free))
	}
	return sv, nil
}

// Definitions reads the definitions of the objects with SHOW CREATE, in
// one round trip. A definition the user may not see is an error.
func (m *Server) Definitions(ctx context.Context, refs []ObjectRef) ([]Definition, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	shows := make([]string, len(refs))
	for i, o := range refs {
		if o.Kind == "database" {
			shows[i] = "SHOW CREATE DATABASE " + QuoteIdent(o.Name)
		} else {
			shows[i] = "SHOW CREATE " + strings.ToUpper(o.Kind) + " " + qualified(o.Database, o.Name)
		}
	}
	// Each SHOW CREATE answers one row.
	rows, err := m.Query(ctx, strings.Join(shows, ";\n"))
	if err != nil {
		return nil, fmt.Errorf("the definitions of the database's views, triggers, routines and events could not be read (%w)", err)
	}
	if len(rows) != len(shows) {
		return nil, fmt.Errorf("reading the definitions of %d views, triggers, routines and events returned %d rows", len(shows), len(rows))
	}
	out := make([]Definition, len(refs))
	for i, r := range rows {
		if out[i], err = parseShowCreate(refs[i], r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseShowCreate reads one SHOW CREATE row into the object's definition.
func parseShowCreate(ref ObjectRef, r []string) (Definition, error) {
	field := func(i int) string {
		if i < len(r) {
			return r[i]
		}
		return ""
	}
	o := Definition{Kind: ref.Kind, Name: ref.Name}
	// Columns: SHOW CREATE DATABASE: name, stmt. VIEW: name, stmt, client
	// charset, collation. TRIGGER, PROCEDURE, FUNCTION: name, sql_mode,
	// stmt, charset, collation, … EVENT: name, sql_mode, time_zone, stmt,
	// charset, collation, …
	switch o.Kind {
	case "database":
		o.Stmt = field(1)
	case "view":
		o.Stmt, o.Charset, o.Collation = field(1), field(2), field(3)
	case "event":
		o.SQLMode, o.TimeZone, o.Stmt, o.Charset, o.Collation = field(1), field(2), field(3), field(4), field(5)
	default:
		o.SQLMode, o.Stmt, o.Charset, o.Collation = field(1), field(2), field(3), field(4)
	}
	if o.Stmt == "" || o.Stmt == "NULL" {
		return o, fmt.Errorf("the definition of %s %s cannot be read by dr's database user (no privilege to see it), so it could not be recreated", o.Kind, o.Name)
	}
	return o, nil
}

// AsideSchemaNames lists the schemas named like aside schemas.
func (m *Server) AsideSchemaNames(ctx context.Context) ([]string, error) {
	rows, err := m.Query(ctx, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dr\_aside\_%' ORDER BY schema_name`)
	if err != nil {
		return nil, err
	}
	return column(rows), nil
}

// AsideContent is what an aside schema holds now.
type AsideContent struct {
	Schema string
	// Tables are the tables it holds, its meta table left out; Bytes
	// their size with it.
	Tables int
	Bytes  int64
	// Meta is nil for a schema without its meta row: one a killed
	// restore left before it wrote what it holds.
	Meta        *AsideMeta
	Definitions []Definition
}

// ReadAside reads the named aside schemas, by name; one that is gone is
// left out.
func (m *Server) ReadAside(ctx context.Context, names []string) ([]AsideContent, error) {
	if len(names) == 0 {
		return nil, nil
	}
	rows, err := m.Query(ctx, "SELECT s.schema_name, COUNT(t.table_name), IFNULL(SUM(t.data_length+t.index_length),0), IFNULL(MAX(t.table_name = "+QuoteString(AsideMetaTable)+"),0) "+
		"FROM information_schema.schemata s LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name "+
		"WHERE s.schema_name IN ("+SQLList(names)+") GROUP BY s.schema_name ORDER BY s.schema_name")
	if err != nil {
		return nil, err
	}
	var out []AsideContent
	var withMeta []string
	for _, r := range rows {
		if len(r) != 4 {
			continue
		}
		n, _ := strconv.Atoi(r[1])
		size, _ := strconv.ParseInt(r[2], 10, 64)
		c := AsideContent{Schema: r[0], Tables: n, Bytes: size}
		if r[3] == "1" {
			c.Tables--
			withMeta = append(withMeta, r[0])
		}
		out = append(out, c)
	}
	if len(withMeta) == 0 {
		return out, nil
	}
	parts := make([]string, len(withMeta))
	for i, n := range withMeta {
		parts[i] = fmt.Sprintf("SELECT %s, seq, HEX(body) FROM %s.%s", QuoteString(n), QuoteIdent(n), AsideMetaTable)
	}
	rows, err = m.Query(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY 1, 2")
	if err != nil {
		return nil, fmt.Errorf("reading what the aside schemas hold: %w", err)
	}
	for _, r := range rows {
		if len(r) != 3 {
			continue
		}
		i := indexOfSchema(out, r[0])
		body, err := hex.DecodeString(r[2])
		if i < 0 || err != nil {
			continue
		}
		c := &out[i]
		if r[1] == "0" {
			var meta AsideMeta
			if json.Unmarshal(body, &meta) == nil && meta.Origin != "" {
				c.Meta = &meta
			}
			continue
		}
		var d Definition
		if err := json.Unmarshal(body, &d); err != nil {
			return nil, fmt.Errorf("aside schema %s: a saved definition is damaged: %w", r[0], err)
		}
		c.Definitions = append(c.Definitions, d)
	}
	return out, nil
}

func indexOfSchema(cs []AsideContent, name string) int {
	for i := range cs {
		if cs[i].Schema == name {
			return i
		}
	}
	return -1
}

// HeldTables lists the tables an aside schema holds, its meta table left
// out.
func (m *Server) HeldTables(ctx context.Context, schema string) ([]string, error) {
	rows, err := m.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = "+QuoteString(schema)+" AND table_name <> "+QuoteString(AsideMetaTable)+" ORDER BY table_name")
	if err != nil {
		return nil, err
	}
	return column(rows), nil
}

func column(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		if len(r) > 0 {
			out = append(out, r[0])
		}
	}
	return out
}

func qualified(db, name string) string { return QuoteIdent(db) + "." + QuoteIdent(name) }

// TableMove renames a table from one database into another.
type TableMove struct {
	From, To, Table string
}

// Batch is a script of statements run together by Server.RunBatch.
type Batch struct {
	b strings.Builder
}

// Len is how many bytes the script holds: 0 when there is nothing to run.
func (b *Batch) Len() int { return b.b.Len() }

// String is the script.
func (b *Batch) String() string { return b.b.String() }

// CreateAside makes an aside schema with its meta table: the definitions,
// then the meta row, so that a schema with it is complete.
func (b *Batch) CreateAside(schema string, meta AsideMeta, defs []Definition) {
	q := QuoteIdent(schema)
	fmt.Fprintf(&b.b, "CREATE DATABASE %s;\n", q)
	fmt.Fprintf(&b.b, "CREATE TABLE %s.%s (seq INT NOT NULL PRIMARY KEY, body LONGBLOB NOT NULL) ENGINE=InnoDB;\n", q, AsideMetaTable)
	fmt.Fprintf(&b.b, "INSERT INTO %s.%s (seq, body) VALUES ", q, AsideMetaTable)
	for i, d := range defs {
		body, _ := json.Marshal(d)
		fmt.Fprintf(&b.b, "(%d, X'%s'), ", i+1, hex.EncodeToString(body))
	}
	body, _ := json.Marshal(meta)
	fmt.Fprintf(&b.b, "(0, X'%s');\n", hex.EncodeToString(body))
}

// DropTrigger drops a trigger of db.
func (b *Batch) DropTrigger(db, name string) {
	fmt.Fprintf(&b.b, "DROP TRIGGER %s;\n", qualified(db, name))
}

// RenameTables moves every table in one RENAME TABLE, which the server
// does whole or not at all.
func (b *Batch) RenameTables(moves []TableMove) {
	if len(moves) == 0 {
		return
	}
	renames := make([]string, len(moves))
	for i, m := range moves {
		renames[i] = qualified(m.From, m.Table) + " TO " + qualified(m.To, m.Table)
	}
	fmt.Fprintf(&b.b, "RENAME TABLE %s;\n", strings.Join(renames, ", "))
}

// DropDatabase drops a database if it exists.
func (b *Batch) DropDatabase(name string) {
	fmt.Fprintf(&b.b, "DROP DATABASE IF EXISTS %s;\n", QuoteIdent(name))
}

// CreateDatabase makes a database: with its saved definition (a CREATE
// DATABASE statement) when def is not nil, else plainly, if it does not
// exist when ifMissing.
func (b *Batch) CreateDatabase(name string, def *Definition, ifMissing bool) {
	switch {
	case def != nil:
		fmt.Fprintf(&b.b, "%s;\n", def.Stmt)
	case ifMissing:
		fmt.Fprintf(&b.b, "CREATE DATABASE IF NOT EXISTS %s;\n", QuoteIdent(name))
	default:
		fmt.Fprintf(&b.b, "CREATE DATABASE %s;\n", QuoteIdent(name))
	}
}

// Recreate makes the object of d again in db, with the session settings
// it was made under, after dropping what has its name.
func (b *Batch) Recreate(db string, d Definition) {
	fmt.Fprintf(&b.b, "USE %s;\n", QuoteIdent(db))
	if d.SQLMode != "" {
		fmt.Fprintf(&b.b, "SET SESSION sql_mode = %s;\n", QuoteString(d.SQLMode))
	}
	if d.TimeZone != "" {
		fmt.Fprintf(&b.b, "SET SESSION time_zone = %s;\n", QuoteString(d.TimeZone))
	}
	if d.Charset != "" {
		fmt.Fprintf(&b.b, "SET SESSION character_set_client = %s;\n", QuoteString(d.Charset))
	}
	if d.Collation != "" {
		fmt.Fprintf(&b.b, "SET SESSION collation_connection = %s;\n", QuoteString(d.Collation))
	}
	fmt.Fprintf(&b.b, "DROP %s IF EXISTS %s;\n", strings.ToUpper(d.Kind), QuoteIdent(d.Name))
	// As mariadb-dump does: a body may hold ";".
	fmt.Fprintf(&b.b, "DELIMITER ;;\n%s;;\nDELIMITER ;\n", d.Stmt)
	b.b.WriteString("SET SESSION character_set_client = utf8mb4; SET SESSION collation_connection = utf8mb4_general_ci;\n")
}

// RunBatch runs the batch's statements as one script.
func (m *Server) RunBatch(ctx context.Context, b *Batch) error {
	_, err := m.Script(ctx, strings.NewReader(b.String()))
	return err
}
