package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// fakeEngine records which services are stopped and started, and what the
// journal said at the moment each service was stopped. Methods a test does
// not expect panic through the nil embedded interface.
type fakeEngine struct {
	Engine
	stack    *engine.Stack
	stateDir string
	execErr  error

	stopped, started []string
	journalAtStop    *journal.Journal
}

func (f *fakeEngine) Exec(context.Context, string, engine.ExecOptions) (*engine.ExecResult, error) {
	return nil, f.execErr
}

func (f *fakeEngine) FindStack(context.Context, string, string) (*engine.Stack, error) {
	return f.stack, nil
}

func (f *fakeEngine) StopServices(_ context.Context, _ *engine.Stack, services []string, _ time.Duration) ([]string, error) {
	j, err := journal.Read(f.stateDir)
	if err != nil {
		return nil, err
	}
	f.journalAtStop = j
	for _, svc := range services {
		for _, c := range f.stack.ServiceContainers(svc) {
			if c.Running {
				f.stopped = journal.AddUnique(f.stopped, svc)
			}
		}
	}
	return slices.Clone(f.stopped), nil
}

func (f *fakeEngine) StartServices(_ context.Context, _ *engine.Stack, services []string) error {
	f.started = append(f.started, services...)
	return nil
}

func fakeStack() *engine.Stack {
	return &engine.Stack{Project: "app", Containers: []engine.Container{
		{ID: "db1", Service: "mariadb", Running: true},
		{ID: "app1", Service: "appwrite", Running: true},
		{ID: "wrk1", Service: "worker", Running: false}, // left stopped by an interrupted restore
	}}
}

// filesBackup puts on a local destination a backup holding one stack file,
// and returns a plan that restores it into a temporary directory.
func filesBackup(t *testing.T, stateDir string) *Plan {
	t.Helper()
	content := []byte("_APP_ENV=production\n")
	name := archive.ObjectName("app", time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), false)
	var obj bytes.Buffer
	aw, err := archive.NewWriter(&obj, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := aw.AddFile(archive.FileHeader{Name: "compose/.env", Mode: 0o600, Size: int64(len(content))}, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	m := &archive.Manifest{Name: name, Stack: "app"}
	if err := aw.Close(m); err != nil {
		t.Fatal(err)
	}

	remote := t.TempDir()
	if err := os.WriteFile(filepath.Join(remote, name), obj.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Destinations = []config.Destination{{Name: "local", Remote: remote}}
	dests, err := backup.OpenReachable(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	entry := m.Entries[0]
	target := t.TempDir()
	return &Plan{
		Backup:   storage.CatalogEntry{Name: name},
		Source:   dests[0],
		Manifest: m,
		Parts:    []string{PartFiles}, Project: "app", DBService: "mariadb",
		Files:     []FilePlan{{Entry: entry, Target: filepath.Join(target, ".env")}},
		TargetDir: target, StateDir: stateDir, SafetyDir: filepath.Join(stateDir, "safety"), KeepSafetyDumps: 3,
	}
}

func TestRestoreFinishesWhatAnInterruptedOneLeft(t *testing.T) {
	for _, tc := range []struct {
		name string
		prev *journal.Journal
		// after the files-only restore
		wantStarted    []string
		wantInherited  []string
		wantJournal    bool
		wantUnfinished []string
	}{
		{
			name:          "no journal: nothing to start, nothing left",
			wantStarted:   nil,
			wantInherited: nil,
		},
		{
			name:          "killed while writing the files: they are finished and the services started",
			prev:          &journal.Journal{Backup: "old", Parts: []string{PartFiles, PartDB}, Phase: journal.PhaseFiles, Stopped: []string{"appwrite", "worker"}, Unfinished: []string{journal.ItemFiles}},
			wantStarted:   []string{"appwrite", "worker"},
			wantInherited: []string{"appwrite", "worker"},
		},
		{
			name:           "killed in the import: a files-only restore starts the services but the database stays unfinished",
			prev:           &journal.Journal{Backup: "old", Parts: []string{PartDB}, Phase: journal.PhaseDB, Stopped: []string{"worker"}, Unfinished: []string{journal.ItemDB}, Command: "dr restore old --only db --yes"},
			wantStarted:    []string{"worker"},
			wantInherited:  []string{"worker"},
			wantJournal:    true,
			wantUnfinished: []string{journal.ItemDB},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			if tc.prev != nil {
				if err := journal.Write(state, tc.prev); err != nil {
					t.Fatal(err)
				}
			}
			eng := &fakeEngine{stack: fakeStack(), stateDir: state}
			plan := filesBackup(t, state)
			res, err := Execute(context.Background(), eng, plan, Request{Verified: true})
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if !slices.Equal(eng.started, tc.wantStarted) {
				t.Errorf("started %v, want %v", eng.started, tc.wantStarted)
			}
			if !slices.Equal(res.Inherited, tc.wantInherited) {
				t.Errorf("result says %v were left stopped by the interrupted restore, want %v", res.Inherited, tc.wantInherited)
			}
			if (res.Interrupted != nil) != (tc.prev != nil) {
				t.Errorf("result.Interrupted = %+v", res.Interrupted)
			}
			j, err := journal.Read(state)
			if err != nil {
				t.Fatal(err)
			}
			if (j != nil) != tc.wantJournal {
				t.Fatalf("journal after the restore: %+v, want one: %v", j, tc.wantJournal)
			}
			if j != nil {
				if !slices.Equal(j.Unfinished, tc.wantUnfinished) || len(j.Stopped) != 0 || j.Backup != tc.prev.Backup || j.FinishCommand() != tc.prev.Command {
					t.Errorf("journal left %+v, want the interrupted restore's unfinished %v and nothing stopped", j, tc.wantUnfinished)
				}
				if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, "\n"), tc.prev.Command) {
					t.Errorf("no warning says how to finish the interrupted restore: %v", res.Warnings)
				}
			}
		})
	}
}

