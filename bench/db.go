package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/config"
)

// benchDatabase is a throwaway MariaDB or PostgreSQL container labelled
// as a compose service, so that dr finds it as it finds a real stack's
// database.
type benchDatabase struct {
	name    string
	project string
	// postgres: the container runs PostgreSQL (--engine postgresql).
	postgres bool
}

// service is the compose service the container stands for, Appwrite's
// name for its engine.
func (db *benchDatabase) service() string {
	if db.postgres {
		return "postgresql"
	}
	return "mariadb"
}

// dumpTool names the floor's dump client.
func (db *benchDatabase) dumpTool() string {
	if db.postgres {
		return "pg_dump"
	}
	return "mariadb-dump"
}

// dumpCmd is the shell command of the floor: the same dump dr makes,
// through docker exec, to standard output.
func (db *benchDatabase) dumpCmd() string {
	if db.postgres {
		return fmt.Sprintf("docker exec -e PGUSER=postgres %s pg_dump %s appwrite", db.name, benchPGDumpOptions)
	}
	return fmt.Sprintf("docker exec -e MYSQL_PWD=%s %s mariadb-dump -uroot %s", benchPassword, db.name, benchDumpOptions)
}

// importCmd is the shell command of the plain import of a zstd dump
// file; on PostgreSQL the database is dropped first, as the dump creates
// it.
func (db *benchDatabase) importCmd(dumpFile string) string {
	if db.postgres {
		return fmt.Sprintf("docker exec -e PGUSER=postgres %s psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS appwrite WITH (FORCE)' && zstd -dc %s | docker exec -i -e PGUSER=postgres %s psql -X -q -v ON_ERROR_STOP=1 -d postgres", db.name, dumpFile, db.name)
	}
	return fmt.Sprintf("zstd -dc %s | docker exec -i -e MYSQL_PWD=%s %s mariadb -uroot", dumpFile, benchPassword, db.name)
}

func startBenchDatabase(ctx context.Context, image string, postgres bool) (*benchDatabase, error) {
	if postgres {
		return startBenchPostgres(ctx, image)
	}
	db := &benchDatabase{name: fmt.Sprintf("drbench-%d", os.Getpid()), project: fmt.Sprintf("drbench%d", os.Getpid())}
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--name", db.name, "--network", "none",
		"--label", "com.docker.compose.project="+db.project,
		"--label", "com.docker.compose.service=mariadb",
		"-e", "MARIADB_ROOT_PASSWORD="+benchPassword, "-e", "MYSQL_DATABASE=appwrite",
		image, "--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=0", "--innodb-log-file-size=256M").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("starting the benchmark database (is the image built? make setup): %v: %s", err, out)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := db.sql(ctx, "SELECT 1"); err == nil {
			return db, nil
		}
		if time.Now().After(deadline) {
			db.remove()
			return nil, fmt.Errorf("the benchmark database did not accept connections within 90 s")
		}
		time.Sleep(time.Second)
	}
}

