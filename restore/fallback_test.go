package restore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

// smallBackup commits one small archive (a dump of a few statements) on
// each of the given local directories and returns the destinations, the
// catalog entry and the sidecar.
func smallBackup(t *testing.T, dirs ...string) ([]*storage.Destination, storage.CatalogEntry, *archive.Manifest) {
	t.Helper()
	ctx := context.Background()
	var dests []*storage.Destination
	for i, dir := range dirs {
		d, err := storage.Open(ctx, remote.Options{Name: []string{"first", "second", "third"}[i], Remote: dir, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		dests = append(dests, d)
	}
	return smallBackupOn(t, dests)
}

// smallBackupOn is smallBackup on destinations opened by the caller.
func smallBackupOn(t *testing.T, dests []*storage.Destination) ([]*storage.Destination, storage.CatalogEntry, *archive.Manifest) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 2, 3, 4, 0, time.UTC)
	name := archive.ObjectName("app", at, false)
	up := storage.NewUpload(ctx, dests, name)
	w, err := archive.NewWriter(up, archive.WriterOptions{ChunkSize: 256, Concurrency: 1, ModTime: at})
	if err != nil {
		t.Fatal(err)
	}
	dump := strings.Repeat("INSERT INTO `t` VALUES (1,'a'),(2,'b');\n", 40) + "-- Dump completed on 2026-05-01  2:03:04\n"
	res, err := w.AddDump(ctx, strings.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	m := &archive.Manifest{Tool: "dr test", Stack: "app", Host: "host", Name: name, StartedAt: at, FinishedAt: at,
		Database: &archive.Database{Kind: "mariadb", ChunkSize: 256, Chunks: res.Chunks, DumpSize: res.Size, Tables: res.Tables}}
	if err := w.Close(m); err != nil {
		t.Fatal(err)
	}
	err = up.Finish(func(d *storage.Destination, r remote.UploadResult) error {
		sidecar := *m
		sidecar.Status = archive.StatusComplete
		sidecar.Object = &archive.ObjectInfo{Size: r.Size, SHA256: r.SHA256}
		return d.Commit(ctx, &sidecar)
	})
	if err != nil {
		t.Fatal(err)
	}
	entry, _, err := storage.ChooseFrom(ctx, dests, storage.Query{Stack: "app"})
	if err != nil {
		t.Fatal(err)
	}
	sidecar, err := dests[0].ReadSidecar(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return dests, entry, sidecar
}

// The plan's verification falls back to the next copy of the same backup
// when the first is damaged or gone, and refuses only when none verifies,
// naming each copy's fault.
func TestVerifyPlanFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name       string
		damage     func(t *testing.T, dirs []string, name string)
		wantSource string
		wantFaults []string
	}{
		{"first intact", func(*testing.T, []string, string) {}, "first", nil},
		{"byte flipped in the first copy", func(t *testing.T, dirs []string, name string) {
			teststack.FlipByte(t, filepath.Join(dirs[0], name))
		}, "second", []string{"first"}},
		{"first archive gone, second damaged", func(t *testing.T, dirs []string, name string) {
			if err := os.Remove(filepath.Join(dirs[0], name)); err != nil {
				t.Fatal(err)
			}
			teststack.FlipByte(t, filepath.Join(dirs[1], name))
		}, "third", []string{"first", "second"}},
		{"every copy damaged", func(t *testing.T, dirs []string, name string) {
			for _, d := range dirs {
				teststack.FlipByte(t, filepath.Join(d, name))
			}
		}, "", []string{"first", "second", "third"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
			dests, entry, sidecar := smallBackup(t, dirs...)
			tc.damage(t, dirs, entry.Name)
			plan := &Plan{Backup: entry, Source: dests[0], Copies: copiesOf(dests, entry, ""), Manifest: sidecar}
			err := VerifyPlan(context.Background(), plan, nil)
			var faulted []string
			for _, f := range plan.Faults {
				faulted = append(faulted, f.Destination)
			}
			if strings.Join(faulted, ",") != strings.Join(tc.wantFaults, ",") {
				t.Errorf("faults on %v, want %v (%v)", faulted, tc.wantFaults, plan.Faults)
			}
			if tc.wantSource == "" {
				var none *NoCopyError
				if !errors.As(err, &none) || !strings.Contains(err.Error(), "nothing was stopped or changed") {
					t.Fatalf("VerifyPlan = %v, want a NoCopyError", err)
				}
				for _, d := range tc.wantFaults {
					if !strings.Contains(err.Error(), d+": ") {
						t.Errorf("the refusal does not name the copy on %s: %v", d, err)
					}
				}
				return
			}
			if err != nil || plan.Source.Name() != tc.wantSource {
				t.Fatalf("VerifyPlan = %v, source %s; want source %s", err, plan.Source.Name(), tc.wantSource)
			}
		})
	}
}

// The copy a runbook's first step verified is read first by later steps.
func TestCopiesOfPutsTheVerifiedOneFirst(t *testing.T) {
	dests, entry, _ := smallBackup(t, t.TempDir(), t.TempDir(), t.TempDir())
	var names bytes.Buffer
	for _, d := range copiesOf(dests, entry, "second") {
		names.WriteString(d.Name() + " ")
	}
	if got := names.String(); got != "second first third " {
		t.Errorf("copies = %q, want second first third", got)
	}
}
