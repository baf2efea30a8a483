package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/archive/pgscan"
	"github.com/appwrite-dr/dr/postgres"
)

// On PostgreSQL the safety net is the database itself: each database the
// backup holds that the server has is renamed aside (ALTER DATABASE …
// RENAME, a change of the catalog, instantly), to
// dr_aside_<db>_<stamp>, with a comment saying where it came from; the
// dump's CREATE DATABASE then makes it anew. A database the server lacks
// gets an empty aside database whose comment says so, from which the undo
// knows to drop the one the restore created. Everything the undo needs is
// on the server, so it works without state_dir, as MariaDB's does.

// pgServer is a PostgreSQL server.
type pgServer struct{ srv *postgres.Server }

// pgAsideName is the database db goes aside into: within PostgreSQL's 63
// bytes, a long name cut and told apart by a hash.
func pgAsideName(db, stamp string) string {
	room := 63 - len(postgres.AsidePrefix) - 1 - len(stamp)
	if len(db) > room {
		sum := sha256.Sum256([]byte(db))
		db = db[:room-7] + "_" + hex.EncodeToString(sum[:3])
	}
	return postgres.AsidePrefix + db + "_" + stamp
}

func (p pgServer) inspectAside(ctx context.Context, dbs []string, dumpSize int64) (*asidePrep, error) {
	prep := &asidePrep{}
	if len(dbs) == 0 {
		prep.Problem = "the backup's manifest names no database"
		return prep, nil
	}
	for _, db := range dbs {
		// The list comes from the sidecar, which is outside input: never
		// move the server's own databases or other aside ones.
		if !postgres.IsStackDatabase(db) {
			prep.Problem = fmt.Sprintf("the backup names database %s, which dr does not move aside", db)
			return prep, nil
		}
	}
	sv, err := p.srv.SurveyAside(ctx, dbs)
	if err != nil {
		return nil, err
	}
	var current int64
	for _, db := range dbs {
		size, existed := sv.Sizes[db]
		d := asideDatabase{Name: db, Existed: existed, Bytes: size}
		for _, r := range sv.Relations[db] {
			if !r.View {
				d.Tables = append(d.Tables, r.Name)
			}
		}
		current += size
		prep.Databases = append(prep.Databases, d)
	}
	prep.Need = max(dumpSize, current) + max(dumpSize, current)/10 + asideHeadroom
	prep.Free, prep.FreeErr = sv.Free, sv.FreeErr
	return prep, nil
}

func (p pgServer) moveAside(ctx context.Context, prep *asidePrep, stamp, backup string) (*AsideGroup, error) {
	g := &AsideGroup{Stamp: stamp, Backup: backup}
	// The lock keeps other runs out, but a database of that name could be
	// left from a run in the same second: never touch one this run did
	// not make.
	names := make([]string, len(prep.Databases))
	for i, d := range prep.Databases {
		names[i] = pgAsideName(d.Name, stamp)
	}
	taken, err := p.srv.ExistingDatabases(ctx, names)
	if err != nil {
		return nil, &asideMoveError{Err: err, Clean: true}
	}
	if len(taken) > 0 {
		return nil, &asideMoveError{Err: fmt.Errorf("aside database %s exists already", taken[0]), Clean: true}
	}
	for i, d := range prep.Databases {
		s := AsideSchema{Schema: names[i], Origin: d.Name, Stamp: stamp, Backup: backup, Existed: d.Existed,
			Tables: len(d.Tables), Held: len(d.Tables), Bytes: d.Bytes, Complete: true}
		meta := postgres.AsideMeta{Backup: backup, At: stamp}
		var err error
		if d.Existed {
			err = p.srv.MoveAside(ctx, d.Name, s.Schema, meta)
		} else {
			err = p.srv.MarkAbsent(ctx, d.Name, s.Schema, meta)
		}
		if err != nil {
			// What this one did is undone with the others: its rename
			// failed, so the database keeps its name (see rollbackAside).
			g.Schemas = append(g.Schemas, s)
			return g, &asideMoveError{Err: fmt.Errorf("moving the current databases aside: %w", err)}
		}
		g.Schemas = append(g.Schemas, s)
	}
	return g, nil
}

// rollbackAside undoes a move that failed part way, before the import:
// what was renamed is renamed back, markers are dropped, and a database
// whose rename failed gets its connections back.
func (p pgServer) rollbackAside(ctx context.Context, g *AsideGroup) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, s := range g.Schemas {
		exists, err := p.srv.DatabaseExists(ctx, s.Schema)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case exists && s.Existed:
			err = p.srv.PutBack(ctx, s.Schema, s.Origin)
		case exists:
			err = p.srv.DropDatabase(ctx, s.Schema)
		case s.Existed:
			// Not renamed: the move stopped before (or at) the rename.
			err = p.srv.ExecAutocommit(ctx, "postgres", fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\nCOMMENT ON DATABASE %s IS NULL;\n",
				postgres.QuoteIdent(s.Origin), postgres.QuoteIdent(s.Origin)))
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("putting back what was moved aside: %w; put it back with dr restore --undo", err)
	}
	return nil
}

