package restore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

// asideListEngine is a server faked at the engine's exec holding aside
// schemas, each with its meta row, for dr restore --undo to choose from.
type asideListEngine struct {
	*fakeEngine
	schemas map[string]asideMeta
}

func (f *asideListEngine) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if opts.Cmd[3] != "dr-query" {
		return nil, fmt.Errorf("unexpected command %q", opts.Cmd[3])
	}
	var names []string
	for n := range f.schemas {
		names = append(names, n)
	}
	slices.Sort(names)
	sql := opts.Cmd[4]
	for _, n := range names {
		switch {
		case strings.HasPrefix(sql, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE"):
			fmt.Fprintln(opts.Stdout, n)
		case strings.HasPrefix(sql, "SELECT s.schema_name, COUNT(t.table_name)"):
			fmt.Fprintf(opts.Stdout, "%s\t3\t1024\t1\n", n)
		case strings.Contains(sql, "HEX(body)"):
			meta, _ := json.Marshal(f.schemas[n])
			fmt.Fprintf(opts.Stdout, "%s\t0\t%s\n", n, strings.ToUpper(hex.EncodeToString(meta)))
		default:
			return nil, fmt.Errorf("unexpected query %q", sql)
		}
	}
	return &engine.ExecResult{}, nil
}

// TestUndoIsScopedToTheConfiguredDatabases: with two configurations
// restoring different databases of one server, --undo with one of them
// undoes that one's last restore, never the other's newer one.
func TestUndoIsScopedToTheConfiguredDatabases(t *testing.T) {
	const older, newer = "20261126T080000Z", "20261126T090000Z"
	schemas := map[string]asideMeta{
		asideName("appwrite", older):      {Origin: "appwrite", Stamp: older, Backup: "app-20261125T080000Z.tar.zst", Existed: true, Tables: 3},
		asideName("appwrite_logs", older): {Origin: "appwrite_logs", Stamp: older, Backup: "app-20261125T080000Z.tar.zst", Existed: true, Tables: 3},
		asideName("analytics", newer):     {Origin: "analytics", Stamp: newer, Backup: "app-20261125T090000Z.tar.zst", Existed: true, Tables: 3},
	}
	for _, tc := range []struct {
		name      string
		databases []string
		schemas   map[string]asideMeta
		wantStamp string
		wantErr   string
	}{
		{"the configuration's databases: its own restore, not the newer one of another", []string{"appwrite", "appwrite_logs"}, schemas, older, ""},
		{"every database: the newest restore", nil, schemas, newer, ""},
		{"one database of a restore of two is not enough to undo it", []string{"appwrite"}, schemas, "", "no restore of appwrite left tables aside"},
		{"only another configuration's restore: refused, naming it", []string{"appwrite", "appwrite_logs"}, map[string]asideMeta{asideName("analytics", newer): schemas[asideName("analytics", newer)]}, "", "hold analytics from the restore of app-20261125T090000Z.tar.zst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Stack.Project, cfg.StateDir, cfg.Stack.Database.Databases = "app", t.TempDir(), tc.databases
			eng := &asideListEngine{fakeEngine: &fakeEngine{stack: fakeStack(), stateDir: cfg.StateDir}, schemas: tc.schemas}
			p, err := PrepareUndo(context.Background(), eng, cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Group.Stamp != tc.wantStamp {
				t.Errorf("--undo would swap back the restore at %s (%v), want the one at %s", p.Group.Stamp, p.Group.Names(), tc.wantStamp)
			}
		})
	}
}
