package onboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

var timeZero = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

type fakeDocker struct {
	stack    *engine.Stack
	findErr  error
	exitCode int
	answer   string
	// answers, when set, answers each exec whose command holds a key
	// with that key's value (the first match in key order).
	answers map[string]string
}

func (f *fakeDocker) FindStack(context.Context, string, string) (*engine.Stack, error) {
	return f.stack, f.findErr
}

func (f *fakeDocker) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if f.exitCode != 0 {
		return &engine.ExecResult{ExitCode: f.exitCode, Stderr: "ERROR 1045 (28000): Access denied for user 'root'@'localhost'"}, nil
	}
	answer := f.answer
	keys := make([]string, 0, len(f.answers))
	for k := range f.answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(strings.Join(opts.Cmd, " "), k) {
			answer = f.answers[k]
			break
		}
	}
	io.WriteString(opts.Stdout, answer)
	return &engine.ExecResult{}, nil
}

type fakeStore struct {
	probeErr error
	listErr  error
	hang     bool
	backups  []storage.Backup
	probed   *[]bool // appendOnly of each Probe call
}

func (f *fakeStore) Probe(ctx context.Context, appendOnly bool) (string, error) {
	if f.probed != nil {
		*f.probed = append(*f.probed, appendOnly)
	}
	if f.hang {
		<-ctx.Done()
		return "", ctx.Err()
	}
	if appendOnly && f.probeErr == nil {
		return remote.ProbePrefix + "abc", nil
	}
	return "", f.probeErr
}

func (f *fakeStore) List(context.Context) ([]storage.Backup, error) { return f.backups, f.listErr }

type doctorCase struct {
	cfg     *config.Config
	docker  *fakeDocker
	dockErr error
	stores  map[string]*fakeStore
	now     time.Time
	ident   string
	path    string
}