func (db *benchDatabase) sql(ctx context.Context, query string) error {
	if db.postgres {
		return db.psql(ctx, query)
	}
	out, err := exec.CommandContext(ctx, "docker", "exec", "-e", "MYSQL_PWD="+benchPassword, db.name,
		"mariadb", "-uroot", "appwrite", "-e", query).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// generate fills an Appwrite-shaped collection table of about size bytes
// of dump, using the Sequence engine so that a GiB takes seconds, not
// minutes of client round trips.
func (db *benchDatabase) generate(ctx context.Context, size int64) error {
	if db.postgres {
		return db.generatePostgres(ctx, size)
	}
	const rowBytes = 1050 // dump bytes per row, measured
	rows := size / rowBytes
	if rows < 1000 {
		rows = 1000
	}
	const table = "_1_database_1_collection_1"
	if err := db.sql(ctx, collectionSchema(table, "")); err != nil {
		return fmt.Errorf("creating the benchmark schema: %w", err)
	}
	for from := int64(1); from <= rows; from += collectionBatch {
		if err := db.sql(ctx, collectionRows(table, from, min(from+collectionBatch-1, rows))); err != nil {
			return fmt.Errorf("filling the benchmark table: %w", err)
		}
	}
	return nil
}

// collectionBatch is the most rows one INSERT … SELECT of collectionRows
// makes.
const collectionBatch = 200000

// collectionSchema creates an Appwrite-shaped collection table t and its
// permissions table; extraKeys follow t's keys (",\n  KEY …").
func collectionSchema(t, extraKeys string) string {
	return fmt.Sprintf(`CREATE TABLE %s (
  _id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  _uid VARCHAR(255) NOT NULL,
  _createdAt DATETIME(3) NULL,
  _updatedAt DATETIME(3) NULL,
  _permissions MEDIUMTEXT NULL,
  title VARCHAR(255) NULL,
  body TEXT NULL,
  meta JSON NULL,
  UNIQUE KEY _uid (_uid)%s
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE %s_perms (
  _id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  _type VARCHAR(12) NOT NULL,
  _permission VARCHAR(255) NOT NULL,
  _document VARCHAR(255) NOT NULL,
  UNIQUE KEY _index1 (_document, _type, _permission)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`, t, extraKeys, t)
}

// collectionRows fills rows from to to of collection t and its
// permissions, using the Sequence engine so that a GiB takes seconds.
func collectionRows(t string, from, to int64) string {
	return fmt.Sprintf(`INSERT INTO %s (_uid,_createdAt,_updatedAt,_permissions,title,body,meta)
SELECT CONCAT('doc', seq), NOW(3) - INTERVAL seq SECOND, NOW(3), '["read(\"any\")","update(\"user:1\")"]',
  CONCAT('Title ', seq, ' — ', MD5(seq)), REPEAT(CONCAT(MD5(seq), ' ', SHA1(seq), ' '), 12),
  JSON_OBJECT('n', seq, 'tag', MD5(seq * 7), 'ok', seq %% 2 = 0)
FROM seq_%d_to_%d;
INSERT INTO %s_perms (_type,_permission,_document)
SELECT 'read', 'any', CONCAT('doc', seq) FROM seq_%d_to_%d WHERE seq %% 10 = 0;
`, t, from, to, t, from, to)
}

func (db *benchDatabase) remove() {
	_ = exec.Command("docker", "rm", "-f", "-v", db.name).Run()
}

// writeBenchStack makes a stack directory like an Appwrite host's.
func writeBenchStack(dir string, postgres bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	compose := "services:\n  mariadb:\n    image: mariadb:10.11\n    network_mode: none\n"
	if postgres {
		compose = "services:\n  postgresql:\n    image: postgres:15\n    network_mode: none\n"
	}
	env := "_APP_ENV=production\n_APP_OPENSSL_KEY_V1=bench-not-a-secret\n_APP_DB_ROOT_PASS=" + benchPassword + "\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600)
}

func numCPU() int { return runtime.NumCPU() }

// benchEnv is what every benchmark starts from: the dr binary, a scratch
// directory, a generated database and a stack directory beside it.
type benchEnv struct {
	drBin    string
	work     string
	db       *benchDatabase
	stackDir string
}

// prepare makes a benchEnv; cleanup removes the database and the scratch
// directory.
func prepare(ctx context.Context, opts backupBenchOptions) (env *benchEnv, cleanup func(), err error) {
	var size config.Size
	if err := size.UnmarshalText([]byte(opts.size)); err != nil {
		return nil, nil, fmt.Errorf("--size: %w", err)
	}
	drBin, err := filepath.Abs(opts.dr)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(drBin); err != nil {
		return nil, nil, fmt.Errorf("dr binary %s: %w (run make build)", drBin, err)
	}
	work, err := os.MkdirTemp("", "dr-bench-")
	if err != nil {
		return nil, nil, err
	}
	db, err := startBenchDatabase(ctx, opts.image, opts.postgres)
	if err != nil {
		os.RemoveAll(work)
		return nil, nil, err
	}
	cleanup = func() { db.remove(); os.RemoveAll(work) }
	fmt.Fprintf(os.Stderr, "bench: generating an Appwrite-shaped database of about %s\n", opts.size)
	if err := db.generate(ctx, int64(size)); err != nil {
		cleanup()
		return nil, nil, err
	}
	env = &benchEnv{drBin: drBin, work: work, db: db, stackDir: filepath.Join(work, "stack")}
	if err := writeBenchStack(env.stackDir, opts.postgres); err != nil {
		cleanup()
		return nil, nil, err
	}
	return env, cleanup, nil
}

// drConfig is the dr.yaml of a benchmark run: the bench stack, one
// local-directory destination and a state directory of its own.
type drConfig struct {
	project, stackDir, dest, stateDir string
	service                           string   // stack.database.service; empty: mariadb
	volumes                           []string // stack.volumes; none: the database alone
	recipients                        []string // age recipients; none: unencrypted
	zstdLevel                         int      // archive.zstd_level; 0: dr's default
	extra                             string   // top-level YAML appended as is
}

// write writes the configuration to path.
func (c drConfig) write(path string) error {
	var b strings.Builder
	service := c.service
	if service == "" {
		service = "mariadb"
	}
	fmt.Fprintf(&b, "stack:\n  project: %s\n  dir: %s\n  database: {service: %s, databases: [appwrite]}\n  volumes: [%s]\n",
		c.project, c.stackDir, service, strings.Join(c.volumes, ", "))
	fmt.Fprintf(&b, "destinations:\n  - name: local\n    remote: %s\n", c.dest)
	if len(c.recipients) > 0 {
		b.WriteString("encryption:\n  recipients:\n")
		for _, r := range c.recipients {
			fmt.Fprintf(&b, "    - %s\n", r)
		}
	}
	if c.zstdLevel != 0 {
		fmt.Fprintf(&b, "archive:\n  zstd_level: %d\n", c.zstdLevel)
	}
	fmt.Fprintf(&b, "state_dir: %s\n%s", c.stateDir, c.extra)
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
