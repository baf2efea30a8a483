package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/mariadb"
)

// Moving a database aside is the restore's safety net where it can work:
// instead of dumping the database it replaces (as long as the import
// itself), the restore renames every table into a schema of its own,
// dr_aside_<db>_<stamp>, which InnoDB does as a change of metadata. What a
// rename cannot carry is saved as its definition in that schema's table
// dr_aside and recreated by the undo: the database's own options, views,
// procedures, functions and events (the import's DROP DATABASE removes
// them), and triggers, which cannot move between schemas, so they are
// dropped before the rename. Everything the undo needs is on the server,
// in the aside schema, so the undo works without state_dir.

// asidePrefix starts the name of every aside schema.
const asidePrefix = mariadb.AsidePrefix

// asideMetaTable is the table in each aside schema that says what it holds.
const asideMetaTable = "dr_aside"

// asideHeadroom is added to the space an import needs: InnoDB's own files
// grow in steps, and a server with its disk full stops everything.
const asideHeadroom = 64 << 20

// asideServer is what moving a database aside needs of the server.
type asideServer interface {
	Query(ctx context.Context, sql string) ([][]string, error)
	Script(ctx context.Context, r io.Reader) (string, error)
	DataDirFree(ctx context.Context) (int64, error)
}

// AsideSchema is one database moved aside by one restore.
type AsideSchema struct {
	Schema string
	// Origin is the database the tables came from.
	Origin string
	Stamp  string
	Backup string
	// Existed is false for a database the backup created: the undo drops
	// it.
	Existed bool
	// Tables is how many tables were moved; Held how many the schema holds
	// now (fewer once an undo put them back), Bytes their size.
	Tables int
	Held   int
	Bytes  int64
	// Complete is false for a schema a killed restore left before it
	// wrote what it holds: no table was moved into it.
	Complete bool
	objects  []savedObject
}

// AsideGroup is every database one restore moved aside.
type AsideGroup struct {
	Stamp   string
	Backup  string
	Schemas []AsideSchema
}

// Names are the group's schema names.
func (g *AsideGroup) Names() []string {
	var out []string
	for _, s := range g.Schemas {
		out = append(out, s.Schema)
	}
	return out
}

// Bytes is the space the group's tables take.
func (g *AsideGroup) Bytes() int64 {
	var n int64
	for _, s := range g.Schemas {
		n += s.Bytes
	}
	return n
}

// savedObject is what a rename does not carry, as its definition.
type savedObject struct {
	Kind      string `json:"kind"` // database, view, trigger, procedure, function, event
	Name      string `json:"name"`
	SQLMode   string `json:"sql_mode,omitempty"`
	Charset   string `json:"charset,omitempty"`
	Collation string `json:"collation,omitempty"`
	TimeZone  string `json:"time_zone,omitempty"`
	Stmt      string `json:"stmt"`
}

// asideMeta is the first row of the meta table.
type asideMeta struct {
	Origin  string `json:"origin"`
	Stamp   string `json:"stamp"`
	Backup  string `json:"backup"`
	Existed bool   `json:"existed"`
	Tables  int    `json:"tables"`
}

// asideName is the schema a database goes aside into: within MariaDB's
// 64 characters, a long database name cut and told apart by a hash.
func asideName(db, stamp string) string {
	room := 64 - len(asidePrefix) - 1 - len(stamp)
	if len(db) > room {
		sum := sha256.Sum256([]byte(db))
		db = db[:room-7] + "_" + hex.EncodeToString(sum[:3])
	}
	return asidePrefix + db + "_" + stamp
}

var asideNameRE = regexp.MustCompile(`^` + asidePrefix + `.*_(\d{8}T\d{6}Z)$`)

// asideDatabase is one database the restore replaces, as it is now.
type asideDatabase struct {
	Name    string
	Existed bool
	Tables  []string
	Bytes   int64
	Objects []savedObject
}

// asidePrep is what moving aside would move, and the facts that decide
// whether it can.
type asidePrep struct {
	Databases []asideDatabase
	// Free is the free space of the server's datadir; Need what the import
	// will write while the tables aside keep theirs.
	Free, Need int64
	// FreeErr: the free space could not be measured.
	FreeErr error
	// Problem is why it cannot work, found while looking (a definition
	// that cannot be read, a table named like the meta table).
	Problem string
}