func TestJournalIsOnDiskBeforeAnyServiceStops(t *testing.T) {
	state := t.TempDir()
	prev := &journal.Journal{Backup: "old", Phase: journal.PhaseDB, Stopped: []string{"worker"}, Unfinished: []string{journal.ItemDB}}
	if err := journal.Write(state, prev); err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{stack: fakeStack(), stateDir: state}
	plan := filesBackup(t, state)
	plan.stack = eng.stack
	plan.Stop = []string{"appwrite", "worker"}
	// The object is not there: the stream fails at once, and the services
	// must come back all the same.
	plan.Backup.Name = "missing"

	_, err := Execute(context.Background(), eng, plan, Request{Verified: true, Command: "dr restore missing --yes"})
	if err == nil {
		t.Fatal("the restore of a missing object succeeded")
	}
	j := eng.journalAtStop
	if j == nil {
		t.Fatal("no journal on disk when the services were stopped")
	}
	if !slices.Equal(j.Stopped, []string{"worker", "appwrite"}) || j.Phase != journal.PhaseStopping || !slices.Equal(j.Unfinished, []string{journal.ItemDB}) {
		t.Errorf("journal at the stop: %+v; want the inherited and the running services, and the unfinished database", j)
	}
	if !slices.Equal(eng.started, []string{"appwrite", "worker"}) {
		t.Errorf("started %v after the failure, want appwrite and worker", eng.started)
	}
	after, err := journal.Read(state)
	if err != nil || after == nil {
		t.Fatalf("journal after the failure: %+v, %v", after, err)
	}
	if after.Phase != journal.PhaseFailed || len(after.Stopped) != 0 || !slices.Equal(after.Unfinished, []string{journal.ItemDB}) {
		t.Errorf("journal after the failure: %+v; want failed, nothing stopped, the database unfinished", after)
	}
	if after.Command != "dr restore missing --yes" {
		t.Errorf("journal command %q", after.Command)
	}
}

func TestFailedSafetyDumpChangesNothing(t *testing.T) {
	state := t.TempDir()
	eng := &fakeEngine{stack: fakeStack(), stateDir: state, execErr: errors.New("the server has gone away")}
	plan := filesBackup(t, state)
	plan.Parts = []string{PartDB}
	plan.stack = eng.stack
	plan.Stop = []string{"appwrite"}
	plan.DBContainer = "db1"

	_, err := Execute(context.Background(), eng, plan, Request{Verified: true})
	var sd *SafetyDumpError
	if !errors.As(err, &sd) || !strings.Contains(err.Error(), "--no-safety-dump") || !strings.Contains(err.Error(), "nothing was stopped or changed") {
		t.Fatalf("got %v, want the restore refused for want of a safety dump", err)
	}
	if len(eng.stopped) != 0 || len(eng.started) != 0 {
		t.Errorf("services were touched: stopped %v, started %v", eng.stopped, eng.started)
	}
	if j, _ := journal.Read(state); j != nil {
		t.Errorf("a refused restore left a journal: %+v", j)
	}
	if left, _ := os.ReadDir(plan.SafetyDir); len(left) != 0 {
		t.Errorf("the safety dir holds %d files", len(left))
	}
}