func goodCase(t *testing.T) *doctorCase {
	t.Helper()
	id, _ := age.GenerateX25519Identity()
	ident := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(ident, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Stack.Project = "appwrite"
	cfg.Destinations = []config.Destination{{Name: "local", Remote: "/b", Retention: config.DefaultRetention()}}
	cfg.Encryption.Recipients = []string{id.Recipient().String()}
	cfg.StateDir = filepath.Join(t.TempDir(), "var", "lib", "dr")
	path := filepath.Join(t.TempDir(), "dr.yaml")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &doctorCase{
		cfg:    cfg,
		docker: &fakeDocker{stack: project("appwrite", "/root/appwrite", [2]string{"appwrite", "appwrite"}, [2]string{"mariadb", "mariadb:10.11"}), answer: "1\n"},
		stores: map[string]*fakeStore{"local": {backups: []storage.Backup{{Name: "b", Time: timeZero.Add(-time.Hour)}}}},
		now:    timeZero,
		ident:  ident,
		path:   path,
	}
}

func (c *doctorCase) run() *Report {
	return Doctor(context.Background(), DoctorOptions{
		Config: c.cfg, ConfigPath: c.path, Identity: c.ident, RemoteTimeout: 50 * time.Millisecond,
		Now: func() time.Time { return c.now },
		Connect: func(context.Context) (DoctorEngine, func(), error) {
			if c.dockErr != nil {
				return nil, nil, c.dockErr
			}
			return c.docker, func() {}, nil
		},
		OpenStore: func(_ context.Context, _ *config.Config, d config.Destination) (Store, error) {
			s, ok := c.stores[d.Name]
			if !ok {
				return nil, fmt.Errorf("no such remote")
			}
			return s, nil
		},
	})
}

func status(r *Report, name string) Check {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return Check{Name: name, Status: "absent"}
}

func TestDoctorPassesOnAGoodSetup(t *testing.T) {
	c := goodCase(t)
	r := c.run()
	top := filepath.Dir(filepath.Dir(c.cfg.StateDir))
	if _, err := os.Stat(top); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the directories doctor made to test state_dir were left: %v", err)
	}
	if r.Failed() != 0 {
		t.Fatalf("a good setup fails: %+v", r.Checks)
	}
	for _, name := range []string{"engine", "stack", "database credentials", "destination local", "encryption", "schedule", "state dir", "config file", "http", "clock"} {
		if c := status(r, name); c.Status != StatusOK {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if d := status(r, "schedule").Detail; !strings.Contains(d, "Thu 2026-11-26 08:00 UTC") || !strings.Contains(d, "Sun 2026-11-29 09:00 UTC") {
		t.Errorf("schedule does not show the next runs: %s", d)
	}

}

func TestDoctorCatchesEachFailure(t *testing.T) {
	tests := []struct {
		name   string
		stage  func(t *testing.T, c *doctorCase)
		check  string
		status string
		fix    string
	}{
		{"no engine", func(_ *testing.T, c *doctorCase) {
			c.dockErr = &engine.NoEngineError{Host: "unix:///nope.sock", Cause: errors.New("no such file")}
		}, "engine", StatusFail, "DOCKER_HOST"},
		{"no engine skips the stack", func(_ *testing.T, c *doctorCase) { c.dockErr = errors.New("x") }, "database credentials", StatusSkip, ""},
		{"stack not up", func(_ *testing.T, c *doctorCase) { c.docker.findErr = errors.New("no container has the label") }, "stack", StatusFail, "docker compose up -d"},
		{"database stopped", func(_ *testing.T, c *doctorCase) { c.docker.stack.Containers[1].Running = false }, "stack", StatusFail, "up -d mariadb"},
		{"no database service", func(_ *testing.T, c *doctorCase) { c.cfg.Stack.Database.Service = "db" }, "stack", StatusFail, "stack.database.service"},
		{"wrong password", func(_ *testing.T, c *doctorCase) { c.docker.exitCode = 1 }, "database credentials", StatusFail, "MYSQL_ROOT_PASSWORD"},
		{"read-only destination", func(_ *testing.T, c *doctorCase) { c.stores["local"].probeErr = errors.New("403 Forbidden") }, "destination local", StatusFail, "rclone touch"},
		{"unlistable destination", func(_ *testing.T, c *doctorCase) { c.stores["local"].listErr = errors.New("401") }, "destination local", StatusFail, "rclone touch"},
		{"unopenable destination", func(_ *testing.T, c *doctorCase) { delete(c.stores, "local") }, "destination local", StatusFail, "rclone"},
		{"hung destination", func(_ *testing.T, c *doctorCase) { c.stores["local"].hang = true }, "destination local", StatusFail, "rclone"},
		{"bad recipient", func(_ *testing.T, c *doctorCase) { c.cfg.Encryption.Recipients = []string{"age1notakey"} }, "encryption", StatusFail, "encryption.recipients"},
		{"identity does not match", func(t *testing.T, c *doctorCase) {
			other, _ := age.GenerateX25519Identity()
			if err := os.WriteFile(c.ident, []byte(other.String()+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "encryption", StatusFail, "age-keygen -y"},
		{"unencrypted warns", func(_ *testing.T, c *doctorCase) { c.cfg.Encryption.Recipients = nil }, "encryption", StatusWarn, "dr keygen"},
		{"bad time zone", func(_ *testing.T, c *doctorCase) { c.cfg.Schedule.Timezone = "Mars/Base" }, "schedule", StatusFail, "schedule.timezone"},
		{"state dir not writable", func(t *testing.T, c *doctorCase) {
			f := filepath.Join(t.TempDir(), "file")
			os.WriteFile(f, nil, 0o600)
			c.cfg.StateDir = filepath.Join(f, "state")
		}, "state dir", StatusFail, "mkdir -p"},
		{"world-readable config with secrets", func(_ *testing.T, c *doctorCase) {
			c.cfg.Notify = []config.Notify{{Name: "ops", URL: "https://hooks.example.invalid/secret-token"}}
			os.Chmod(c.path, 0o644)
		}, "config file", StatusFail, "chmod 600"},
		{"status page open to the network", func(_ *testing.T, c *doctorCase) { c.cfg.HTTP.Listen = "0.0.0.0:9477" }, "http", StatusFail, "http.token_file"},
		{"clock behind the newest backup", func(_ *testing.T, c *doctorCase) { c.now = timeZero.Add(-2 * time.Hour) }, "clock", StatusFail, "timedatectl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodCase(t)
			tt.stage(t, c)
			r := c.run()
			got := status(r, tt.check)
			if got.Status != tt.status || !strings.Contains(got.Fix, tt.fix) {
				t.Fatalf("%s = %+v, want status %s and a fix with %q", tt.check, got, tt.status, tt.fix)
			}
			if wantFail := tt.status != StatusWarn; (r.Failed() > 0) != wantFail {
				t.Errorf("Failed() = %d", r.Failed())
			}
		})
	}
}

func TestDoctorAppendOnlyOnlyWrites(t *testing.T) {
	c := goodCase(t)
	var probed []bool
	c.stores["local"].probed = &probed
	c.cfg.Destinations[0].Retention.Mode = config.ModeAppendOnly
	r := c.run()
	got := status(r, "destination local")
	if got.Status != StatusOK || !strings.Contains(got.Detail, "append-only") || !strings.Contains(got.Detail, remote.ProbePrefix) {
		t.Fatalf("append-only destination: %+v", got)
	}
	if len(probed) != 1 || !probed[0] {
		t.Errorf("Probe calls (appendOnly) = %v, want [true]", probed)
	}
}

// TestDoctorOnPostgres: a PostgreSQL stack is recognised by its image,
// logged in to through its own environment, and its fsync=off (as
// Appwrite's compose file sets it) is a warning that names the risk and
// the fix.
func TestDoctorOnPostgres(t *testing.T) {
	tests := []struct {
		name, settings, status, detail, fix string
		exitCode                            int
		checkName                           string
	}{
		{"durable", "on\ton\n", StatusOK, "are on", "", 0, "database durability"},
		{"Appwrite's settings", "off\toff\n", StatusWarn, "fsync=off and full_page_writes=off: a power cut", "remove -c fsync=off and -c full_page_writes=off from the postgresql service", 0, "database durability"},
		{"fsync only", "off\ton\n", StatusWarn, "corrupt the whole database cluster", "remove -c fsync=off from", 0, "database durability"},
		{"wrong password", "", StatusFail, "", "POSTGRES_PASSWORD", 2, "database credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodCase(t)
			c.cfg.Stack.Database.Service = "postgresql"
			c.docker.stack = project("appwrite", "/root/appwrite", [2]string{"appwrite", "appwrite"}, [2]string{"postgresql", "postgres:17"})
			c.docker.answers = map[string]string{"SELECT 1": "1\n", "current_setting": tt.settings}
			c.docker.exitCode = tt.exitCode
			got := status(c.run(), tt.checkName)
			if got.Status != tt.status || !strings.Contains(got.Detail, tt.detail) || !strings.Contains(got.Fix, tt.fix) {
				t.Errorf("%s: %+v, want %s with %q and fix %q", tt.checkName, got, tt.status, tt.detail, tt.fix)
			}
		})
	}
}