// chooseAside decides between moving aside and the safety dump: it says
// why moving aside cannot work, or "" when it can.
func chooseAside(p *asidePrep) string {
	switch {
	case p.Problem != "":
		return p.Problem
	case p.FreeErr != nil:
		return fmt.Sprintf("the free space of the database's datadir could not be measured (%v)", p.FreeErr)
	case p.Free < p.Need:
		return fmt.Sprintf("the database's datadir has %s free and the import needs about %s while the current tables keep theirs", humanize.Bytes(p.Free), humanize.Bytes(p.Need))
	}
	return ""
}

// inspectAside looks at the databases the import replaces. dumpSize is the
// size of the backup's dump: with the current tables' size it bounds what
// the import writes.
func inspectAside(ctx context.Context, srv asideServer, dbs []string, dumpSize int64) (*asidePrep, error) {
	p := &asidePrep{}
	if len(dbs) == 0 {
		p.Problem = "the backup's manifest names no database"
		return p, nil
	}
	for _, db := range dbs {
		// The list comes from the sidecar, which is outside input: never
		// move the server's own databases or other aside schemas.
		if slices.ContainsFunc(mariadb.SystemDatabases, func(s string) bool { return strings.EqualFold(s, db) }) || strings.HasPrefix(db, asidePrefix) {
			p.Problem = fmt.Sprintf("the backup names database %s, which dr does not move aside", db)
			return p, nil
		}
	}
	list := mariadb.SQLList(dbs)
	rows, err := srv.Query(ctx, "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ("+list+")")
	if err != nil {
		return nil, err
	}
	existing := map[string]bool{}
	for _, r := range rows {
		existing[r[0]] = true
	}
	byName := map[string]*asideDatabase{}
	for _, db := range dbs {
		p.Databases = append(p.Databases, asideDatabase{Name: db, Existed: existing[db]})
	}
	for i := range p.Databases {
		byName[p.Databases[i].Name] = &p.Databases[i]
	}
	var current int64
	rows, err = srv.Query(ctx, "SELECT table_schema, table_name, table_type, IFNULL(data_length,0)+IFNULL(index_length,0) FROM information_schema.tables WHERE table_schema IN ("+list+") ORDER BY table_schema, table_name")
	if err != nil {
		return nil, err
	}
	var shows []string
	var pending []savedObject
	var owners []*asideDatabase
	show := func(d *asideDatabase, kind, stmt string, name string) {
		shows = append(shows, stmt)
		pending = append(pending, savedObject{Kind: kind, Name: name})
		owners = append(owners, d)
	}
	for _, db := range dbs {
		if existing[db] {
			show(byName[db], "database", "SHOW CREATE DATABASE "+mariadb.QuoteIdent(db), db)
		}
	}
	for _, r := range rows {
		if len(r) != 4 {
			continue
		}
		d := byName[r[0]]
		if d == nil {
			continue
		}
		if r[2] == "VIEW" {
			show(d, "view", "SHOW CREATE VIEW "+ident2(r[0], r[1]), r[1])
			continue
		}
		if r[1] == asideMetaTable {
			p.Problem = fmt.Sprintf("database %s has a table named %s, the name dr's aside schemas use for what they hold", r[0], asideMetaTable)
		}
		n, _ := strconv.ParseInt(r[3], 10, 64)
		d.Tables = append(d.Tables, r[1])
		d.Bytes += n
		current += n
	}
	for _, q := range []struct{ kind, sql string }{
		{"trigger", "SELECT trigger_schema, trigger_name FROM information_schema.triggers WHERE trigger_schema IN (" + list + ") ORDER BY trigger_schema, event_object_table, action_timing, event_manipulation, action_order"},
		{"routine", "SELECT routine_schema, routine_name, routine_type FROM information_schema.routines WHERE routine_schema IN (" + list + ") ORDER BY routine_schema, routine_name"},
		{"event", "SELECT event_schema, event_name FROM information_schema.events WHERE event_schema IN (" + list + ") ORDER BY event_schema, event_name"},
	} {
		rows, err := srv.Query(ctx, q.sql)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if len(r) < 2 || byName[r[0]] == nil {
				continue
			}
			kind := q.kind
			if kind == "routine" && len(r) == 3 {
				kind = strings.ToLower(r[2])
			}
			show(byName[r[0]], kind, "SHOW CREATE "+strings.ToUpper(kind)+" "+ident2(r[0], r[1]), r[1])
		}
	}
	if len(shows) > 0 {
		// One round trip: each SHOW CREATE answers one row.
		rows, err := srv.Query(ctx, strings.Join(shows, ";\n"))
		if err != nil {
			p.Problem = fmt.Sprintf("the definitions of the database's views, triggers, routines and events could not be read (%v)", err)
		} else if len(rows) != len(shows) {
			p.Problem = fmt.Sprintf("reading the definitions of %d views, triggers, routines and events returned %d rows", len(shows), len(rows))
		} else {
			for i, r := range rows {
				o, err := parseShowCreate(pending[i], r)
				if err != nil {
					p.Problem = err.Error()
					break
				}
				owners[i].Objects = append(owners[i].Objects, o)
			}
		}
	}
	p.Need = max(dumpSize, current) + max(dumpSize, current)/10 + asideHeadroom
	p.Free, p.FreeErr = srv.DataDirFree(ctx)
	return p, nil
}

