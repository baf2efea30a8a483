package drill

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

// fakeEngine records what a drill asks of the engine.
type fakeEngine struct {
	calls []string
}

func (f *fakeEngine) Exec(context.Context, string, engine.ExecOptions) (*engine.ExecResult, error) {
	f.calls = append(f.calls, "exec")
	return nil, errors.New("no exec in this test")
}

func (f *fakeEngine) FindStack(context.Context, string, string) (*engine.Stack, error) {
	f.calls = append(f.calls, "find")
	return nil, errors.New("no stack")
}

func (f *fakeEngine) RunThrowaway(context.Context, engine.Throwaway) (string, error) {
	f.calls = append(f.calls, "run")
	return "c1", nil
}

func (f *fakeEngine) RemoveThrowaway(context.Context, string) error {
	f.calls = append(f.calls, "remove")
	return nil
}

func (f *fakeEngine) RemoveLabelled(_ context.Context, label string) ([]string, []string, error) {
	f.calls = append(f.calls, "cleanup "+label)
	return nil, nil, nil
}

// TestDamagedBackupNeverReachesAContainer: a backup that does not verify
// fails the archive check, every other check is listed as skipped, no
// container is made, and the failure is on record beside the backup.
func TestDamagedBackupNeverReachesAContainer(t *testing.T) {
	dir := t.TempDir()
	name := archive.ObjectName("appwrite", time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), false)
	body := []byte("not an archive at all")
	m := &archive.Manifest{
		Format: archive.FormatVersion, Tool: "test", Stack: "appwrite", Name: name, Status: archive.StatusComplete,
		FinishedAt: time.Date(2026, 11, 25, 8, 1, 0, 0, time.UTC),
		Database:   &archive.Database{Chunks: []archive.Chunk{{Name: archive.ChunkName(0), Size: 1, SHA256: strings.Repeat("0", 64)}}, DumpSize: 1},
		Object:     &archive.ObjectInfo{Size: int64(len(body)), SHA256: strings.Repeat("0", 64)},
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archive.SidecarName(name)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := storage.Open(context.Background(), remote.Options{Name: "local", Remote: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Stack.Project = "appwrite"
	cfg.StateDir = t.TempDir()
	cfg.Drill.Queries = []config.DrillQuery{{Name: "q", SQL: "SELECT 1", Expect: "1"}}
	eng := &fakeEngine{}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

	rep, err := Run(context.Background(), eng, cfg, []*storage.Destination{d}, Request{Now: func() time.Time { return now }})
	var failed *FailedError
	if !errors.As(err, &failed) || !slices.Equal(failed.Checks, []string{CheckArchive}) {
		t.Fatalf("got %v, want the archive check failed", err)
	}
	if want := []string{"cleanup " + LabelOwner + "=" + Owner(cfg.StateDir)}; !slices.Equal(eng.calls, want) {
		t.Errorf("engine calls %v, want only %v", eng.calls, want)
	}
	// Every built-in check and the one query, the archive's failed, the
	// rest listed as skipped.
	if want := len(Checks()) + 1; len(rep.Checks) != want {
		t.Errorf("%d checks listed, want all %d", len(rep.Checks), want)
	}
	for _, c := range rep.Checks[1:] {
		if !c.Skipped {
			t.Errorf("check %s ran after the archive failed", c.Name)
		}
	}
	if rep.BackupAgeSeconds != (25*time.Hour - time.Minute).Seconds() {
		t.Errorf("backup age %v", rep.BackupAgeSeconds)
	}
	if _, err := os.Stat(filepath.Join(dir, storage.DrillReportName(name, now))); err != nil {
		t.Errorf("the failed drill's report is not beside the backup: %v", err)
	}
}
