// Package teststack brings up dr's Appwrite-shaped test stack
// (docker-compose.test.yml with testdata/.env and the seed SQL) as a fresh
// compose project for integration tests, and inspects its database the way
// a test needs: row counts, table checksums, stored objects.
//
// It drives the docker and docker-compose commands, not dr's engine
// package, so the engine's own tests do not test the engine with itself.
package teststack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/engine"
)

// Service names in docker-compose.test.yml (and, with PGService for
// DBService, docker-compose.test-postgres.yml).
const (
	DBService     = "mariadb"
	PGService     = "postgresql"
	AppService    = "appwrite"
	WorkerService = "worker"
)

// Engines of Options.Engine.
const (
	MariaDB    = "mariadb"
	PostgreSQL = "postgresql"
)

// DefaultImage is the MariaDB image testdata/mariadb-image/build.sh makes;
// DR_TEST_IMAGE overrides it for both.
const DefaultImage = "dr-test/mariadb:10.11"

// Timeouts are generous: on two cores under the race detector, several
// packages start stacks at once.
const (
	startTimeout = 4 * time.Minute
	imageTimeout = 10 * time.Minute
	downTimeout  = 2 * time.Minute
)

// Root is the repository root, found from this source file's path.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("teststack: cannot locate its own source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Image is the test MariaDB image's reference.
func Image() string {
	if img := os.Getenv("DR_TEST_IMAGE"); img != "" {
		return img
	}
	return DefaultImage
}

// Required reports whether integration tests must run here
// (DR_INTEGRATION=required, as .ci/run sets): then a missing engine is a
// failure, not a skip.
func Required() bool {
	return os.Getenv("DR_INTEGRATION") == "required"
}

// Skip skips the test when no Docker engine answers or docker-compose is
// missing, naming the fix; with DR_INTEGRATION=required it fails instead.
func Skip(t testing.TB) {
	t.Helper()
	if err := engineAnswers(); err != nil {
		msg := fmt.Sprintf("integration test needs a Docker engine and docker-compose: %v; start one (systemctl start docker, or make setup as root), or set DOCKER_HOST", err)
		if Required() {
			t.Fatalf("%s (DR_INTEGRATION=required, so this is a failure)", msg)
		}
		t.Skip(msg)
	}
}

