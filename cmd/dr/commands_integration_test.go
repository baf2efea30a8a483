package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// buildFlags are the go build flags of the binary the end-to-end test runs.
var buildFlags []string

// stack is the Appwrite-shaped test stack the command tests share.
var stack = teststack.NewShared(teststack.Options{Name: "cmd"})

func TestMain(m *testing.M) { os.Exit(teststack.RunShared(m, stack, restorePGStack)) }

// stackConfig writes a dr.yaml for the shared stack with one local
// destination and returns its path, the destination and the state dir.
func stackConfig(t *testing.T, s *teststack.Stack, extra string) (cfgPath, dest, state string) {
	t.Helper()
	dest = t.TempDir()
	state = filepath.Join(t.TempDir(), "state")
	cfgPath = writeConfig(t, fmt.Sprintf(`stack:
  project: %s
  dir: %s
  volumes: []
destinations:
  - name: local
    remote: %s
archive: {chunk_size: 1MiB}
state_dir: %s
%s`, s.Project, s.Dir, dest, state, extra))
	return cfgPath, dest, state
}

func TestBackupListVerifyEncrypted(t *testing.T) {
	s := stack.Get(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cfg, dest, _ := stackConfig(t, s, fmt.Sprintf("encryption: {recipients: [%s]}\n", id.Recipient()))

	out, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr backup: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"local     committed", "tables", "rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("backup summary lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = run(t, nil, "list", "--json", "--config", cfg)
	if code != exitOK {
		t.Fatalf("dr list: exit %d: %s", code, errOut)
	}
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("dr list --json printed %q: %v", out, err)
	}
	if len(listed) != 1 || !listed[0].Encrypted || listed[0].Tables == 0 || listed[0].Rows == 0 || !strings.HasSuffix(listed[0].Name, ".tar.zst.age") {
		t.Fatalf("dr list --json = %+v, want one encrypted backup with tables and rows", listed)
	}
	if _, err := os.Stat(filepath.Join(dest, listed[0].Name)); err != nil {
		t.Errorf("the listed archive is not on the destination: %v", err)
	}

	_, errOut, code = run(t, nil, "verify", "--latest", "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, "--identity") {
		t.Errorf("verify of an encrypted backup without a key: exit %d, stderr %s", code, errOut)
	}

	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, map[string]string{"DR_IDENTITY": keyFile}, "verify", "--latest", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "local  OK") {
		t.Errorf("verify with DR_IDENTITY: exit %d\n%s%s", code, out, errOut)
	}

	other, _ := age.GenerateX25519Identity()
	wrongKey := filepath.Join(t.TempDir(), "wrong.txt")
	if err := os.WriteFile(wrongKey, []byte(other.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, nil, "verify", listed[0].Name, "--identity", wrongKey, "--config", cfg)
	if code != exitFailed || !strings.Contains(out, "DAMAGED") {
		t.Errorf("verify with the wrong key: exit %d\n%s", code, out)
	}
}

func TestBackupWhileLockedExitsThree(t *testing.T) {
	s := stack.Get(t)
	cfg, dest, state := stackConfig(t, s, "")
	held, err := lock.Acquire(state, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	_, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitLocked || !strings.Contains(errOut, "holds the lock") {
		t.Errorf("backup with the lock held: exit %d, stderr %s", code, errOut)
	}
	if left, _ := os.ReadDir(dest); len(left) != 0 {
		t.Errorf("a backup that could not lock wrote %d objects", len(left))
	}
}

func TestUnwritableStateDirFailsCleanly(t *testing.T) {
	s := stack.Get(t)
	// A state dir below a regular file cannot be made, even by root.
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf("stack: {project: %s, dir: %s, volumes: []}\ndestinations: [{name: local, remote: %s}]\nstate_dir: %s\n",
		s.Project, s.Dir, dest, filepath.Join(blocker, "state")))

	_, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "state directory") {
		t.Errorf("unwritable state dir: exit %d, stderr %s", code, errOut)
	}
	if left, _ := os.ReadDir(dest); len(left) != 0 {
		t.Errorf("a backup that could not lock wrote %d objects", len(left))
	}
}

