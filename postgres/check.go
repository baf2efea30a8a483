package postgres

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Version is the server's version string (SELECT version()).
func (s *Server) Version(ctx context.Context) (string, error) {
	rows, err := s.Query(ctx, "postgres", "SELECT version()")
	if err != nil {
		return "", err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("reading the server version: unexpected answer")
	}
	return rows[0][0], nil
}

// ExtensionAvailable says whether the server's installation carries
// extension name (its control file), whether or not a database created it.
func (s *Server) ExtensionAvailable(ctx context.Context, name string) (bool, error) {
	rows, err := s.Query(ctx, "postgres", "SELECT 1 FROM pg_available_extensions WHERE name = "+QuoteString(name))
	if err != nil {
		return false, fmt.Errorf("looking for extension %s: %w", name, err)
	}
	return len(rows) > 0, nil
}

// CheckIndexes creates amcheck in database db (when it lacks it) and runs
// bt_index_check on every valid btree index of its own schemas (a
// partitioned table's index is its partitions' indexes, checked there), and
// returns how many it checked. amcheck raises an error at the first
// index whose structure is inconsistent; that error is returned, naming
// the index. It writes (CREATE EXTENSION): meant for a drill's throwaway
// server, never a stack's.
func (s *Server) CheckIndexes(ctx context.Context, db string) (int, error) {
	if err := s.Exec(ctx, db, "CREATE EXTENSION IF NOT EXISTS amcheck;\n"); err != nil {
		return 0, fmt.Errorf("creating extension amcheck in %s: %w", db, err)
	}
	// The count is taken over the calls, so every index is checked; an
	// unlogged table's index is empty after a restart but checks fine.
	rows, err := s.Query(ctx, db, `SELECT count(bt_index_check(c.oid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't' AND `+userSchemas)
	if err != nil {
		return 0, fmt.Errorf("checking the indexes of %s with amcheck: %w", db, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("checking the indexes of %s with amcheck: unexpected answer", db)
	}
	n, err := atoi64(rows[0][0])
	if err != nil {
		return 0, fmt.Errorf("checking the indexes of %s with amcheck: reading %q: %w", db, rows[0][0], err)
	}
	return int(n), nil
}

// ReadTables reads every row of database db's tables (schema.name) whole,
// each value turned to text, so that every heap page and every TOASTed
// value is read and decompressed: what can be checked without amcheck.
// The first table that cannot be read fails it, named.
func (s *Server) ReadTables(ctx context.Context, db string, tables []string) error {
	for _, t := range tables {
		q := fmt.Sprintf("SELECT count(length(ROW(dr_row.*)::text)) FROM ONLY %s AS dr_row", QualifiedIdent(t))
		if _, err := s.Query(ctx, db, q); err != nil {
			return fmt.Errorf("reading every row of %s.%s: %w", db, t, err)
		}
	}
	return nil
}

// SelectViews selects from each of database db's views (schema.name), at
// most one row each, and returns those that fail with why: a view whose
// definition no longer plans or runs against the restored tables. A
// materialized view made WITH NO DATA is left out: it cannot be selected
// from on the stack's server either, and pg_dump keeps it unpopulated.
func (s *Server) SelectViews(ctx context.Context, db string, views []string) (bad map[string]string, unpopulated []string) {
	bad = map[string]string{}
	if len(views) == 0 {
		return bad, nil
	}
	rows, err := s.Query(ctx, db, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND NOT c.relispopulated`)
	if err != nil {
		for _, v := range views {
			bad[v] = err.Error()
		}
		return bad, nil
	}
	all := column(rows)
	views = slices.DeleteFunc(slices.Clone(views), func(v string) bool {
		if slices.Contains(all, v) {
			unpopulated = append(unpopulated, v)
			return true
		}
		return false
	})
	if len(views) == 0 {
		return bad, unpopulated
	}
	parts := make([]string, len(views))
	for i, v := range views {
		parts[i] = viewProbe(v)
	}
	// All at once first: one exec when, as usual, every view works.
	if _, err := s.Query(ctx, db, strings.Join(parts, " UNION ALL ")); err == nil {
		return bad, unpopulated
	}
	for i, v := range views {
		if _, err := s.Query(ctx, db, parts[i]); err != nil {
			bad[v] = err.Error()
		}
	}
	return bad, unpopulated
}

func viewProbe(v string) string {
	return fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1) AS dr_probe", QualifiedIdent(v))
}

// checksumModulus folds a sum of signed 64-bit hashes into a uint64.
var checksumModulus = new(big.Int).Lsh(big.NewInt(1), 64)

// Checksums sums, for each of database db's tables (schema.name), a
// 64-bit hash of each row's text (hashtextextended, PostgreSQL 11 and
// later), modulo 2^64, keyed "db.schema.name". A sum does not depend on
// the rows' order, so the same rows give the same sum on any server of
// the same version (a value's text form can differ across versions, as
// a float's did in 12). Every row is read. A table that does not exist
// is missing from the answer.
func (s *Server) Checksums(ctx context.Context, db string, tables []string) (map[string]uint64, error) {
	sums := make(map[string]uint64, len(tables))
	if len(tables) == 0 {
		return sums, nil
	}
	have, err := s.tableSet(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if !have[t] {
			continue
		}
		q := fmt.Sprintf("SELECT coalesce(sum(hashtextextended(ROW(dr_row.*)::text, 0)::numeric), 0)::text FROM ONLY %s AS dr_row", QualifiedIdent(t))
		rows, err := s.Query(ctx, db, q)
		if err != nil {
			return nil, fmt.Errorf("checksumming %s.%s: %w", db, t, err)
		}
		if len(rows) != 1 || len(rows[0]) != 1 {
			return nil, fmt.Errorf("checksumming %s.%s: unexpected answer", db, t)
		}
		sum, err := foldChecksum(rows[0][0])
		if err != nil {
			return nil, fmt.Errorf("checksumming %s.%s: %w", db, t, err)
		}
		sums[db+"."+t] = sum
	}
	return sums, nil
}

// foldChecksum reads a numeric sum and folds it into [0, 2^64).
func foldChecksum(s string) (uint64, error) {
	n, ok := new(big.Int).SetString(strings.TrimSpace(s), 10)
	if !ok {
		return 0, fmt.Errorf("reading the sum %q", s)
	}
	return n.Mod(n, checksumModulus).Uint64(), nil
}