func (p pgServer) loadAside(ctx context.Context, names []string) (*AsideGroup, error) {
	if len(names) == 0 {
		return &AsideGroup{}, nil
	}
	all, err := p.srv.AsideDatabases(ctx)
	if err != nil {
		return nil, err
	}
	return p.asideGroup(ctx, all, names, true)
}

// asideGroup is the group of the aside databases of names among all;
// counted, it says how many tables each holds, an exec a database.
func (p pgServer) asideGroup(ctx context.Context, all []postgres.AsideDatabase, names []string, counted bool) (*AsideGroup, error) {
	g := &AsideGroup{}
	for _, a := range all {
		if !slices.Contains(names, a.Name) {
			continue
		}
		s := AsideSchema{Schema: a.Name, Bytes: a.Bytes}
		if m := asideNameRE.FindStringSubmatch(a.Name); m != nil {
			s.Stamp = m[1]
		}
		if a.Meta.Origin != "" {
			s.Origin, s.Backup, s.Existed, s.Complete = a.Meta.Origin, a.Meta.Backup, !a.Meta.Absent, true
			if a.Meta.At != "" {
				s.Stamp = a.Meta.At
			}
		}
		if counted && (s.Existed || !s.Complete) {
			n, err := p.srv.TableCount(ctx, a.Name)
			if err != nil {
				// A run killed between the rename and letting
				// connections in again left the database closed: it is
				// ours, and must be readable to be counted or put back.
				if oerr := p.srv.ExecAutocommit(ctx, "postgres", fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", postgres.QuoteIdent(a.Name))); oerr != nil {
					return nil, fmt.Errorf("reading aside database %s: %w", a.Name, errors.Join(err, oerr))
				}
				if n, err = p.srv.TableCount(ctx, a.Name); err != nil {
					return nil, err
				}
			}
			s.Held = n
			if s.Complete {
				s.Tables = n
			}
		}
		g.Schemas = append(g.Schemas, s)
	}
	if len(g.Schemas) > 0 {
		g.Stamp, g.Backup = g.Schemas[0].Stamp, g.Schemas[0].Backup
	}
	return g, nil
}