func TestUnknownDestinationIsUsageError(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "")
	_, errOut, code := run(t, nil, "backup", "--destination", "nowhere", "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, `"nowhere": destination is not configured`) || !strings.Contains(errOut, "local") {
		t.Errorf("unknown destination: exit %d, stderr %s", code, errOut)
	}
}

// TestBinaryAsAnOperatorRunsIt builds dr and runs it as a shell would:
// a dry run writes nothing, a backup commits, list shows it.
func TestBinaryAsAnOperatorRunsIt(t *testing.T) {
	s := stack.Get(t)
	bin := filepath.Join(t.TempDir(), "dr")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", bin, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg, dest, _ := stackConfig(t, s, "")
	drRun := func(args ...string) (string, int) {
		t.Helper()
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "DR_CONFIG="+cfg)
		out, err := c.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}

	out, code := drRun("backup", "--dry-run")
	if code != 0 || !strings.Contains(out, "backup plan (dry run") || !strings.Contains(out, "appwrite") {
		t.Fatalf("dr backup --dry-run: exit %d\n%s", code, out)
	}
	if left, _ := os.ReadDir(dest); len(left) != 0 {
		t.Fatalf("a dry run wrote %d objects", len(left))
	}
	if out, code = drRun("backup", "--log-format", "json"); code != 0 || !strings.Contains(out, `"msg":"backup committed"`) {
		t.Fatalf("dr backup: exit %d\n%s", code, out)
	}
	if out, code = drRun("list"); code != 0 || !strings.Contains(out, s.Project+"-") || strings.Contains(out, "NOTICE") {
		t.Fatalf("dr list: exit %d\n%s", code, out)
	}
}

func TestRestoreCommand(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}

	out, errOut, code := run(t, nil, "restore", "--latest", "--dry-run", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "restore plan") || !strings.Contains(out, "dry run: nothing was changed") {
		t.Errorf("restore --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	// Not a terminal and no --yes: refused, nothing done.
	_, errOut, code = run(t, nil, "restore", "--latest", "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, "--yes") {
		t.Errorf("restore without --yes on a non-terminal: exit %d, stderr %s", code, errOut)
	}
	for _, args := range [][]string{
		{"restore"},
		{"restore", "--latest", "some-name"},
		{"restore", "--latest", "--only", "everything"},
		{"restore", "--before", "yesterday-ish"},
	} {
		if _, errOut, code := run(t, nil, append(args, "--config", cfg)...); code != exitUsage {
			t.Errorf("dr %v: exit %d, want %d (stderr %s)", args, code, exitUsage, errOut)
		}
	}
	out, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "imported;") || !strings.Contains(out, "moved aside") || !strings.Contains(out, "undo: dr restore --undo") {
		t.Errorf("restore --only db --yes: exit %d\n%s%s", code, out, errOut)
	}
	testRestoreAsideCommands(t, s, cfg)
}

