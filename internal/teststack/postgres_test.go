package teststack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// pgContainer is one container of the test PostgreSQL image, reached only
// through docker exec: it runs with --network none.
type pgContainer struct {
	name string
}

// runPostgres starts the image with a volume of its own on the data
// directory and removes both when the test ends. env holds KEY=value pairs
// that reach the container through the docker client's environment
// (-e KEY), so no password is on a command line.
func runPostgres(t *testing.T, img string, env []string, args ...string) *pgContainer {
	t.Helper()
	name := projectName("pgimage")
	c := &pgContainer{name: name}
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", "-v", name).Run()
		_ = exec.Command("docker", "volume", "rm", "-f", name).Run()
	})
	run := []string{"run", "-d", "--name", name, "--network", "none",
		"-v", name + ":/var/lib/postgresql/data"}
	for _, kv := range env {
		key, _, _ := strings.Cut(kv, "=")
		run = append(run, "-e", key)
	}
	run = append(run, img)
	run = append(run, args...)
	cmd := exec.Command("docker", run...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker run %s: %v: %s", img, err, out)
	}
	return c
}

// exec runs a command in the container (as root unless the command says
// otherwise), stdin from in, and returns its stdout.
func (c *pgContainer) exec(in []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"exec", "-i", c.name}, args...)...)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("docker exec %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// psql runs SQL as user on db over the container's socket (trusted, as in
// the official image) and returns the unaligned, tuples-only output.
func (c *pgContainer) psql(t *testing.T, user, db, sql string) string {
	t.Helper()
	out, err := c.exec([]byte(sql), "psql", "-X", "-v", "ON_ERROR_STOP=1", "-qtA", "-U", user, "-d", db)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// waitReady waits until the final server answers on TCP inside the
// container: the entrypoint's first-start server listens on the socket
// only, so a TCP answer means initialization is over.
func (c *pgContainer) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		if _, last = c.exec(nil, "pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"); last == nil {
			return
		}
		state, _ := exec.Command("docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", c.name).Output()
		if st := strings.Fields(string(state)); len(st) == 2 && st[0] != "running" {
			t.Fatalf("container stopped (state %s, exit code %s) before it was ready:\n%s", st[0], st[1], c.logs())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("PostgreSQL not ready within %s: %v\n%s", startTimeout, last, c.logs())
}

func (c *pgContainer) logs() string {
	out, _ := exec.Command("docker", "logs", "--tail", "40", c.name).CombinedOutput()
	return string(out)
}

func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestPostgresImageHonoursTheOfficialContract runs the image the way
// Appwrite 1.9's compose file runs postgres (user, password and database
// from the environment, command: postgres -c fsync=off ...) and checks
// what dr will lean on: the client tools on PATH for docker exec, a dump
// that restores, data that survives a restart in the volume.
func TestPostgresImageHonoursTheOfficialContract(t *testing.T) {
	img := PostgresImage(t)
	password := randomSecret(t)
	c := runPostgres(t, img,
		[]string{"POSTGRES_USER=appwrite", "POSTGRES_PASSWORD=" + password, "POSTGRES_DB=appwrite"},
		"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	c.waitReady(t)

	for _, tool := range []string{"pg_dump", "pg_dumpall", "pg_restore", "psql", "pg_isready"} {
		if out, err := c.exec(nil, tool, "--version"); err != nil || !strings.Contains(string(out), "PostgreSQL") {
			t.Errorf("plain %s in docker exec: %v %q", tool, err, out)
		}
	}
	// The entrypoint execs the server: it is PID 1, run by postgres, and
	// gets docker stop's signal itself.
	if got, err := c.exec(nil, "sh", "-c", "stat -c %U /proc/1; cat /proc/1/comm"); err != nil || strings.Join(strings.Fields(string(got)), " ") != "postgres postgres" {
		t.Errorf("PID 1 (owner, command) = %q %v, want the postgres server run by the postgres user", got, err)
	}

	c.psql(t, "appwrite", "appwrite", `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;`)
	if got := c.psql(t, "appwrite", "appwrite", "SELECT count(*) FROM items"); got != "1000" {
		t.Fatalf("items has %s rows, want 1000", got)
	}
	if got := c.psql(t, "appwrite", "appwrite", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"); got != "t" {
		t.Errorf("POSTGRES_USER is superuser = %q, want t (as in the official image)", got)
	}
	for setting, want := range map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "listen_addresses": "*"} {
		if got := c.psql(t, "appwrite", "appwrite", "SHOW "+setting); got != want {
			t.Errorf("SHOW %s = %q, want %q", setting, got, want)
		}
	}
	// As in the official image, the socket and 127.0.0.1 are trusted
	// (initdb's defaults) and every other address is asked for the
	// password, which initdb stored as a SCRAM secret.
	if got := c.psql(t, "appwrite", "appwrite", "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'appwrite'"); got != "t" {
		t.Errorf("appwrite has a SCRAM password = %q, want t", got)
	}
	if got := c.psql(t, "appwrite", "appwrite", "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all'"); got != "scram-sha-256" {
		t.Errorf("pg_hba rule for every other address = %q, want scram-sha-256", got)
	}
	// The image has no JIT provider (build.sh drops LLVM): a query that
	// would be compiled runs without it, and no error.
	if got := c.psql(t, "appwrite", "appwrite", "SET jit_above_cost = 0; SELECT count(*) FROM items WHERE id > 0"); got != "1000" {
		t.Errorf("a query past jit_above_cost counted %q, want 1000", got)
	}
	// amcheck, for the drills' integrity check.
	c.psql(t, "appwrite", "appwrite", "CREATE EXTENSION IF NOT EXISTS amcheck; SELECT bt_index_check('items_pkey'::regclass, true);")

	dump, err := c.exec(nil, "pg_dump", "-Fc", "-U", "appwrite", "-d", "appwrite")
	if err != nil {
		t.Fatal(err)
	}
	if len(dump) == 0 || !bytes.HasPrefix(dump, []byte("PGDMP")) {
		t.Fatalf("pg_dump -Fc wrote %d bytes starting %q, want a custom-format archive", len(dump), dump[:min(len(dump), 5)])
	}
	t.Logf("pg_dump -Fc: %d bytes", len(dump))
	list, err := c.exec(dump, "pg_restore", "--list")
	if err != nil || !strings.Contains(string(list), "TABLE DATA public items") {
		t.Errorf("pg_restore --list of the dump: %v\n%s", err, list)
	}
	globals, err := c.exec(nil, "pg_dumpall", "--globals-only", "-U", "appwrite")
	if err != nil || !strings.Contains(string(globals), "CREATE ROLE appwrite") {
		t.Errorf("pg_dumpall --globals-only: %v\n%s", err, globals)
	}

	if out, err := exec.Command("docker", "restart", "-t", "30", c.name).CombinedOutput(); err != nil {
		t.Fatalf("docker restart: %v: %s", err, out)
	}
	c.waitReady(t)
	if got := c.psql(t, "appwrite", "appwrite", "SELECT count(*) FROM items"); got != "1000" {
		t.Errorf("after a restart items has %s rows, want 1000 kept in the volume", got)
	}
	if got := c.psql(t, "appwrite", "appwrite", "SHOW fsync"); got != "off" {
		t.Errorf("after a restart SHOW fsync = %q, want off", got)
	}
	if n := strings.Count(c.logs(), "initializing"); n != 1 {
		t.Errorf("the entrypoint initialized the data directory %d times, want once (not again on a restart)", n)
	}
	if logs := c.logs(); !strings.Contains(logs, "received fast shutdown request") {
		t.Errorf("docker restart did not ask for a fast shutdown (STOPSIGNAL SIGINT):\n%s", logs)
	}
	if logs := c.logs(); strings.Contains(logs, password) {
		t.Error("the password is in the container's log")
	}
}

// TestPostgresImageTakesBareServerArgs covers the other forms of the
// contract: arguments alone (command: ["-c", "fsync=off"]), POSTGRES_DB
// defaulting to the user, trust without a password, and a refusal when
// neither a password nor trust is given.
func TestPostgresImageTakesBareServerArgs(t *testing.T) {
	img := PostgresImage(t)
	c := runPostgres(t, img, []string{"POSTGRES_USER=app", "POSTGRES_HOST_AUTH_METHOD=trust"}, "-c", "fsync=off")
	c.waitReady(t)
	if got := c.psql(t, "app", "app", "SELECT current_database() || ' ' || current_setting('fsync')"); got != "app off" {
		t.Errorf("database and fsync = %q, want \"app off\"", got)
	}

	refused := runPostgres(t, img, []string{"POSTGRES_USER=app"})
	var state []string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		out, _ := exec.Command("docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", refused.name).Output()
		if state = strings.Fields(string(out)); len(state) == 2 && state[0] == "exited" {
			break
		}
	}
	if len(state) != 2 || state[0] != "exited" || state[1] == "0" {
		t.Fatalf("without POSTGRES_PASSWORD the container is %v, want exited with an error", state)
	}
	if logs := refused.logs(); !strings.Contains(logs, "POSTGRES_PASSWORD") {
		t.Errorf("the refusal does not name POSTGRES_PASSWORD:\n%s", logs)
	}
}

// TestPostgresSeedMatchesStack keeps seed.go in step with the PostgreSQL
// seed and compose file, on a real stack.
func TestPostgresSeedMatchesStack(t *testing.T) {
	s := Up(t, Options{Name: "teststackpg", Engine: PostgreSQL})
	rows := map[string]int{}
	for _, db := range SeedPostgresDatabases() {
		for k, v := range s.PGRows(t, db) {
			rows[k] = v
		}
	}
	if want := SeedPostgresRows(); !maps.Equal(rows, want) {
		t.Errorf("rows = %v\nseed.go says %v", rows, want)
	}
	if got := s.PGObjects(t, "appwrite"); !slices.Equal(got, SeedPostgresObjects()) {
		t.Errorf("objects = %q, want %q", got, SeedPostgresObjects())
	}
	if got := s.PSQL(t, "appwrite", `SELECT name FROM "_1_users" WHERE "_id" = 3`); got != "🦄 Unicorn #3" {
		t.Errorf("user 3's name = %q, want the unicorn emoji intact", got)
	}
	if got := s.PSQL(t, "postgres", "SHOW fsync"); got != "off" {
		t.Errorf("fsync = %q, want off as Appwrite's compose file sets it", got)
	}
	sums := s.PGChecksums(t, "appwrite")
	if again := s.PGChecksums(t, "appwrite"); !maps.Equal(sums, again) || len(sums) != 9 {
		t.Errorf("checksums %v, then %v: want one stable sum per table", sums, again)
	}
}
