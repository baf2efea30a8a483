package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
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

// asideHeadroom is added to the space an import needs: InnoDB's own files
// grow in steps, and a server with its disk full stops everything.
const asideHeadroom = 64 << 20

// asideServer is what moving a database aside needs of the server: the
// SQL is the driver's, the decisions are the restore's.
type asideServer interface {
	ExistingDatabases(ctx context.Context, names []string) ([]string, error)
	SurveyAside(ctx context.Context, dbs []string) (*mariadb.AsideSurvey, error)
	Definitions(ctx context.Context, refs []mariadb.ObjectRef) ([]mariadb.Definition, error)
	AsideSchemaNames(ctx context.Context) ([]string, error)
	ReadAside(ctx context.Context, names []string) ([]mariadb.AsideContent, error)
	HeldTables(ctx context.Context, schema string) ([]string, error)
	RunBatch(ctx context.Context, b *mariadb.Batch) error
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
	objects  []mariadb.Definition
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
	Objects []mariadb.Definition
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
	sv, err := srv.SurveyAside(ctx, dbs)
	if err != nil {
		return nil, err
	}
	existing := map[string]bool{}
	for _, n := range sv.Existing {
		existing[n] = true
	}
	byName := map[string]*asideDatabase{}
	for _, db := range dbs {
		p.Databases = append(p.Databases, asideDatabase{Name: db, Existed: existing[db]})
	}
	for i := range p.Databases {
		byName[p.Databases[i].Name] = &p.Databases[i]
	}
	var current int64
	// What a rename does not carry: the databases' own definitions, their
	// views, triggers, routines and events.
	var refs []mariadb.ObjectRef
	for _, db := range dbs {
		if existing[db] {
			refs = append(refs, mariadb.ObjectRef{Database: db, Kind: "database", Name: db})
		}
	}
	for _, t := range sv.Tables {
		d := byName[t.Database]
		if d == nil {
			continue
		}
		if t.View {
			refs = append(refs, mariadb.ObjectRef{Database: t.Database, Kind: "view", Name: t.Name})
			continue
		}
		if t.Name == mariadb.AsideMetaTable {
			p.Problem = fmt.Sprintf("database %s has a table named %s, the name dr's aside schemas use for what they hold", t.Database, mariadb.AsideMetaTable)
		}
		d.Tables = append(d.Tables, t.Name)
		d.Bytes += t.Bytes
		current += t.Bytes
	}
	for _, o := range sv.Objects {
		if byName[o.Database] != nil {
			refs = append(refs, o)
		}
	}
	if defs, err := srv.Definitions(ctx, refs); err != nil {
		p.Problem = err.Error()
	} else {
		for i, d := range defs {
			byName[refs[i].Database].Objects = append(byName[refs[i].Database].Objects, d)
		}
	}
	p.Need = max(dumpSize, current) + max(dumpSize, current)/10 + asideHeadroom
	p.Free, p.FreeErr = sv.Free, sv.FreeErr
	return p, nil
}

