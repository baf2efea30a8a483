package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// A remote that accepts connections and never answers is that
// destination's failure, named as a timeout; the healthy one opens.
func TestOpenAllSilentRemoteFailsAlone(t *testing.T) {
	silent := remotetest.Silent(t)
	opts := []remote.Options{
		{Name: "local", Remote: t.TempDir(), Timeout: time.Second},
		{Name: "dav", Remote: fmt.Sprintf(":webdav,url='http://%s':backups", silent), Timeout: time.Second},
		{Name: "down", Remote: ":webdav,url='http://127.0.0.1:1':backups", Timeout: time.Second},
	}
	opened := storage.OpenAll(context.Background(), opts)
	if got := strings.Join(opened.Names(), ","); got != "local" {
		t.Fatalf("healthy = %q, want local", got)
	}
	if got := strings.Join(opened.FailedNames(), ","); got != "dav,down" {
		t.Fatalf("failed = %q, want dav,down", got)
	}
	var te *remote.TimeoutError
	if !errors.As(opened.Failed[0].Err, &te) {
		t.Errorf("the silent where's failure is not a timeout: %v", opened.Failed[0].Err)
	}
	if _, err := opened.Require(); err != nil {
		t.Errorf("Require with one healthy destination: %v", err)
	}
	none := storage.OpenAll(context.Background(), opts[1:])
	if _, err := none.Require(); !errors.Is(err, storage.ErrNoDestination) || !strings.Contains(err.Error(), `"dav"`) {
		t.Errorf("Require with none healthy = %v, want ErrNoDestination naming dav", err)
	}
}

func TestChooseIsThisStacksOnly(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	entry := func(stack string, h int) storage.CatalogEntry {
		return storage.CatalogEntry{Name: archive.ObjectName(stack, at(h), false), Stack: stack, Time: at(h)}
	}
	// Newest first, as Catalog returns them: the other stack is newer.
	entries := []storage.CatalogEntry{entry("other", 5), entry("app", 4), entry("other", 3), entry("app", 2)}
	for _, tc := range []struct {
		name    string
		q       storage.Query
		want    string
		wantErr string
	}{
		{"latest of the configured stack", storage.Query{Stack: "app"}, entry("app", 4).Name, ""},
		{"before, of the configured stack", storage.Query{Stack: "app", Before: at(4)}, entry("app", 2).Name, ""},
		{"named, of the configured stack", storage.Query{Stack: "app", Name: entry("app", 2).Name}, entry("app", 2).Name, ""},
		{"named, of another stack", storage.Query{Stack: "app", Name: entry("other", 5).Name}, "", "not of the configured stack.project"},
		{"latest without a stack, several stacks", storage.Query{}, "", "several stacks (app, other)"},
		{"named without a stack", storage.Query{Name: entry("other", 3).Name}, entry("other", 3).Name, ""},
		{"none before the first", storage.Query{Stack: "app", Before: at(1)}, "", "no complete backup found taken before"},
		{"a stack with none", storage.Query{Stack: "nope"}, "", `of stack "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storage.Choose(entries, tc.q)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Choose = %v, %v; want error containing %q", got.Name, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want {
				t.Fatalf("Choose = %q, %v; want %q", got.Name, err, tc.want)
			}
		})
	}
}