func engineAnswers() error {
	for _, tool := range []string{"docker", "docker-compose"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker version: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Options shape one test stack.
type Options struct {
	// Name goes into the compose project name (dr<name><random>), so a
	// leftover stack says which package made it.
	Name string
	// Services to start; empty means all of them.
	Services []string
	// Engine is the stack's database: MariaDB (the default) or
	// PostgreSQL.
	Engine string
}

// Stack is one running test stack.
type Stack struct {
	// Project is the compose project name; the engine finds containers by it.
	Project string
	// Dir is the stack directory, laid out like an Appwrite host's:
	// docker-compose.yml and .env, plus testdata/seed/ for the first start.
	Dir string
	// ownsDir is true when Down must remove Dir (t.TempDir cleans itself).
	ownsDir bool
	// Engine is MariaDB or PostgreSQL.
	Engine string
	// api reaches the containers through the engine's API: a docker
	// command costs a process start, and the tests make thousands.
	api *engine.Client
}

// Database is the compose service of the stack's database: DBService or
// PGService.
func (s *Stack) Database() string {
	if s.Engine == PostgreSQL {
		return PGService
	}
	return DBService
}

// ComposeFile is the stack's compose file.
func (s *Stack) ComposeFile() string { return filepath.Join(s.Dir, "docker-compose.yml") }

// EnvFile is the stack's .env.
func (s *Stack) EnvFile() string { return filepath.Join(s.Dir, ".env") }

// Volume is the engine's name of one of the stack's named volumes
// ("appwrite-uploads" → "<project>_appwrite-uploads").
func (s *Stack) Volume(name string) string { return s.Project + "_" + name }

// Up starts a fresh stack for one test and removes it, volumes included,
// when the test ends. It skips (or fails, see Skip) without an engine.
func Up(t testing.TB, opts Options) *Stack {
	t.Helper()
	Skip(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+imageTimeout)
	defer cancel()
	s, err := start(ctx, opts, dir)
	if s != nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), downTimeout)
			defer cancel()
			if err := s.Down(ctx); err != nil {
				t.Errorf("removing test stack: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("starting test stack: %v", err)
	}
	return s
}

// start makes the stack directory, runs compose up and waits until the
// database has its seed and the volumes theirs. On a failed wait it
// returns the stack too, so the caller can remove it.
func start(ctx context.Context, opts Options, dir string) (*Stack, error) {
	kind := opts.Engine
	if kind == "" {
		kind = MariaDB
	}
	if kind == PostgreSQL {
		if _, err := ensurePostgresImage(ctx); err != nil {
			return nil, err
		}
	} else if err := ensureImage(ctx); err != nil {
		return nil, err
	}
	if err := writeStackDir(dir, kind); err != nil {
		return nil, err
	}
	api, err := engine.New(ctx)
	if err != nil {
		return nil, err
	}
	s := &Stack{Project: projectName(opts.Name), Dir: dir, Engine: kind, api: api}
	args := append([]string{"up", "-d", "--no-color"}, opts.Services...)
	if _, err := s.compose(ctx, args...); err != nil {
		return s, err
	}
	if err := s.waitReady(ctx, opts.Services); err != nil {
		logs, _ := s.compose(ctx, "logs", "--no-color", "--tail", "40")
		return s, fmt.Errorf("%w\n--- docker-compose logs ---\n%s", err, logs)
	}
	return s, nil
}

// Down removes the stack's containers, networks and volumes.
func (s *Stack) Down(ctx context.Context) error {
	_, err := s.compose(ctx, "down", "-v", "--remove-orphans", "--timeout", "5")
	s.api.Close()
	if s.ownsDir {
		if rmErr := os.RemoveAll(s.Dir); rmErr != nil && err == nil {
			err = fmt.Errorf("removing stack directory: %w", rmErr)
		}
	}
	return err
}

// Compose runs a docker-compose command in the stack's directory (for
// example "stop", "worker") and returns its combined output.
func (s *Stack) Compose(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	out, err := s.compose(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *Stack) compose(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"-p", s.Project, "-f", s.ComposeFile()}, args...)
	cmd := exec.CommandContext(ctx, "docker-compose", full...)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// writeStackDir lays out an Appwrite-like host directory from the repo's
// test assets.
func writeStackDir(dir, engine string) error {
	root := Root()
	copies := []struct{ from, to string }{
		{"docker-compose.test.yml", "docker-compose.yml"},
		{"testdata/.env", ".env"},
		{"testdata/seed/appwrite.sql", "testdata/seed/appwrite.sql"},
	}
	if engine == PostgreSQL {
		copies = []struct{ from, to string }{
			{"docker-compose.test-postgres.yml", "docker-compose.yml"},
			{"testdata/postgres.env", ".env"},
			{"testdata/seed-postgres/appwrite.sql", "testdata/seed-postgres/appwrite.sql"},
		}
	}
	for _, c := range copies {
		data, err := os.ReadFile(filepath.Join(root, c.from))
		if err != nil {
			return fmt.Errorf("reading test asset: %w", err)
		}
		dst := filepath.Join(dir, c.to)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("making stack directory: %w", err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("writing stack file: %w", err)
		}
	}
	return nil
}

func projectName(name string) string {
	var b strings.Builder
	b.WriteString("dr")
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	b.WriteString(hex.EncodeToString(suffix))
	return b.String()
}

// ensureImage builds the test image when it is missing. A file lock keeps
// packages tested in parallel from building it twice at once.
func ensureImage(ctx context.Context) error {
	if exec.CommandContext(ctx, "docker", "image", "inspect", Image()).Run() == nil {
		return nil
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "dr-test-image.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("opening the image build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("taking the image build lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	buildCtx, cancel := context.WithTimeout(ctx, imageTimeout)
	defer cancel()
	cmd := exec.CommandContext(buildCtx, "bash", filepath.Join(Root(), "testdata", "mariadb-image", "build.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the test image %s (bash testdata/mariadb-image/build.sh): %v\n%s", Image(), err, out)
	}
	return nil
}

// waitReady waits for the database's final server (it listens on TCP only
// after the entrypoint ran the seed) and for the app's volume seeding.
func (s *Stack) waitReady(ctx context.Context, services []string) error {
	wants := func(svc string) bool {
		if len(services) == 0 {
			return true
		}
		for _, x := range services {
			if x == svc {
				return true
			}
		}
		return false
	}
	checks := []struct {
		service string
		cmd     []string
	}{
		{DBService, []string{"sh", "-c", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping`}},
		{AppService, []string{"test", "-e", "/tmp/dr-seeded"}},
	}
	if s.Engine == PostgreSQL {
		checks[0].service = PGService
		checks[0].cmd = []string{"sh", "-c", `exec pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"`}
	}
	for _, c := range checks {
		if !wants(c.service) {
			continue
		}
		if err := s.waitExec(ctx, c.service, c.cmd); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) waitExec(ctx context.Context, service string, cmd []string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var last string
	for {
		id, err := s.containerID(ctx, service)
		if err != nil {
			return err
		}
		out, err := s.run(ctx, id, cmd, nil)
		if err == nil {
			return nil
		}
		last = strings.TrimSpace(out + " " + err.Error())
		if st, err := s.api.ContainerState(ctx, id); err == nil && !st.Running {
			return fmt.Errorf("service %s stopped (state %s, exit code %d) before it was ready", service, st.Status, st.ExitCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %s not ready within %s: %s", service, startTimeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ContainerID is the ID of the service's container. It is looked up on
// each call: a restore may have replaced the container.
func (s *Stack) ContainerID(t testing.TB, service string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := s.containerID(ctx, service)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *Stack) containerID(ctx context.Context, service string) (string, error) {
	stack, err := s.api.FindStack(ctx, s.Project, "")
	if err != nil {
		return "", fmt.Errorf("listing containers of service %s: %w", service, err)
	}
	// Newest first, as the engine lists them.
	for _, c := range stack.Containers {
		if c.Service == service {
			return c.ID, nil
		}
	}
	return "", fmt.Errorf("project %s has no container for service %s", s.Project, service)
}

// run runs cmd in a container, with stdin when set, and returns its
// output; a non-zero exit is an error that holds the end of its errors.
func (s *Stack) run(ctx context.Context, containerID string, cmd []string, stdin io.Reader) (string, error) {
	var out strings.Builder
	res, err := s.api.Exec(ctx, containerID, engine.ExecOptions{Cmd: cmd, Stdin: stdin, Stdout: &out})
	if err != nil {
		return out.String(), err
	}
	return out.String(), res.Err(cmd[0])
}

// SQL runs queries as root inside the database container and returns the
// output in batch form (rows by line, fields by tab, no header). The root
// password is read inside the container from its own environment.
func (s *Stack) SQL(t testing.TB, query string) string {
	t.Helper()
	out, err := s.sql(s.ContainerID(t, DBService), query)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *Stack) sql(containerID, query string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := s.run(ctx, containerID, []string{"sh", "-c",
		`MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}" exec mariadb -uroot --default-character-set=utf8mb4 -N -B`}, strings.NewReader(query))
	if err != nil {
		return "", fmt.Errorf("running SQL %q: %w", shorten(query), err)
	}
	return strings.TrimRight(out, "\n"), nil
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// Tables lists a database's base tables (not views), sorted.
func (s *Stack) Tables(t testing.TB, db string) []string {
	t.Helper()
	out := s.SQL(t, "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = "+quote(db)+" ORDER BY table_name")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// Rows counts the rows of every base table of a database, keyed
// "db.table" as SeedRows is.
func (s *Stack) Rows(t testing.TB, db string) map[string]int {
	t.Helper()
	tables := s.Tables(t, db)
	counts := make(map[string]int, len(tables))
	if len(tables) == 0 {
		return counts
	}
	parts := make([]string, len(tables))
	for i, tbl := range tables {
		parts[i] = fmt.Sprintf("SELECT %s, COUNT(*) FROM %s.%s", quote(db+"."+tbl), ident(db), ident(tbl))
	}
	for _, line := range strings.Split(s.SQL(t, strings.Join(parts, " UNION ALL ")), "\n") {
		name, n, _ := strings.Cut(line, "\t")
		count, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("reading row count %q: %v", line, err)
		}
		counts[name] = count
	}
	return counts
}

// Checksums is CHECKSUM TABLE … EXTENDED for every base table of a
// database, keyed by table name: equal maps mean equal contents.
func (s *Stack) Checksums(t testing.TB, db string) map[string]string {
	t.Helper()
	tables := s.Tables(t, db)
	sums := make(map[string]string, len(tables))
	if len(tables) == 0 {
		return sums
	}
	names := make([]string, len(tables))
	for i, tbl := range tables {
		names[i] = ident(db) + "." + ident(tbl)
	}
	for _, line := range strings.Split(s.SQL(t, "CHECKSUM TABLE "+strings.Join(names, ", ")+" EXTENDED"), "\n") {
		name, sum, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("reading CHECKSUM TABLE output line %q", line)
		}
		sums[strings.TrimPrefix(name, db+".")] = sum
	}
	return sums
}

// Objects lists a database's views, triggers, routines and events as
// "kind:name" ("view:active_sessions", "procedure:count_sessions"), sorted.
func (s *Stack) Objects(t testing.TB, db string) []string {
	t.Helper()
	q := quote(db)
	out := s.SQL(t, strings.Join([]string{
		"SELECT CONCAT('view:', table_name) FROM information_schema.views WHERE table_schema = " + q,
		"SELECT CONCAT('trigger:', trigger_name) FROM information_schema.triggers WHERE trigger_schema = " + q,
		"SELECT CONCAT(LOWER(routine_type), ':', routine_name) FROM information_schema.routines WHERE routine_schema = " + q,
		"SELECT CONCAT('event:', event_name) FROM information_schema.events WHERE event_schema = " + q,
	}, " UNION ALL "))
	if out == "" {
		return nil
	}
	objects := strings.Split(out, "\n")
	sort.Strings(objects)
	return objects
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func ident(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// treeScript prints one line per path of each volume mounted at /v/<n>:
// n, the path, its type, mode, owner, and the sha256 of a file or the
// target of a link.
const treeScript = `for d in /v/*; do (cd "$d" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
  meta=$(stat -c '%F %a %u:%g' "$p")
  if [ -L "$p" ]; then what="-> $(readlink "$p")"
  elif [ -f "$p" ]; then what=$(sha256sum < "$p" | cut -d' ' -f1)
  else what=-; fi
  printf '%s\t%s\t%s %s\n' "${d#/v/}" "$p" "$meta" "$what"
done) || exit 1; done`

// VolumeTree describes every path of one of the stack's volumes (compose
// name) by type, mode, owner and content hash or link target, read by a
// throwaway container that mounts it read-only. Two trees are equal when
// the volumes hold the same files, byte for byte.
func (s *Stack) VolumeTree(t testing.TB, volume string) map[string]string {
	t.Helper()
	return s.VolumeTrees(t, volume)[volume]
}

// VolumeTrees is VolumeTree of each volume, read by one throwaway
// container that mounts them all: a container costs a second or more on a
// busy engine, and the tests read the volumes often.
func (s *Stack) VolumeTrees(t testing.TB, volumes ...string) map[string]map[string]string {
	t.Helper()
	args := []string{"run", "--rm", "--network", "none", "--entrypoint", "sh"}
	for i, v := range volumes {
		args = append(args, "-v", fmt.Sprintf("%s:/v/%d:ro", s.Volume(v), i))
	}
	out, err := exec.Command("docker", append(args, Image(), "-c", treeScript)...).CombinedOutput()
	if err != nil {
		t.Fatalf("reading volumes %v: %v: %s", volumes, err, out)
	}
	trees := make(map[string]map[string]string, len(volumes))
	for _, v := range volumes {
		trees[v] = map[string]string{}
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		n, rest, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(volumes) {
			t.Fatalf("reading volumes %v: a line names no volume: %q", volumes, line)
		}
		if path, what, ok := strings.Cut(rest, "\t"); ok {
			trees[volumes[i]][path] = what
		}
	}
	return trees
}

// Exec runs a shell script in a service's container as root.
func (s *Stack) Exec(t testing.TB, service, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := s.run(ctx, s.ContainerID(t, service), []string{"sh", "-c", script}, nil)
	if err != nil {
		t.Fatalf("running %q in %s: %v: %s", shorten(script), service, err, out)
	}
	return out
}

// MountExtraVolume adds, for one test, a container that the engine counts
// as a service of the stack (it has the compose labels) and that mounts a
// named volume of the project that docker-compose.test.yml does not have:
// what an Appwrite release adding a data volume looks like to dr. Both are
// removed when the test ends.
func (s *Stack) MountExtraVolume(t testing.TB, service, volume string) {
	t.Helper()
	name := s.Volume(volume)
	docker := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	docker("volume", "create", "--label", "com.docker.compose.project="+s.Project,
		"--label", "com.docker.compose.volume="+volume, name)
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", name).Run() })
	container := s.Project + "-" + service + "-extra"
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "-v", container).Run() })
	docker("create", "--name", container, "--network", "none",
		"--label", "com.docker.compose.project="+s.Project,
		"--label", "com.docker.compose.service="+service,
		"-v", name+":/data", "--entrypoint", "true", Image())
}

// Extended skips a test of the extended set unless DR_TEST_EXTENDED is
// set (make test-extended sets it): integration tests whose path a test
// of the default set already takes on the other database engine, kept
// out of make test and CI so that both engines' suites fit in CI's time
// on a 2-core machine.
func Extended(t testing.TB) {
	t.Helper()
	if os.Getenv("DR_TEST_EXTENDED") == "" {
		t.Skip("in the extended set: DR_TEST_EXTENDED=1 (make test-extended) runs it")
	}
}