// parseShowCreate reads one SHOW CREATE row into the object's definition.
func parseShowCreate(o savedObject, r []string) (savedObject, error) {
	field := func(i int) string {
		if i < len(r) {
			return r[i]
		}
		return ""
	}
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

func ident2(db, name string) string { return mariadb.QuoteIdent(db) + "." + mariadb.QuoteIdent(name) }

// moveAside moves the databases' tables aside into schemas named for the
// stamp. It first writes every definition into the new schemas (the meta
// row last, so a schema with it is complete), then drops the triggers and
// renames every table in one RENAME TABLE, which the server does whole or
// not at all. On failure it puts back what it changed and says so.
func moveAside(ctx context.Context, srv asideServer, prep *asidePrep, stamp, backup string) (*AsideGroup, error) {
	g := &AsideGroup{Stamp: stamp, Backup: backup}
	var create strings.Builder
	for _, d := range prep.Databases {
		s := AsideSchema{Schema: asideName(d.Name, stamp), Origin: d.Name, Stamp: stamp, Backup: backup, Existed: d.Existed,
			Tables: len(d.Tables), Held: len(d.Tables), Bytes: d.Bytes, Complete: true, objects: d.Objects}
		g.Schemas = append(g.Schemas, s)
		q := mariadb.QuoteIdent(s.Schema)
		fmt.Fprintf(&create, "CREATE DATABASE %s;\n", q)
		fmt.Fprintf(&create, "CREATE TABLE %s.%s (seq INT NOT NULL PRIMARY KEY, body LONGBLOB NOT NULL) ENGINE=InnoDB;\n", q, asideMetaTable)
		meta, _ := json.Marshal(asideMeta{Origin: d.Name, Stamp: stamp, Backup: backup, Existed: d.Existed, Tables: len(d.Tables)})
		fmt.Fprintf(&create, "INSERT INTO %s.%s (seq, body) VALUES ", q, asideMetaTable)
		for i, o := range d.Objects {
			b, _ := json.Marshal(o)
			fmt.Fprintf(&create, "(%d, X'%s'), ", i+1, hex.EncodeToString(b))
		}
		fmt.Fprintf(&create, "(0, X'%s');\n", hex.EncodeToString(meta))
	}
	// The lock keeps other runs out, but a schema of that name could be
	// left from a run in the same second: never touch one this run did
	// not make.
	rows, err := srv.Query(ctx, "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ("+mariadb.SQLList(g.Names())+")")
	if err != nil {
		return nil, &asideMoveError{Err: err, Clean: true}
	}
	if len(rows) > 0 {
		return nil, &asideMoveError{Err: fmt.Errorf("aside schema %s exists already", rows[0][0]), Clean: true}
	}
	if _, err := srv.Script(ctx, strings.NewReader(create.String())); err != nil {
		return g, &asideMoveError{Err: fmt.Errorf("creating the aside schemas: %w", err)}
	}

	var move strings.Builder
	var renames []string
	for i, d := range prep.Databases {
		for _, o := range d.Objects {
			if o.Kind == "trigger" {
				fmt.Fprintf(&move, "DROP TRIGGER %s;\n", ident2(d.Name, o.Name))
			}
		}
		for _, t := range d.Tables {
			renames = append(renames, ident2(d.Name, t)+" TO "+ident2(g.Schemas[i].Schema, t))
		}
	}
	if len(renames) > 0 {
		fmt.Fprintf(&move, "RENAME TABLE %s;\n", strings.Join(renames, ", "))
	}
	if move.Len() > 0 {
		if _, err := srv.Script(ctx, strings.NewReader(move.String())); err != nil {
			return g, &asideMoveError{Err: fmt.Errorf("moving the tables aside: %w", err)}
		}
	}
	return g, nil
}

// asideMoveError is a move aside that failed. Clean: nothing was made or
// changed; else the caller puts back what was (rollbackAside).
type asideMoveError struct {
	Err   error
	Clean bool
}

func (e *asideMoveError) Error() string { return e.Err.Error() }
func (e *asideMoveError) Unwrap() error { return e.Err }

// rollbackAside undoes a move that failed part way: the tables were not
// renamed (RENAME TABLE is all or nothing), so putting back recreates what
// was dropped and removes the new schemas.
func rollbackAside(ctx context.Context, srv asideServer, g *AsideGroup) error {
	ctx = context.WithoutCancel(ctx)
	loaded, err := loadAside(ctx, srv, g.Names())
	if err != nil {
		return fmt.Errorf("putting back what was moved aside: %w; put it back with dr restore --undo", err)
	}
	if err := putBack(ctx, srv, loaded, false); err != nil {
		return fmt.Errorf("putting back what was moved aside: %w; put it back with dr restore --undo", err)
	}
	return nil
}

// inPlace says whether the group is a safety net: every schema whole and
// the tables still aside (or there were none to move).
func (g *AsideGroup) inPlace() bool {
	total, held := 0, 0
	for _, s := range g.Schemas {
		if !s.Complete {
			return false
		}
		total += s.Tables
		held += s.Held
	}
	return held > 0 || total == 0
}

// putBack makes the databases as they were before the group was moved
// aside, then drops the group. Each step can run again after a kill: a
// database is dropped and made again only while its tables are still aside
// (or it had none); the tables come back in one RENAME TABLE; every saved
// definition is recreated after DROP … IF EXISTS. With replace false
// (a move that failed before the import) a database is never dropped: it
// still holds what it held.
func putBack(ctx context.Context, srv asideServer, g *AsideGroup, replace bool) error {
	var swap strings.Builder
	var renames []string
	for _, s := range g.Schemas {
		if !s.Complete {
			if s.Held > 0 {
				return fmt.Errorf("aside schema %s holds %d tables but does not say where they came from; move them back by hand (RENAME TABLE) and drop it", s.Schema, s.Held)
			}
			continue
		}
		o := mariadb.QuoteIdent(s.Origin)
		switch {
		case !s.Existed:
			if replace {
				fmt.Fprintf(&swap, "DROP DATABASE IF EXISTS %s;\n", o)
			}
		case replace && (s.Held > 0 || s.Tables == 0):
			fmt.Fprintf(&swap, "DROP DATABASE IF EXISTS %s;\n", o)
			fmt.Fprintf(&swap, "%s;\n", s.createDatabase())
		case s.Held > 0:
			fmt.Fprintf(&swap, "CREATE DATABASE IF NOT EXISTS %s;\n", o)
		}
		if !s.Existed {
			continue
		}
		tables, err := heldTables(ctx, srv, s.Schema)
		if err != nil {
			return err
		}
		for _, t := range tables {
			renames = append(renames, ident2(s.Schema, t)+" TO "+ident2(s.Origin, t))
		}
	}
	if len(renames) > 0 {
		fmt.Fprintf(&swap, "RENAME TABLE %s;\n", strings.Join(renames, ", "))
	}
	if swap.Len() > 0 {
		if _, err := srv.Script(ctx, strings.NewReader(swap.String())); err != nil {
			return fmt.Errorf("moving the tables back: %w", err)
		}
	}
	// Stored objects, then views: a view may read another, so views are
	// made in passes until none is left or a pass makes none.
	var views []func() error
	for _, s := range g.Schemas {
		if !s.Complete || !s.Existed {
			continue
		}
		var b strings.Builder
		for _, o := range s.objects {
			switch o.Kind {
			case "database":
			case "view":
				v := o
				origin := s.Origin
				views = append(views, func() error {
					var b strings.Builder
					writeRecreate(&b, origin, v)
					_, err := srv.Script(ctx, strings.NewReader(b.String()))
					return err
				})
			default:
				writeRecreate(&b, s.Origin, o)
			}
		}
		if b.Len() > 0 {
			if _, err := srv.Script(ctx, strings.NewReader(b.String())); err != nil {
				return fmt.Errorf("recreating the triggers, routines and events of %s: %w", s.Origin, err)
			}
		}
	}
	for len(views) > 0 {
		var left []func() error
		var last error
		for _, v := range views {
			if err := v(); err != nil {
				left, last = append(left, v), err
			}
		}
		if len(left) == len(views) {
			return fmt.Errorf("recreating views: %w", last)
		}
		views = left
	}
	var drop strings.Builder
	for _, s := range g.Schemas {
		fmt.Fprintf(&drop, "DROP DATABASE IF EXISTS %s;\n", mariadb.QuoteIdent(s.Schema))
	}
	if _, err := srv.Script(ctx, strings.NewReader(drop.String())); err != nil {
		return fmt.Errorf("dropping the aside schemas once emptied: %w", err)
	}
	return nil
}

func (s *AsideSchema) createDatabase() string {
	for _, o := range s.objects {
		if o.Kind == "database" {
			return o.Stmt
		}
	}
	return "CREATE DATABASE " + mariadb.QuoteIdent(s.Origin)
}

// writeRecreate writes the statements that make o again in db, with the
// session settings it was made under.
func writeRecreate(b *strings.Builder, db string, o savedObject) {
	fmt.Fprintf(b, "USE %s;\n", mariadb.QuoteIdent(db))
	if o.SQLMode != "" {
		fmt.Fprintf(b, "SET SESSION sql_mode = %s;\n", mariadb.QuoteString(o.SQLMode))
	}
	if o.TimeZone != "" {
		fmt.Fprintf(b, "SET SESSION time_zone = %s;\n", mariadb.QuoteString(o.TimeZone))
	}
	if o.Charset != "" {
		fmt.Fprintf(b, "SET SESSION character_set_client = %s;\n", mariadb.QuoteString(o.Charset))
	}
	if o.Collation != "" {
		fmt.Fprintf(b, "SET SESSION collation_connection = %s;\n", mariadb.QuoteString(o.Collation))
	}
	fmt.Fprintf(b, "DROP %s IF EXISTS %s;\n", strings.ToUpper(o.Kind), mariadb.QuoteIdent(o.Name))
	// As mariadb-dump does: a body may hold ";".
	fmt.Fprintf(b, "DELIMITER ;;\n%s;;\nDELIMITER ;\n", o.Stmt)
	b.WriteString("SET SESSION character_set_client = utf8mb4; SET SESSION collation_connection = utf8mb4_general_ci;\n")
}

// heldTables lists the tables an aside schema holds.
func heldTables(ctx context.Context, srv asideServer, schema string) ([]string, error) {
	rows, err := srv.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = "+mariadb.QuoteString(schema)+" AND table_name <> "+mariadb.QuoteString(asideMetaTable)+" ORDER BY table_name")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out, nil
}

// listAside finds every aside schema on the server, grouped by restore,
// newest first.
func listAside(ctx context.Context, srv asideServer) ([]*AsideGroup, error) {
	rows, err := srv.Query(ctx, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dr\_aside\_%' ORDER BY schema_name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range rows {
		if asideNameRE.MatchString(r[0]) {
			names = append(names, r[0])
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	g, err := loadAside(ctx, srv, names)
	if err != nil {
		return nil, err
	}
	groups := map[string]*AsideGroup{}
	var out []*AsideGroup
	for _, s := range g.Schemas {
		gr := groups[s.Stamp]
		if gr == nil {
			gr = &AsideGroup{Stamp: s.Stamp}
			groups[s.Stamp] = gr
			out = append(out, gr)
		}
		if gr.Backup == "" {
			gr.Backup = s.Backup
		}
		gr.Schemas = append(gr.Schemas, s)
	}
	slices.SortFunc(out, func(a, b *AsideGroup) int { return strings.Compare(b.Stamp, a.Stamp) })
	return out, nil
}

// loadAside reads the named aside schemas: what each holds now and the
// definitions it saved. A schema that is gone is left out.
func loadAside(ctx context.Context, srv asideServer, names []string) (*AsideGroup, error) {
	g := &AsideGroup{}
	if len(names) == 0 {
		return g, nil
	}
	list := mariadb.SQLList(names)
	rows, err := srv.Query(ctx, "SELECT s.schema_name, COUNT(t.table_name), IFNULL(SUM(t.data_length+t.index_length),0), IFNULL(MAX(t.table_name = "+mariadb.QuoteString(asideMetaTable)+"),0) "+
		"FROM information_schema.schemata s LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name "+
		"WHERE s.schema_name IN ("+list+") GROUP BY s.schema_name ORDER BY s.schema_name")
	if err != nil {
		return nil, err
	}
	var withMeta []string
	for _, r := range rows {
		if len(r) != 4 {
			continue
		}
		n, _ := strconv.Atoi(r[1])
		bytes, _ := strconv.ParseInt(r[2], 10, 64)
		s := AsideSchema{Schema: r[0], Held: n, Bytes: bytes}
		if m := asideNameRE.FindStringSubmatch(r[0]); m != nil {
			s.Stamp = m[1]
		}
		if r[3] == "1" {
			s.Held--
			withMeta = append(withMeta, r[0])
		}
		g.Schemas = append(g.Schemas, s)
	}
	if len(withMeta) > 0 {
		var parts []string
		for _, n := range withMeta {
			parts = append(parts, fmt.Sprintf("SELECT %s, seq, HEX(body) FROM %s.%s", mariadb.QuoteString(n), mariadb.QuoteIdent(n), asideMetaTable))
		}
		rows, err := srv.Query(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY 1, 2")
		if err != nil {
			return nil, fmt.Errorf("reading what the aside schemas hold: %w", err)
		}
		for _, r := range rows {
			if len(r) != 3 {
				continue
			}
			i := slices.IndexFunc(g.Schemas, func(s AsideSchema) bool { return s.Schema == r[0] })
			body, err := hex.DecodeString(r[2])
			if i < 0 || err != nil {
				continue
			}
			s := &g.Schemas[i]
			if r[1] == "0" {
				var m asideMeta
				if json.Unmarshal(body, &m) == nil && m.Origin != "" {
					s.Origin, s.Stamp, s.Backup, s.Existed, s.Tables, s.Complete = m.Origin, m.Stamp, m.Backup, m.Existed, m.Tables, true
				}
				continue
			}
			var o savedObject
			if err := json.Unmarshal(body, &o); err != nil {
				return nil, fmt.Errorf("aside schema %s: a saved definition is damaged: %w", r[0], err)
			}
			s.objects = append(s.objects, o)
		}
	}
	if len(g.Schemas) > 0 {
		g.Stamp, g.Backup = g.Schemas[0].Stamp, g.Schemas[0].Backup
	}
	return g, nil
}

// dropAside drops aside schemas, and with them the tables they hold.
func dropAside(ctx context.Context, srv asideServer, names []string) error {
	if len(names) == 0 {
		return nil
	}
	var b strings.Builder
	for _, n := range names {
		if !strings.HasPrefix(n, asidePrefix) {
			return fmt.Errorf("%s is not an aside schema", n)
		}
		fmt.Fprintf(&b, "DROP DATABASE IF EXISTS %s;\n", mariadb.QuoteIdent(n))
	}
	if _, err := srv.Script(ctx, strings.NewReader(b.String())); err != nil {
		return fmt.Errorf("dropping aside schemas: %w", err)
	}
	return nil
}

// pruneAside keeps the keep newest groups of restores of databases (the
// configuration's, as --undo sees them) and every schema in protect, and
// drops the others of those groups. Another configuration's restores on
// the same server are not counted nor dropped: their aside schemas are
// that configuration's only way back.
func pruneAside(ctx context.Context, srv asideServer, keep int, protect, databases []string) (dropped []string, err error) {
	groups, err := listAside(ctx, srv)
	if err != nil {
		return nil, err
	}
	for i, g := range groupsOfDatabases(groups, databases) {
		if i < max(keep, 1) {
			continue
		}
		for _, n := range g.Names() {
			if !slices.Contains(protect, n) {
				dropped = append(dropped, n)
			}
		}
	}
	return dropped, dropAside(ctx, srv, dropped)
}
