package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/restore/journal"
)

// childEnv carries the restore a child process runs until it is killed.
const childEnv = "DR_TEST_KILLED_RESTORE"

// importingLine is what the child prints once half the dump went to the
// import; the parent kills it with SIGKILL when it reads the line.
const importingLine = "IMPORTING HALF WAY"

type childRestore struct {
	Project, Dir, StateDir, Remote, Backup string
	SafetyNet                              string
	// DBService is the database service, when not MariaDB's.
	DBService string
}

// runKilledRestoreChild is the child: the restore an operator started,
// which stalls half way through the import until it is killed. TestMain
// runs it instead of the tests when childEnv is set.
func runKilledRestoreChild(spec string) int {
	var c childRestore
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	cfg := config.Default()
	cfg.Stack.Project, cfg.Stack.Dir, cfg.Stack.Volumes, cfg.StateDir = c.Project, c.Dir, nil, c.StateDir
	cfg.Destinations = []config.Destination{{Name: "local", Remote: c.Remote, Retention: config.DefaultRetention()}}
	if c.SafetyNet != "" {
		cfg.Restore.SafetyNet = c.SafetyNet
	}
	if c.DBService != "" {
		cfg.Stack.Database.Service = c.DBService
	}
	dests, err := backup.OpenReachable(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	eng, err := engine.New(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	stalling := &stallingEngine{Client: eng}
	req := Request{Name: c.Backup, Parts: []string{PartDB}}
	plan, err := Prepare(ctx, stalling, cfg, dests, req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	stalling.left.Store(plan.Manifest.Database.DumpSize / 2)
	_, err = Execute(ctx, stalling, plan, req)
	fmt.Fprintf(os.Stderr, "the restore was not killed: %v\n", err)
	return 3
}

// stallingEngine lets the first half of the dump through to the import,
// says so on stdout, and never returns the next read. The half counts
// over every connection of the import: a parallel import spreads the
// dump over several, none of which may see half of it alone.
type stallingEngine struct {
	*engine.Client
	left atomic.Int64
	once sync.Once
}

func (s *stallingEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if len(opts.Cmd) > 3 && opts.Cmd[3] == "dr-import" {
		opts.Stdin = &stallingReader{r: opts.Stdin, e: s}
	}
	return s.Client.Exec(ctx, id, opts)
}

type stallingReader struct {
	r io.Reader
	e *stallingEngine
}

func (s *stallingReader) Read(p []byte) (int, error) {
	left := s.e.left.Load()
	if left <= 0 {
		s.e.once.Do(func() { fmt.Println(importingLine) })
		select {} // until SIGKILL
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := s.r.Read(p)
	s.e.left.Add(-int64(n))
	return n, err
}

// TestKilledRestoreIsFinishedByTheNext is issue 10's defect 4 on the real
// stack: kill -9 of a restore after it stopped the services and while the
// database is half imported; dr backup refuses; the next restore starts
// the services the dead one stopped, and the database equals the backup.
func TestKilledRestoreIsFinishedByTheNext(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	res := takeBackup(t, eng, cfg, dests)
	want := dbChecksums(t, s)
	// What happened since the backup, which the restore undoes.
	s.SQL(t, "DELETE FROM appwrite._1_sessions WHERE _id % 3 = 0; DELETE FROM appwrite_logs.logs")
	t.Cleanup(func() {
		// Whatever happened, leave the stack running for the next test.
		s.Compose(t, "start", teststack.AppService, teststack.WorkerService)
	})

	// A fresh server's limit, which the import raises for itself; and
	// whatever the restores leave, the next test gets the image's value.
	imageLimit := s.PacketLimit(t)
	t.Cleanup(func() { s.SQL(t, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", imageLimit)) })
	s.UseDefaultPacketLimit(t)

	cfg.Restore.SafetyNet = config.SafetyNetDump
	killHalfWay(t, childRestore{Project: s.Project, Dir: s.Dir, StateDir: cfg.StateDir, Remote: cfg.Destinations[0].Remote, Backup: res.Name, SafetyNet: config.SafetyNetDump})
	if got := s.PacketLimit(t); got == teststack.DefaultPacketLimit {
		t.Fatalf("max_allowed_packet is %d after the kill: the killed import had not raised it, so this tests nothing", got)
	}

	// What the dead restore left: a journal, the services stopped.
	j, err := Unfinished(cfg.StateDir)
	if err != nil || j == nil {
		t.Fatalf("no restore journal after the kill: %v", err)
	}
	if j.Backup != res.Name || !slices.Equal(j.Unfinished, []string{journal.ItemDB}) || !slices.Equal(j.Stopped, []string{teststack.AppService, teststack.WorkerService}) || len(j.SafetyDumps) != 1 || j.PacketLimit != teststack.DefaultPacketLimit {
		t.Errorf("journal after the kill: %+v", j)
	}
	states := startedAt(t, s)
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if !strings.HasPrefix(states[svc], "false") {
			t.Fatalf("service %s runs after the kill (%s): the restore was killed too early to test anything", svc, states[svc])
		}
	}

	// A scheduled backup now would save the half-imported database.
	_, err = backup.Run(context.Background(), eng, cfg, dests, backup.Options{ToolVersion: "dr test"})
	var unfinished *journal.UnfinishedError
	if !errors.As(err, &unfinished) || !strings.Contains(err.Error(), "dr restore "+res.Name) {
		t.Fatalf("backup after the killed restore: %v; want it refused, naming the command that finishes the restore", err)
	}
	if objs, _ := os.ReadDir(cfg.Destinations[0].Remote); len(objs) != 2 {
		t.Errorf("the refused backup wrote to the destination: %d objects", len(objs))
	}

	// The next restore finishes the job.
	var steps []string
	r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}, Step: func(s string) { steps = append(steps, s) }})
	if err != nil {
		t.Fatalf("the restore after the kill: %v", err)
	}
	if r.Interrupted == nil || !slices.Equal(r.Inherited, []string{teststack.AppService, teststack.WorkerService}) {
		t.Errorf("the restore did not take over the interrupted one: interrupted %+v, inherited %v", r.Interrupted, r.Inherited)
	}
	if !strings.Contains(strings.Join(steps, "\n"), "did not finish") {
		t.Errorf("the operator was not told about the interrupted restore: %q", steps)
	}
	for svc, state := range startedAt(t, s) {
		if !strings.HasPrefix(state, "true") {
			t.Errorf("service %s is not running after the restore finished the job: %s", svc, state)
		}
	}
	if got := dbChecksums(t, s); !maps.Equal(want, got) {
		t.Errorf("the database differs from the backup after the rerun:\n got %v\nwant %v", got, want)
	}
	if got := s.PacketLimit(t); got != teststack.DefaultPacketLimit {
		t.Errorf("max_allowed_packet is %d after the restore that finished the job, want the %d it was before the killed one raised it", got, teststack.DefaultPacketLimit)
	}
	if j, err := Unfinished(cfg.StateDir); j != nil || err != nil {
		t.Errorf("the journal is still there after the job was finished: %+v, %v", j, err)
	}
	if _, err := backup.Run(context.Background(), eng, cfg, dests, backup.Options{ToolVersion: "dr test", Now: func() time.Time { return time.Now().Add(time.Hour) }}); err != nil {
		t.Errorf("backup after the finished restore: %v", err)
	}
}

// fullStateDir returns a state dir with no space left: a tiny tmpfs filled
// up (as root), or, where mounting is not allowed, a state dir whose
// safety directory cannot be made.
func fullStateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", dir).Run(); err != nil {
		t.Logf("cannot mount a tmpfs (%v): a file stands where state_dir/safety goes instead", err)
		if err := os.WriteFile(filepath.Join(dir, "safety"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	if err := os.MkdirAll(filepath.Join(dir, "safety"), 0o700); err != nil {
		t.Fatal(err)
	}
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the tmpfs: %v", err)
			}
			return dir
		}
	}
}

// TestRestoreWithoutSafetyNetIsRefused is defect 5: when the safety dump
// cannot be written, the restore changes nothing (the database as it was,
// no service stopped or restarted) unless the operator says so.
func TestRestoreWithoutSafetyNetIsRefused(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Restore.SafetyNet = config.SafetyNetDump
	res := takeBackup(t, eng, cfg, dests)
	s.SQL(t, "DELETE FROM appwrite_logs.logs WHERE id % 2 = 0")
	changed, started := dbChecksums(t, s), startedAt(t, s)

	t.Run("state dir full", func(t *testing.T) {
		cfg.StateDir = fullStateDir(t)
		_, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
		var sd *SafetyDumpError
		if !errors.As(err, &sd) || !strings.Contains(err.Error(), "nothing was stopped or changed") || !strings.Contains(err.Error(), "--no-safety-dump") {
			t.Fatalf("got %v, want the restore refused for want of a safety dump", err)
		}
		if !maps.Equal(changed, dbChecksums(t, s)) {
			t.Error("the refused restore changed the database")
		}
		if !maps.Equal(started, startedAt(t, s)) {
			t.Errorf("services were stopped or restarted: %v -> %v", started, startedAt(t, s))
		}
		if left := dirNames(t, filepath.Join(cfg.StateDir, "safety")); len(left) != 0 {
			t.Errorf("a safety dump cut short was left: %v", left)
		}
		if j, _ := Unfinished(cfg.StateDir); j != nil {
			t.Errorf("the refused restore left a journal: %+v", j)
		}
	})

	t.Run("database that cannot be dumped", func(t *testing.T) {
		cfg.StateDir = t.TempDir()
		// A table whose data file is gone (a MyISAM table's .MYD deleted
		// on disk): mariadb-dump stops at it, as it does at other damage.
		// (A broken view no longer serves: the dump leaves it out.)
		s.SQL(t, "CREATE TABLE appwrite.dr_damaged (a int) ENGINE=MyISAM; INSERT INTO appwrite.dr_damaged VALUES (1); FLUSH TABLES")
		s.Exec(t, teststack.DBService, "rm /var/lib/mysql/appwrite/dr_damaged.MYD")
		t.Cleanup(func() { s.SQL(t, "DROP TABLE IF EXISTS appwrite.dr_damaged") })
		damaged := dbChecksums(t, s)
		_, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}})
		var sd *SafetyDumpError
		if !errors.As(err, &sd) {
			t.Fatalf("got %v, want the restore refused for want of a safety dump", err)
		}
		if !maps.Equal(damaged, dbChecksums(t, s)) || !maps.Equal(started, startedAt(t, s)) {
			t.Error("the refused restore changed the database or touched the services")
		}
		if left := dirNames(t, filepath.Join(cfg.StateDir, "safety")); len(left) != 0 {
			t.Errorf("a safety dump cut short was left: %v", left)
		}

		// The operator's explicit choice: import without the net.
		r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}, NoSafetyDump: true})
		if err != nil {
			t.Fatalf("restore with NoSafetyDump: %v", err)
		}
		if r.SafetyDump != "" || !strings.Contains(strings.Join(r.Warnings, "\n"), "--no-safety-dump") {
			t.Errorf("safety dump %q, warnings %v", r.SafetyDump, r.Warnings)
		}
		if got := dbChecksums(t, s); maps.Equal(changed, got) {
			t.Error("the database was not restored")
		}
		if s.SQL(t, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'appwrite' AND table_name = 'dr_damaged'") != "0" {
			t.Error("the damaged table survived the import of the whole database")
		}
	})
}

// TestSafetyDumpsAreKeptToTheirRetention restores three times with
// keep_safety_dumps 2.
func TestSafetyDumpsAreKeptToTheirRetention(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = nil
	cfg.Restore.KeepSafetyDumps = 2
	cfg.Restore.SafetyNet = config.SafetyNetDump
	res := takeBackup(t, eng, cfg, dests)
	var made []string
	for i := range 3 {
		at := time.Date(2026, 11, 26, 8, i, 0, 0, time.UTC)
		r, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartDB}, Verified: true, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("restore %d: %v", i+1, err)
		}
		made = append(made, filepath.Base(r.SafetyDump))
	}
	if got := dirNames(t, filepath.Join(cfg.StateDir, "safety")); !slices.Equal(got, made[1:]) {
		t.Errorf("safety dir holds %v, want the newest two of %v", got, made)
	}
}