// testRestoreAsideCommands runs dr aside list, undo and drop, and their
// older forms restore --undo and --list-aside, after a restore that moved
// the tables aside.
func testRestoreAsideCommands(t *testing.T, s *teststack.Stack, cfg string) {
	t.Helper()
	t.Cleanup(func() {
		for _, n := range strings.Fields(s.SQL(t, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dr\_aside\_%'`)) {
			s.SQL(t, "DROP DATABASE `"+n+"`")
		}
	})
	for _, args := range [][]string{
		{"restore", "--undo", "--latest"},
		{"restore", "--undo", "--list-aside"},
		{"restore", "--drop-aside", "all", "--only", "db"},
	} {
		if _, errOut, code := run(t, nil, append(args, "--config", cfg)...); code != exitUsage {
			t.Errorf("dr %v: exit %d, want %d (stderr %s)", args, code, exitUsage, errOut)
		}
	}
	out, errOut, code := run(t, nil, "aside", "list", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "dr_aside_appwrite_") || !strings.Contains(out, "dr_aside_appwrite_logs_") {
		t.Errorf("aside list: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "list", "--json", "--config", cfg)
	var listed []asideSchemaJSON
	if err := json.Unmarshal([]byte(out), &listed); code != exitOK || err != nil || len(listed) != 2 || !listed[0].Mine || listed[0].Tables == 0 {
		t.Errorf("aside list --json: exit %d, %v: %+v\n%s%s", code, err, listed, out, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "undo", "--dry-run", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "undo plan") || !strings.Contains(out, "dry run: nothing was changed") {
		t.Errorf("aside undo --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = run(t, nil, "restore", "--undo", "--config", cfg); code != exitUsage || !strings.Contains(errOut, "--yes") {
		t.Errorf("restore --undo without --yes on a non-terminal: exit %d, stderr %s", code, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "undo", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "undone: appwrite, appwrite_logs are as they were") {
		t.Errorf("aside undo --yes: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "restore", "--list-aside", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "no aside schemas") {
		t.Errorf("restore --list-aside after the undo: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = run(t, nil, "restore", "--undo", "--yes", "--config", cfg); code != exitFailed || !strings.Contains(errOut, "nothing to undo") {
		t.Errorf("restore --undo with nothing aside: exit %d, stderr %s", code, errOut)
	}
	if _, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg); code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	if _, errOut, code = run(t, nil, "aside", "drop", "no-such", "--yes", "--config", cfg); code != exitFailed || !strings.Contains(errOut, "nothing was dropped") {
		t.Errorf("aside drop no-such: exit %d, stderr %s", code, errOut)
	}
	out, errOut, code = run(t, nil, "aside", "drop", "all", "--yes", "--config", cfg)
	if code != exitOK || strings.Count(out, "dropped dr_aside_") != 2 {
		t.Errorf("aside drop all: exit %d\n%s%s", code, out, errOut)
	}
}

func TestRunbookCommand(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	out, errOut, code := run(t, nil, "runbook", "list")
	if code != exitOK || !strings.Contains(out, "server-lost") || !strings.Contains(out, "volumes-missing") {
		t.Errorf("runbook list: exit %d\n%s", code, out)
	}
	out, _, code = run(t, nil, "runbook", "show", "db-corrupted")
	if code != exitOK || !strings.Contains(out, "Steps:") {
		t.Errorf("runbook show: exit %d\n%s", code, out)
	}
	if _, errOut, code := run(t, nil, "runbook", "show", "flood"); code != exitUsage || !strings.Contains(errOut, "server-lost") {
		t.Errorf("runbook show flood: exit %d, stderr %s", code, errOut)
	}
	if _, errOut, code := run(t, nil, "runbook", "run", "hacked", "--yes", "--config", cfg); code != exitUsage || !strings.Contains(errOut, "--before") {
		t.Errorf("runbook run hacked without --before: exit %d, stderr %s", code, errOut)
	}
	out, errOut, code = run(t, nil, "runbook", "run", "db-corrupted", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "[3/3] done") || !strings.Contains(out, "tables hold the backup's row counts") {
		t.Errorf("runbook run db-corrupted: exit %d\n%s%s", code, out, errOut)
	}
}

func TestPrunePinUnpinCommands(t *testing.T) {
	s := stack.Get(t)
	cfg, _, _ := stackConfig(t, s, "")
	// Three backups, one second apart at least (names carry seconds).
	clock := &skewClock{}
	var names []string
	for i := 0; i < 3; i++ {
		if i > 0 {
			clock.skip(time.Second)
		}
		if _, errOut, code := runAt(t, clock.now, nil, "backup", "--config", cfg); code != exitOK {
			t.Fatalf("backup: exit %d: %s", code, errOut)
		}
	}
	out, _, _ := run(t, nil, "list", "--json", "--config", cfg)
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 3 {
		t.Fatalf("list: %v, %s", err, out)
	}
	for _, b := range listed {
		names = append(names, b.Name)
	}
	oldest := names[2]

	// Only keep_last: the default bucket rules would have room left and
	// keep the oldest backup (restic's rule), which this test unpins.
	policy := writeConfig(t, strings.Replace(mustRead(t, cfg), "remote:", "retention: {keep_last: 1, keep_daily: 0, keep_weekly: 0, keep_monthly: 0}\n    remote:", 1))
	if out, errOut, code := run(t, nil, "pin", oldest, "--config", policy); code != exitOK || !strings.Contains(out, "pinned") {
		t.Fatalf("pin: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := run(t, nil, "prune", "--dry-run", "--config", policy)
	if code != exitOK || !strings.Contains(out, "keep 2, remove 1") || !strings.Contains(out, "pinned") || !strings.Contains(out, "newest") {
		t.Fatalf("prune --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = run(t, nil, "prune", "--json", "--config", policy)
	var reports []struct {
		Deleted []string `json:"deleted"`
	}
	if err := json.Unmarshal([]byte(out), &reports); code != exitOK || err != nil || len(reports) != 1 || len(reports[0].Deleted) != 1 || reports[0].Deleted[0] != names[1] {
		t.Fatalf("prune --json: exit %d, %v\n%s", code, err, out)
	}
	if _, errOut, code := run(t, nil, "unpin", oldest, "--config", policy); code != exitOK {
		t.Fatalf("unpin: exit %d: %s", code, errOut)
	}
	if out, _, code := run(t, nil, "prune", "--config", policy); code != exitOK || !strings.Contains(out, "keep 1, remove 1") {
		t.Errorf("prune after unpin: exit %d\n%s", code, out)
	}
	appendOnly := writeConfig(t, strings.Replace(mustRead(t, cfg), "remote:", "retention: {keep_last: 1, mode: append-only}\n    remote:", 1))
	if _, errOut, code := run(t, nil, "prune", "--config", appendOnly); code != exitFailed || !strings.Contains(errOut, "append-only") {
		t.Errorf("prune of an append-only destination: exit %d, stderr %s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestBackupRefusesWhileARestoreIsUnfinished: a journal saying a restore
// left the database half imported makes dr backup refuse (exit 1, the
// command that finishes the restore in the message) and dr restore show
// and finish it; after that, dr backup works again.
func TestBackupRefusesWhileARestoreIsUnfinished(t *testing.T) {
	s := stack.Get(t)
	cfg, dest, state := stackConfig(t, s, "")
	if _, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	out, _, _ := run(t, nil, "list", "--json", "--config", cfg)
	var listed []listedBackup
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("list: %v, %s", err, out)
	}
	finish := "dr restore " + listed[0].Name + " --only db --config " + cfg + " --yes"
	if err := journal.Write(state, &journal.Journal{
		Backup: listed[0].Name, Project: s.Project, Parts: []string{"db"}, Phase: journal.PhaseDB,
		Unfinished: []string{journal.ItemDB}, Command: finish, StartedAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}

	_, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "refusing to back up") || !strings.Contains(errOut, finish) {
		t.Errorf("backup over a half-imported database: exit %d, stderr %s", code, errOut)
	}
	if objs, _ := os.ReadDir(dest); len(objs) != 2 {
		t.Errorf("the refused backup wrote to the destination: %d objects", len(objs))
	}
	out, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--dry-run", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "interrupted") || !strings.Contains(out, "database may be half restored") {
		t.Errorf("restore --dry-run does not show the interrupted restore: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "imported;") {
		t.Fatalf("restore that finishes the job: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(journal.Path(state)); !os.IsNotExist(err) {
		t.Errorf("the journal is still there after the restore: %v", err)
	}
	// Backup names carry seconds: the clock skips one instead of waiting.
	clock := &skewClock{}
	clock.skip(time.Second)
	if _, errOut, code := runAt(t, clock.now, nil, "backup", "--config", cfg); code != exitOK {
		t.Errorf("backup after the finished restore: exit %d: %s", code, errOut)
	}
}
