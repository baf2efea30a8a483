package forensics

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/postgres"
)

// liveDatabase reads the running database server into a snapshot: what
// differs between the kinds of database a stack runs.
type liveDatabase interface {
	// read records the tables with exact row counts, the objects and
	// the users of the databases wanted (every database of the stack
	// when empty).
	read(ctx context.Context, s *Snapshot, wanted []string) error
	// checksums sums the live tables the backup's sums cover.
	checksums(ctx context.Context, s *Snapshot, backup map[string]uint64) error
}

// liveServer is the reader of the running database container c of the
// given kind; "" or auto: the kind its image tells.
func liveServer(eng Engine, c engine.Container, kind string) liveDatabase {
	if kind == "" || strings.EqualFold(kind, dbkind.Auto) {
		kind = dbkind.Detect(c.Image, nil, "")
	}
	if dbkind.IsPostgres(kind) {
		return postgresLive{srv: postgres.New(eng, c.ID)}
	}
	return mariadbLive{srv: mariadb.New(eng, c.ID)}
}

type mariadbLive struct{ srv *mariadb.Server }

func (m mariadbLive) read(ctx context.Context, s *Snapshot, wanted []string) error {
	return readDatabase(ctx, m.srv, s, wanted)
}

func (m mariadbLive) checksums(ctx context.Context, s *Snapshot, backup map[string]uint64) error {
	return readChecksums(ctx, m.srv, s, backup)
}

// postgresLive reads a PostgreSQL server: tables are "db.schema.name",
// objects "kind db.schema.name" and users the role names, as a
// PostgreSQL backup's manifest records them.
type postgresLive struct{ srv *postgres.Server }

// databases are the wanted databases the server has (a database gone
// live shows as its tables removed), or every database of the stack.
func (p postgresLive) databases(ctx context.Context, wanted []string) ([]string, error) {
	all, err := p.srv.Databases(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the live databases: %w", err)
	}
	if len(wanted) == 0 {
		return all, nil
	}
	var dbs []string
	for _, w := range wanted {
		if slices.Contains(all, w) {
			dbs = append(dbs, w)
		}
	}
	return dbs, nil
}

func (p postgresLive) read(ctx context.Context, s *Snapshot, wanted []string) error {
	dbs, err := p.databases(ctx, wanted)
	if err != nil {
		return err
	}
	s.Tables = map[string]Table{}
	for _, db := range dbs {
		rels, err := p.srv.Relations(ctx, db)
		if err != nil {
			return fmt.Errorf("listing the live tables: %w", err)
		}
		var tables []string
		for _, r := range rels {
			if !r.View {
				tables = append(tables, r.Name)
			}
		}
		counts, err := p.srv.RowCounts(ctx, db, tables)
		if err != nil {
			return fmt.Errorf("counting the live rows: %w", err)
		}
		for _, r := range rels {
			s.Tables[db+"."+r.Name] = Table{View: r.View, Rows: counts[r.Name]}
		}
		objs, err := p.srv.Objects(ctx, db)
		if err != nil {
			return fmt.Errorf("listing the live functions, procedures and triggers: %w", err)
		}
		for _, o := range objs {
			s.Objects = append(s.Objects, o.Kind+" "+db+"."+o.Name)
		}
	}
	// A role that cannot read pg_roles is hardly possible (every role
	// can); still, as for MariaDB, no roles means "not compared".
	if roles, err := p.srv.Roles(ctx); err == nil {
		s.Users = roles
	}
	return nil
}

// checksums sums, as a PostgreSQL drill does (postgres.Server.Checksums),
// the live tables the backup's sums cover; a table only live is reported
// as added anyway.
func (p postgresLive) checksums(ctx context.Context, s *Snapshot, backup map[string]uint64) error {
	byDB := map[string][]string{}
	for key, t := range s.Tables {
		if _, ok := backup[key]; !ok || t.View {
			continue
		}
		db, name, _ := strings.Cut(key, ".")
		byDB[db] = append(byDB[db], name)
	}
	s.Checksums = map[string]uint64{}
	for _, db := range slices.Sorted(maps.Keys(byDB)) {
		tables := byDB[db]
		slices.Sort(tables)
		sums, err := p.srv.Checksums(ctx, db, tables)
		if err != nil {
			return fmt.Errorf("checksumming the live tables: %w", err)
		}
		for k, v := range sums {
			s.Checksums[k] = v
		}
	}
	return nil
}