func TestWriteSafetyDump(t *testing.T) {
	const trailer = "-- Dump completed on 2026-11-25  8:00:00\n"
	for _, tc := range []struct {
		name    string
		dump    func(io.Writer) error
		wantErr string
	}{
		{name: "complete", dump: func(w io.Writer) error { _, err := io.WriteString(w, "CREATE TABLE t (a int);\n"+trailer); return err }},
		{name: "dump fails half way", wantErr: "dumping the database", dump: func(w io.Writer) error {
			io.WriteString(w, "CREATE TABLE t (a int);\nINSERT INTO t VALUES ")
			return errors.New("exit code 2: Got packet bigger than 'max_allowed_packet'")
		}},
		{name: "dump ends without its trailer", wantErr: "completion trailer", dump: func(w io.Writer) error {
			_, err := io.WriteString(w, "CREATE TABLE t (a int);\n")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "safety")
			path, err := writeSafetyDump(dir, "app-20261125T080000Z", "-- Dump completed", tc.dump)
			names := dirNames(t, dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				if len(names) != 0 {
					t.Errorf("a dump cut short left %v", names)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, "app-20261125T080000Z"+safetySuffix); path != want || !slices.Equal(names, []string{filepath.Base(want)}) {
				t.Errorf("wrote %s, dir holds %v", path, names)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("safety dump mode %v, want 0600", st.Mode().Perm())
			}
			// A second one in the same second gets a name of its own.
			second, err := writeSafetyDump(dir, "app-20261125T080000Z", "-- Dump completed", tc.dump)
			if err != nil || second == path || !strings.HasSuffix(second, "-2"+safetySuffix) {
				t.Errorf("second dump in the same second: %s, %v", second, err)
			}
		})
	}
}