// moveAside moves the databases' tables aside into schemas named for the
// stamp. It first writes every definition into the new schemas (the meta
// row last, so a schema with it is complete), then drops the triggers and
// renames every table in one RENAME TABLE, which the server does whole or
// not at all. On failure it puts back what it changed and says so.
func moveAside(ctx context.Context, srv asideServer, prep *asidePrep, stamp, backup string) (*AsideGroup, error) {
	g := &AsideGroup{Stamp: stamp, Backup: backup}
	var create mariadb.Batch
	for _, d := range prep.Databases {
		s := AsideSchema{Schema: asideName(d.Name, stamp), Origin: d.Name, Stamp: stamp, Backup: backup, Existed: d.Existed,
			Tables: len(d.Tables), Held: len(d.Tables), Bytes: d.Bytes, Complete: true, objects: d.Objects}
		g.Schemas = append(g.Schemas, s)
		create.CreateAside(s.Schema, mariadb.AsideMeta{Origin: d.Name, Stamp: stamp, Backup: backup, Existed: d.Existed, Tables: len(d.Tables)}, d.Objects)
	}
	// The lock keeps other runs out, but a schema of that name could be
	// left from a run in the same second: never touch one this run did
	// not make.
	found, err := srv.ExistingDatabases(ctx, g.Names())
	if err != nil {
		return nil, &asideMoveError{Err: err, Clean: true}
	}
	if len(found) > 0 {
		return nil, &asideMoveError{Err: fmt.Errorf("aside schema %s exists already", found[0]), Clean: true}
	}
	if err := srv.RunBatch(ctx, &create); err != nil {
		return g, &asideMoveError{Err: fmt.Errorf("creating the aside schemas: %w", err)}
	}

	// Triggers cannot move between schemas: they are saved, dropped and
	// made again by the undo.
	var move mariadb.Batch
	var moves []mariadb.TableMove
	for i, d := range prep.Databases {
		for _, o := range d.Objects {
			if o.Kind == "trigger" {
				move.DropTrigger(d.Name, o.Name)
			}
		}
		for _, t := range d.Tables {
			moves = append(moves, mariadb.TableMove{From: d.Name, To: g.Schemas[i].Schema, Table: t})
		}
	}
	move.RenameTables(moves)
	if move.Len() > 0 {
		if err := srv.RunBatch(ctx, &move); err != nil {
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
	var swap mariadb.Batch
	var moves []mariadb.TableMove
	for _, s := range g.Schemas {
		if !s.Complete {
			if s.Held > 0 {
				return fmt.Errorf("aside schema %s holds %d tables but does not say where they came from; move them back by hand (RENAME TABLE) and drop it", s.Schema, s.Held)
			}
			continue
		}
		switch {
		case !s.Existed:
			if replace {
				swap.DropDatabase(s.Origin)
			}
		case replace && (s.Held > 0 || s.Tables == 0):
			swap.DropDatabase(s.Origin)
			swap.CreateDatabase(s.Origin, s.databaseDefinition(), false)
		case s.Held > 0:
			swap.CreateDatabase(s.Origin, nil, true)
		}
		if !s.Existed {
			continue
		}
		tables, err := srv.HeldTables(ctx, s.Schema)
		if err != nil {
			return err
		}
		for _, t := range tables {
			moves = append(moves, mariadb.TableMove{From: s.Schema, To: s.Origin, Table: t})
		}
	}
	swap.RenameTables(moves)
	if swap.Len() > 0 {
		if err := srv.RunBatch(ctx, &swap); err != nil {
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
		var b mariadb.Batch
		for _, o := range s.objects {
			switch o.Kind {
			case "database":
			case "view":
				v := o
				origin := s.Origin
				views = append(views, func() error {
					var b mariadb.Batch
					b.Recreate(origin, v)
					return srv.RunBatch(ctx, &b)
				})
			default:
				b.Recreate(s.Origin, o)
			}
		}
		if b.Len() > 0 {
			if err := srv.RunBatch(ctx, &b); err != nil {
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
	var drop mariadb.Batch
	for _, s := range g.Schemas {
		drop.DropDatabase(s.Schema)
	}
	if err := srv.RunBatch(ctx, &drop); err != nil {
		return fmt.Errorf("dropping the aside schemas once emptied: %w", err)
	}
	return nil
}

// databaseDefinition is the database's own saved definition, nil when it
// had none.
func (s *AsideSchema) databaseDefinition() *mariadb.Definition {
	for i := range s.objects {
		if s.objects[i].Kind == "database" {
			return &s.objects[i]
		}
	}
	return nil
}

// listAside finds every aside schema on the server, grouped by restore,
// newest first.
func listAside(ctx context.Context, srv asideServer) ([]*AsideGroup, error) {
	all, err := srv.AsideSchemaNames(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range all {
		if asideNameRE.MatchString(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	g, err := loadAside(ctx, srv, names)
	if err != nil {
		return nil, err
	}
	return groupByStamp(g), nil
}

// groupByStamp splits what loadAside read into one group per restore,
// newest first.
func groupByStamp(g *AsideGroup) []*AsideGroup {
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
	return out
}

// loadAside reads the named aside schemas: what each holds now and the
// definitions it saved. A schema that is gone is left out.
func loadAside(ctx context.Context, srv asideServer, names []string) (*AsideGroup, error) {
	g := &AsideGroup{}
	if len(names) == 0 {
		return g, nil
	}
	contents, err := srv.ReadAside(ctx, names)
	if err != nil {
		return nil, err
	}
	for _, c := range contents {
		s := AsideSchema{Schema: c.Schema, Held: c.Tables, Bytes: c.Bytes, objects: c.Definitions}
		if m := asideNameRE.FindStringSubmatch(c.Schema); m != nil {
			s.Stamp = m[1]
		}
		if m := c.Meta; m != nil {
			s.Origin, s.Stamp, s.Backup, s.Existed, s.Tables, s.Complete = m.Origin, m.Stamp, m.Backup, m.Existed, m.Tables, true
		}
		g.Schemas = append(g.Schemas, s)
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
	var b mariadb.Batch
	for _, n := range names {
		if !strings.HasPrefix(n, asidePrefix) {
			return fmt.Errorf("%s is not an aside schema", n)
		}
		b.DropDatabase(n)
	}
	if err := srv.RunBatch(ctx, &b); err != nil {
		return fmt.Errorf("dropping aside schemas: %w", err)
	}
	return nil
}

// pruneAside keeps the keep newest groups of restores of databases (the
// configuration's, as --undo sees them) and every schema in protect, and
// drops the others of those groups. Another configuration's restores on
// the same server are not counted nor dropped: their aside schemas are
// that configuration's only way back.
func pruneAside(ctx context.Context, srv dbServer, keep int, protect, databases []string) (dropped []string, err error) {
	groups, err := srv.listAside(ctx, false)
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
	return dropped, srv.dropAside(ctx, dropped)
}
