package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore/journal"
)

func TestStackFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"docker-compose.yml", ".env"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := stackFiles(config.Stack{Dir: dir, Files: []string{"docker-compose.yml", ".env"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"docker-compose.yml", ".env"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}

	if err := os.WriteFile(filepath.Join(dir, overrideFile), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = stackFiles(config.Stack{Dir: dir, Files: []string{"docker-compose.yml"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"docker-compose.yml", overrideFile}; !reflect.DeepEqual(got, want) {
		t.Errorf("with override present: files = %v, want %v", got, want)
	}

	_, err = stackFiles(config.Stack{Dir: dir, Files: []string{"docker-compose.yml", "missing.env", "gone.yml"}})
	if err == nil || !strings.Contains(err.Error(), "missing.env, gone.yml missing") {
		t.Errorf("missing files: got %v, want an error naming both", err)
	}
	_, err = stackFiles(config.Stack{Dir: dir, Files: []string{"../etc/passwd"}})
	if err == nil || !strings.Contains(err.Error(), "stay inside") {
		t.Errorf("escaping file: got %v", err)
	}
}

// TestHalfRestoredStackIsNotBackedUp needs no engine: the journal is
// checked before the stack is even looked for.
func TestHalfRestoredStackIsNotBackedUp(t *testing.T) {
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	j := &journal.Journal{Backup: "app-20261125T080000Z.tar.zst", Parts: []string{"db"}, Phase: journal.PhaseDB,
		Stopped: []string{"appwrite"}, Unfinished: []string{journal.ItemDB}}
	if err := journal.Write(cfg.StateDir, j); err != nil {
		t.Fatal(err)
	}
	_, err := prepare(context.Background(), nil, cfg)
	var unfinished *journal.UnfinishedError
	if !errors.As(err, &unfinished) || !strings.Contains(err.Error(), "dr restore app-20261125T080000Z.tar.zst --only db --yes") {
		t.Fatalf("prepare = %v, want the backup refused with the command that finishes the restore", err)
	}
}