func TestPruneSafetyDumps(t *testing.T) {
	dump := func(stamp string) string { return "app-" + stamp + safetySuffix }
	all := []string{
		dump("20261120T080000Z"), dump("20261121T080000Z"), dump("20261122T080000Z"),
		dump("20261123T080000Z"), dump("20261123T080000Z-2"), dump("20261124T080000Z"),
	}
	other := []string{"app-staging-20261101T080000Z" + safetySuffix, "notes.txt"}
	partial := dump("20261125T080000Z") + partialSuffix
	for _, tc := range []struct {
		name    string
		keep    int
		protect []string
		want    []string // dumps of app that remain
	}{
		{name: "keep 3", keep: 3, want: all[3:]},
		{name: "keep 1", keep: 1, want: all[5:]},
		{name: "keep 0 is read as 1", keep: 0, want: all[5:]},
		{name: "keep more than there are", keep: 10, want: all},
		{name: "an unfinished restore's dump is kept", keep: 2, protect: []string{all[0]}, want: []string{all[0], all[4], all[5]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range append(append(slices.Clone(all), other...), partial) {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var protect []string
			for _, p := range tc.protect {
				protect = append(protect, filepath.Join(dir, p))
			}
			if _, err := pruneSafetyDumps(dir, "app", tc.keep, protect); err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(tc.want), other...)
			slices.Sort(want)
			if got := dirNames(t, dir); !slices.Equal(got, want) {
				t.Errorf("left %v\nwant %v", got, want)
			}
		})
	}
	if removed, err := pruneSafetyDumps(filepath.Join(t.TempDir(), "none"), "app", 3, nil); err != nil || len(removed) != 0 {
		t.Errorf("a missing safety dir: %v, %v", removed, err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// packetEngine is a server faked at the engine's exec that answers only
// the queries about its max_allowed_packet, and records each SET.
type packetEngine struct {
	*fakeEngine
	limit string
	sets  []string
}

func (f *packetEngine) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if opts.Cmd[3] != "dr-query" {
		return nil, fmt.Errorf("unexpected command %q", opts.Cmd[3])
	}
	switch sql := opts.Cmd[4]; {
	case sql == "SELECT @@global.max_allowed_packet":
		fmt.Fprintln(opts.Stdout, f.limit)
	case strings.HasPrefix(sql, "SET GLOBAL max_allowed_packet = "):
		f.limit = strings.TrimPrefix(sql, "SET GLOBAL max_allowed_packet = ")
		f.sets = append(f.sets, f.limit)
	default:
		return nil, fmt.Errorf("unexpected query %q", sql)
	}
	return &engine.ExecResult{}, nil
}

// TestPacketLimitSurvivesAKill is the packet limit across a kill -9 in
// the import: the journal keeps the value from before the first raise,
// and the run that finishes the job puts that one back, not the raised
// value it finds.
func TestPacketLimitSurvivesAKill(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev      *journal.Journal
		serverNow string // when this run's import is about to start
		// afterImport is the server's limit once this run's import put
		// back what it found.
		afterImport string
		wantSets    []string
		wantAfter   string
	}{
		{
			name:      "first run: the import puts back what it found; nothing more to do",
			serverNow: "16777216", afterImport: "16777216",
			wantSets: nil, wantAfter: "16777216",
		},
		{
			name:      "rerun after a kill in the import: the recorded value back",
			prev:      &journal.Journal{Backup: "old", Phase: journal.PhaseDB, Unfinished: []string{journal.ItemDB}, PacketLimit: 16 << 20},
			serverNow: "1073741824", afterImport: "1073741824",
			wantSets: []string{"16777216"}, wantAfter: "16777216",
		},
		{
			name:      "rerun after a kill and a server restart: its configured value stays",
			prev:      &journal.Journal{Backup: "old", Phase: journal.PhaseDB, Unfinished: []string{journal.ItemDB}, PacketLimit: 16 << 20},
			serverNow: "67108864", afterImport: "67108864",
			wantSets: nil, wantAfter: "67108864",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			state := t.TempDir()
			eng := &packetEngine{fakeEngine: &fakeEngine{stack: fakeStack(), stateDir: state}, limit: tc.serverNow}
			plan := filesBackup(t, state)
			plan.Parts, plan.DBContainer = []string{PartDB}, "db1"
			x := &executor{eng: eng, plan: plan, log: slog.New(slog.DiscardHandler), res: &Result{}, now: time.Now}
			x.journal = x.newJournal(tc.prev, time.Now())

			x.notePacketLimit(ctx)
			if err := x.writeJournal(journal.PhaseDB); err != nil {
				t.Fatal(err)
			}
			onDisk, err := journal.Read(state)
			if err != nil {
				t.Fatal(err)
			}
			if onDisk.PacketLimit != 16<<20 {
				t.Errorf("the journal records max_allowed_packet %d before the import, want the value before any import raised it, 16777216", onDisk.PacketLimit)
			}

			eng.limit = tc.afterImport
			x.putBackPacketLimit(ctx)
			if !slices.Equal(eng.sets, tc.wantSets) || eng.limit != tc.wantAfter {
				t.Errorf("set %v, server left at %s; want set %v, left at %s", eng.sets, eng.limit, tc.wantSets, tc.wantAfter)
			}
			if len(x.res.Warnings) != 0 {
				t.Errorf("warnings: %v", x.res.Warnings)
			}
		})
	}
}

// TestDatabasePartlyRestored is the decision a failed restore makes before
// it starts the services again: not on a database it may have left
// partly restored.
func TestDatabasePartlyRestored(t *testing.T) {
	_, touched := io.Pipe()
	for _, tc := range []struct {
		name       string
		parts      []string
		unfinished []string
		imp        *DumpImport
		rowsWrong  bool
		want       bool
	}{
		{"the import failed half way", []string{PartDB}, []string{journal.ItemDB}, &DumpImport{in: touched}, false, true},
		{"the import finished but the rows are wrong", []string{PartDB}, []string{journal.ItemDB}, &DumpImport{in: touched, finished: true}, true, true},
		{"the import finished, a volume failed after it", []string{PartDB, PartVolumes}, []string{journal.ItemDB, journal.VolumeItem("uploads")}, &DumpImport{in: touched, finished: true}, false, false},
		{"the tables aside were put back: nothing unfinished", []string{PartDB}, nil, &DumpImport{in: touched}, false, false},
		{"an interrupted restore's half import, this run failed before its own", []string{PartDB}, []string{journal.ItemDB}, &DumpImport{}, false, true},
		{"failed before the import with nothing changed", []string{PartDB}, nil, &DumpImport{}, false, false},
		{"a files-only restore leaves an earlier half import to the restore that finishes it", []string{PartFiles}, []string{journal.ItemDB, journal.ItemFiles}, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &executor{plan: &Plan{Parts: tc.parts}, journal: &journal.Journal{Unfinished: tc.unfinished}, imp: tc.imp, rowsWrong: tc.rowsWrong}
			if got := x.databasePartlyRestored(); got != tc.want {
				t.Errorf("databasePartlyRestored = %v, want %v", got, tc.want)
			}
		})
	}
}
