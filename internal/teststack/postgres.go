package teststack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PostgresImage is the test PostgreSQL image's reference, built by
// testdata/postgres-image/build.sh when missing: dr-test/postgres:<major>,
// the PostgreSQL of the machine's Debian release, with the official
// postgres image's environment contract. DR_TEST_PG_IMAGE names another
// one. It skips (or fails, see Skip) without an engine.
func PostgresImage(t testing.TB) string {
	t.Helper()
	Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), imageTimeout)
	defer cancel()
	img, err := ensurePostgresImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ensurePostgresImage runs the build script, which does nothing but name
// the image when it is present, under the same lock as the MariaDB
// image's build: two bootstraps at once would only slow each other.
func ensurePostgresImage(ctx context.Context) (string, error) {
	if img := os.Getenv("DR_TEST_PG_IMAGE"); img != "" {
		if exec.CommandContext(ctx, "docker", "image", "inspect", img).Run() == nil {
			return img, nil
		}
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "dr-test-image.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("opening the image build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("taking the image build lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(Root(), "testdata", "postgres-image", "build.sh"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building the test PostgreSQL image (bash testdata/postgres-image/build.sh): %v\n%s", err, stderr.String())
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return "", fmt.Errorf("testdata/postgres-image/build.sh printed no image tag\n%s", stderr.String())
	}
	return lines[len(lines)-1], nil
}

// PSQL runs SQL on database db inside the stack's PostgreSQL container,
// as the stack's user over the container's socket, and returns the rows
// unaligned (rows by line, fields by tab, no header).
func (s *Stack) PSQL(t testing.TB, db, query string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := s.run(ctx, s.ContainerID(t, PGService), []string{"sh", "-c",
		`exec psql -X -q -v ON_ERROR_STOP=1 -A -t -F "$(printf '\t')" -U "$POSTGRES_USER" -d "$1"`, "psql", db}, strings.NewReader(query))
	if err != nil {
		t.Fatalf("running SQL %q on %s: %v", shorten(query), db, err)
	}
	return strings.TrimRight(out, "\n")
}

// PGTables lists database db's plain tables as schema.name, sorted.
func (s *Stack) PGTables(t testing.TB, db string) []string {
	t.Helper()
	out := s.PSQL(t, db, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast' ORDER BY 1`)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// PGRows counts the rows of every plain table of database db, keyed
// "db.schema.table" as SeedPostgresRows is.
func (s *Stack) PGRows(t testing.TB, db string) map[string]int {
	t.Helper()
	tables := s.PGTables(t, db)
	counts := make(map[string]int, len(tables))
	if len(tables) == 0 {
		return counts
	}
	parts := make([]string, len(tables))
	for i, tbl := range tables {
		schema, name, _ := strings.Cut(tbl, ".")
		parts[i] = fmt.Sprintf("SELECT '%s', count(*) FROM ONLY \"%s\".\"%s\"", strings.ReplaceAll(db+"."+tbl, "'", "''"), strings.ReplaceAll(schema, `"`, `""`), strings.ReplaceAll(name, `"`, `""`))
	}
	for _, line := range strings.Split(s.PSQL(t, db, strings.Join(parts, " UNION ALL ")), "\n") {
		name, n, _ := strings.Cut(line, "\t")
		count, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("reading row count %q: %v", line, err)
		}
		counts[name] = count
	}
	return counts
}

// PGChecksums is an md5 of every plain table's rows in a fixed order,
// keyed by schema.name: equal maps mean equal contents.
func (s *Stack) PGChecksums(t testing.TB, db string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, tbl := range s.PGTables(t, db) {
		schema, name, _ := strings.Cut(tbl, ".")
		q := fmt.Sprintf(`SELECT md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM ONLY "%s"."%s" x`, schema, name)
		sums[tbl] = s.PSQL(t, db, q)
	}
	return sums
}

// PGObjects lists database db's views, functions, procedures and
// triggers as "kind:schema.name", sorted.
func (s *Stack) PGObjects(t testing.TB, db string) []string {
	t.Helper()
	out := s.PSQL(t, db, `SELECT 'view:' || schemaname || '.' || viewname FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
UNION SELECT CASE p.prokind WHEN 'p' THEN 'procedure:' ELSE 'function:' END || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION SELECT 'trigger:' || n.nspname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal
ORDER BY 1`)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}
