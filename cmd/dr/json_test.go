package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/internal/golden"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/usecase"
)

// The --json documents are an interface scripts rely on (docs/scripting.md):
// a field renamed or dropped fails here, against testdata/json/*.json.
func TestJSONDocumentsKeepTheirShape(t *testing.T) {
	const name = "app-20261207T030000Z.tar.zst"
	down := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	backupResult := &usecase.BackupResult{
		Result: &backup.Result{
			Name: name, RawBytes: 4 << 20, ArchiveBytes: 1 << 20, Duration: 2500 * time.Millisecond,
			Manifest: &archive.Manifest{
				Database: &archive.Database{Tables: []archive.Table{{Database: "appwrite", Name: "users", Rows: 7}, {Database: "appwrite", Name: "v", View: true}}},
				Volumes:  []archive.Volume{{Name: "appwrite-uploads", Files: 3, Bytes: 3 << 20, ReadFiles: 1, ReadBytes: 1 << 20}},
			},
			Destinations: []backup.DestinationResult{
				{Name: "local", Remote: "/var/backups/app", Size: 1 << 20, SHA256: "ab12"},
				{Name: "offsite", Remote: "b2:bucket", Err: down},
			},
			Prune:    []*storage.PruneReport{{Destination: "local", Decisions: []storage.Decision{{Name: "old", Keep: false}, {Name: name, Keep: true}}}},
			Warnings: []string{"a warning"},
		},
		Pins: []usecase.PinOutcome{{Destination: "local"}, {Destination: "second", Existing: &storage.PinInfo{Note: "an older note"}}},
		Note: "before 1.8.1",
	}
	plan := &restore.Plan{
		Backup:    storage.CatalogEntry{Name: name, Time: time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)},
		Parts:     []string{restore.PartDB, restore.PartVolumes},
		Databases: []string{"appwrite"}, Tables: 1, Rows: 7, SafetyNet: "aside",
		Volumes: []restore.VolumePlan{{Key: "appwrite-uploads", Docker: "app_appwrite-uploads", Exists: true, Files: 3, Bytes: 3 << 20}},
		Stop:    []string{"appwrite"},
	}
	result := &restore.Result{Backup: name, Volumes: []string{"appwrite-uploads"}, TablesChecked: 1, Stopped: []string{"appwrite"}, Duration: 4 * time.Second}
	for _, tc := range []struct {
		file string
		doc  any
	}{
		{"backup.json", backupDoc(backupResult)},
		{"backup-plan.json", planJSON(&backup.Plan{Name: name, Project: "app", Databases: []string{"appwrite"}, Encrypted: true, Destinations: []string{"local"}})},
		{"verify.json", verifyDoc(&usecase.VerifyResult{Backup: name, Copies: []restore.CopyReport{{Destination: "local", Bytes: 1 << 20, Duration: time.Second}}, Unreachable: []storage.Failure{{Destination: "offsite", Err: down}}})},
		{"pin.json", pinResultDoc(&usecase.PinResult{Backup: name, Note: "before 1.8.1", Pins: backupResult.Pins})},
		{"restore-dry-run.json", restoreDoc(plan, nil, true)},
		{"restore.json", restoreDoc(plan, result, false)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "  ")
			if err := enc.Encode(tc.doc); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "json/"+tc.file, b.Bytes())
		})
	}
}