func (p pgServer) listAside(ctx context.Context, counted bool) ([]*AsideGroup, error) {
	all, err := p.srv.AsideDatabases(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range all {
		if asideNameRE.MatchString(a.Name) {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	g, err := p.asideGroup(ctx, all, names, counted)
	if err != nil {
		return nil, err
	}
	return groupByStamp(g), nil
}

// putBack makes the databases as they were before g was moved aside. Each
// step can run again after a kill: PutBack drops the database of the
// name (the import) only while the aside one is there to take its place.
// With replace false (a move that failed before the import) a database of
// the origin's name is never dropped: it is refused.
func (p pgServer) putBack(ctx context.Context, g *AsideGroup, replace bool) error {
	for _, s := range g.Schemas {
		var err error
		switch {
		case !s.Complete:
			if s.Held > 0 {
				return fmt.Errorf("aside database %s holds %d tables but does not say where they came from; rename it back by hand (ALTER DATABASE … RENAME TO …) or drop it", s.Schema, s.Held)
			}
			err = p.srv.DropDatabase(ctx, s.Schema)
		case !s.Existed && replace:
			err = p.srv.DropAbsent(ctx, s.Schema, s.Origin)
		case !s.Existed:
			err = p.srv.DropDatabase(ctx, s.Schema)
		default:
			if !replace {
				exists, xerr := p.srv.DatabaseExists(ctx, s.Origin)
				if xerr != nil {
					return xerr
				}
				if exists {
					return fmt.Errorf("database %s exists next to its aside copy %s; dr does not drop it without an import to replace: compare the two and drop one by hand (dr aside drop %s drops the aside copy)", s.Origin, s.Schema, s.Schema)
				}
			}
			err = p.srv.PutBack(ctx, s.Schema, s.Origin)
		}
		if err != nil {
			return fmt.Errorf("putting back %s: %w", s.Origin, err)
		}
	}
	return nil
}

func (p pgServer) dropAside(ctx context.Context, names []string) error {
	for _, n := range names {
		if !strings.HasPrefix(n, postgres.AsidePrefix) {
			return fmt.Errorf("%s is not an aside database", n)
		}
	}
	if err := p.srv.DropDatabases(ctx, names...); err != nil {
		return fmt.Errorf("dropping aside databases: %w", err)
	}
	return nil
}

func (p pgServer) newImport(db *archive.Database) *DumpImport { return NewPostgresImport(p.srv, db) }

func (p pgServer) compareRows(ctx context.Context, db *archive.Database) ([]string, int, error) {
	return ComparePostgresRows(ctx, p.srv, db)
}

// safetyDump saves every database of the stack the server has, each
// dropped and made again when imported by hand.
func (p pgServer) safetyDump(ctx context.Context, log *slog.Logger, dir, base string) (string, error) {
	// Databases lists the ones that take connections: one a killed run
	// left closed is opened first, or the dump would leave it out.
	closed, err := p.srv.Query(ctx, "postgres", "SELECT datname FROM pg_database WHERE NOT datallowconn AND NOT datistemplate")
	if err != nil {
		return "", fmt.Errorf("inspecting the database: %w", err)
	}
	var names []string
	for _, r := range closed {
		if postgres.IsStackDatabase(r[0]) {
			names = append(names, r[0])
		}
	}
	if _, err := p.srv.ReopenInterrupted(ctx, names); err != nil {
		return "", err
	}
	dbs, err := p.srv.Databases(ctx)
	if err != nil {
		return "", fmt.Errorf("inspecting the database: %w", err)
	}
	if len(dbs) == 0 {
		log.Info("the server holds no database of the stack; there is nothing to save")
		return "", nil
	}
	return writeSafetyDump(dir, base, postgres.DumpTrailer, func(w io.Writer) error {
		return p.srv.SafetyDump(ctx, dbs, w)
	})
}

func (pgServer) byHandImport(container string) string { return postgres.ByHandImport(container) }

func (pgServer) asideWhat() string { return "databases" }

func (pgServer) asideName(db, stamp string) string { return pgAsideName(db, stamp) }

// NewPostgresImport prepares the import of db's dump into a PostgreSQL
// server. Before the first statement it drops the backup's databases the
// server still has (the dump's CREATE DATABASE would fail on them; by
// then the restore's safety net holds them, or the operator chose none)
// and creates the roles the manifest names that the server lacks, so that
// the dump's OWNER TO and GRANT statements find them on a fresh server.
// The dump goes through one psql: restore.import_connections is for
// MariaDB's dumps.
func NewPostgresImport(srv *postgres.Server, db *archive.Database) *DumpImport {
	d := &DumpImport{}
	var dbs, roles []string
	if db != nil {
		d.chunks = db.Chunks
		dbs, roles = db.Databases, db.Users
	}
	d.run = func(ctx context.Context, r io.Reader) error {
		for _, name := range dbs {
			if !postgres.IsStackDatabase(name) {
				return fmt.Errorf("the backup names database %s, which dr does not replace", name)
			}
		}
		stored, err := importWhole(ctx, io.MultiReader(strings.NewReader(postgres.ImportPrelude(dbs, roles)), r), srv.Import)
		d.stored = stored
		return err
	}
	return d
}

// ErrDumpCutShort is an import of a PostgreSQL dump that psql took whole
// but that does not end with every database's completion trailer.
var ErrDumpCutShort = errors.New(`the dump does not end with "-- PostgreSQL database dump complete" after each database, so it was cut short`)

// importWhole imports the dump read from r through imp and fails when
// the dump lacks a completion trailer: psql ends a COPY at the end of its
// input, so a cut dump would otherwise import as a success. It returns the
// rows the server stored in each table (keyed database.schema.table, as
// the manifest's counts are), from psql's COPY tags, when they pair one
// to one with the dump's COPY statements (a table without one holds
// none); nil when they do not, and the row check then counts the tables.
func importWhole(ctx context.Context, r io.Reader, imp func(context.Context, io.Reader) ([]int64, error)) (map[string]int64, error) {
	sc := pgscan.New()
	copied, err := imp(ctx, io.TeeReader(r, sc))
	if err != nil {
		return nil, err
	}
	if !sc.Result().Completed {
		return nil, fmt.Errorf("importing the dump: %w; the backup cannot bring the whole database back: use an older backup, and check how this one was made", ErrDumpCutShort)
	}
	keys := sc.Copies()
	if len(keys) != len(copied) {
		return nil, nil
	}
	// The dump created every table it holds (psql stops at the first
	// failed statement); one without a COPY holds no row.
	stored := make(map[string]int64, len(keys))
	for _, t := range sc.Result().Tables {
		if !t.View {
			stored[t.Database+"."+t.Name] = 0
		}
	}
	for i, k := range keys {
		stored[k] += copied[i]
	}
	return stored, nil
}

// ComparePostgresRows is CompareRows on a PostgreSQL server: the tables
// of each database, keyed database.schema.table.
func ComparePostgresRows(ctx context.Context, srv *postgres.Server, db *archive.Database) (wrong []string, checked int, err error) {
	byDB := map[string][]string{}
	var order []string
	for _, t := range db.Tables {
		if t.View {
			continue
		}
		if _, ok := byDB[t.Database]; !ok {
			order = append(order, t.Database)
		}
		byDB[t.Database] = append(byDB[t.Database], t.Name)
		checked++
	}
	counts := map[string]int64{}
	have, err := srv.ExistingDatabases(ctx, order)
	if err != nil {
		return nil, 0, err
	}
	for _, name := range have {
		c, err := srv.RowCounts(ctx, name, byDB[name])
		if err != nil {
			return nil, 0, err
		}
		for k, n := range c {
			counts[name+"."+k] = n
		}
	}
	wrong = archive.WrongRows(db.Tables, counts)
	return wrong, checked, nil
}
