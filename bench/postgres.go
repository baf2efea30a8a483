package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// benchPGDumpOptions are dr's own pg_dump options (postgres.DumpOptions),
// so the floor dumps what dr dumps.
const benchPGDumpOptions = "--create --quote-all-identifiers"

// benchPGSettings are Appwrite 1.9's PostgreSQL settings (its compose
// file turns the three crash-safety writes off) with a buffer pool the
// size of the MariaDB bench's.
var benchPGSettings = []string{"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=512MB", "-c", "max_wal_size=4GB"}

func startBenchPostgres(ctx context.Context, image string) (*benchDatabase, error) {
	db := &benchDatabase{name: fmt.Sprintf("drbench-%d", os.Getpid()), project: fmt.Sprintf("drbench%d", os.Getpid()), postgres: true}
	// --shm-size: VACUUM's parallel workers share maintenance_work_mem
	// through /dev/shm, whose 64 MiB default is too small for it.
	args := append([]string{"run", "-d", "--name", db.name, "--network", "none", "--shm-size", "1g",
		"--label", "com.docker.compose.project=" + db.project,
		"--label", "com.docker.compose.service=postgresql",
		"-e", "POSTGRES_PASSWORD=" + benchPassword, "-e", "POSTGRES_DB=appwrite",
		image}, benchPGSettings...)
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("starting the benchmark database (is the image built? bash testdata/postgres-image/build.sh): %v: %s", err, out)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		// Over TCP: the entrypoint's first server listens on the socket only.
		if err := exec.CommandContext(ctx, "docker", "exec", db.name, "pg_isready", "-q", "-h", "127.0.0.1").Run(); err == nil {
			return db, nil
		}
		if time.Now().After(deadline) {
			db.remove()
			return nil, fmt.Errorf("the benchmark database did not accept connections within 90 s")
		}
		time.Sleep(time.Second)
	}
}

func (db *benchDatabase) psql(ctx context.Context, query string) error {
	c := exec.CommandContext(ctx, "docker", "exec", "-i", "-e", "PGUSER=postgres", db.name, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "appwrite")
	c.Stdin = strings.NewReader(query)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// generatePostgres fills the Appwrite-shaped collection table and its
// permissions with about size bytes of dump, server-side
// (generate_series), rows like the MariaDB bench's.
func (db *benchDatabase) generatePostgres(ctx context.Context, size int64) error {
	const rowBytes = 1000 // dump bytes per row, measured
	rows := max(size/rowBytes, 1000)
	const table = "_1_database_1_collection_1"
	schema := fmt.Sprintf(`CREATE TABLE %[1]q (
  "_id" bigserial PRIMARY KEY,
  "_uid" varchar(255) NOT NULL UNIQUE,
  "_createdAt" timestamp(3),
  "_updatedAt" timestamp(3),
  "_permissions" text,
  "title" varchar(255),
  "body" text,
  "meta" jsonb
);
CREATE TABLE %[2]q (
  "_id" bigserial PRIMARY KEY,
  "_type" varchar(12) NOT NULL,
  "_permission" varchar(255) NOT NULL,
  "_document" varchar(255) NOT NULL,
  UNIQUE ("_document", "_type", "_permission")
);`, table, table+"_perms")
	if err := db.psql(ctx, schema); err != nil {
		return fmt.Errorf("creating the benchmark schema: %w", err)
	}
	for from := int64(1); from <= rows; from += collectionBatch {
		to := min(from+collectionBatch-1, rows)
		q := fmt.Sprintf(`INSERT INTO %[1]q ("_uid", "_createdAt", "_updatedAt", "_permissions", "title", "body", "meta")
SELECT 'doc' || seq, now() - seq * interval '1 second', now(), '["read(\"any\")","update(\"user:1\")"]',
  'Title ' || seq || ' — ' || md5(seq::text), repeat(md5(seq::text) || ' ' || md5((seq * 3)::text) || ' ', 12),
  jsonb_build_object('n', seq, 'tag', md5((seq * 7)::text), 'ok', seq %% 2 = 0)
FROM generate_series(%[3]d, %[4]d) seq;
INSERT INTO %[2]q ("_type", "_permission", "_document")
SELECT 'read', 'any', 'doc' || seq FROM generate_series(%[3]d, %[4]d) seq WHERE seq %% 10 = 0;`, table, table+"_perms", from, to)
		if err := db.psql(ctx, q); err != nil {
			return fmt.Errorf("filling the benchmark table: %w", err)
		}
	}
	return db.psql(ctx, "VACUUM ANALYZE")
}

// writeBenchPostgresCompose makes the stack's compose file start the
// benchmark database as startBenchPostgres does, for the server-lost
// runbook.
func writeBenchPostgresCompose(dir, image string) error {
	var cmd []string
	for _, a := range benchPGSettings {
		cmd = append(cmd, fmt.Sprintf("%q", a))
	}
	compose := fmt.Sprintf(`version: "2.4"
services:
  postgresql:
    image: %s
    network_mode: none
    shm_size: 1g
    command: [%s]
    environment:
      - POSTGRES_PASSWORD=${_APP_DB_PASS}
      - POSTGRES_DB=appwrite
`, image, strings.Join(cmd, ", "))
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".env"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("_APP_DB_PASS=" + benchPassword + "\n")
	return err
}
