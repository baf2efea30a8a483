package restore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/journal"
)

// asideListEngine is a server faked at the engine's exec holding aside
// schemas, each with its meta row, for dr restore --undo to choose from.
type asideListEngine struct {
	*fakeEngine
	schemas map[string]mariadb.AsideMeta
	// dropped are the schemas scripts dropped, in order.
	dropped []string
}

var dropStatement = regexp.MustCompile("DROP DATABASE IF EXISTS `([^`]+)`")

func (f *asideListEngine) Exec(_ context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if opts.Cmd[3] == "dr-script" {
		b, err := io.ReadAll(opts.Stdin)
		if err != nil {
			return nil, err
		}
		for _, m := range dropStatement.FindAllStringSubmatch(string(b), -1) {
			f.dropped = append(f.dropped, m[1])
			delete(f.schemas, m[1])
		}
		return &engine.ExecResult{}, nil
	}
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
	schemas := map[string]mariadb.AsideMeta{
		asideName("appwrite", older):      {Origin: "appwrite", Stamp: older, Backup: "app-20261125T080000Z.tar.zst", Existed: true, Tables: 3},
		asideName("appwrite_logs", older): {Origin: "appwrite_logs", Stamp: older, Backup: "app-20261125T080000Z.tar.zst", Existed: true, Tables: 3},
		asideName("analytics", newer):     {Origin: "analytics", Stamp: newer, Backup: "app-20261125T090000Z.tar.zst", Existed: true, Tables: 3},
	}
	for _, tc := range []struct {
		name      string
		databases []string
		schemas   map[string]mariadb.AsideMeta
		wantStamp string
		wantErr   string
	}{
		{"the configuration's databases: its own restore, not the newer one of another", []string{"appwrite", "appwrite_logs"}, schemas, older, ""},
		{"every database: the newest restore", nil, schemas, newer, ""},
		{"one database of a restore of two is not enough to undo it", []string{"appwrite"}, schemas, "", "no restore of appwrite left tables aside"},
		{"only another configuration's restore: refused, naming it", []string{"appwrite", "appwrite_logs"}, map[string]mariadb.AsideMeta{asideName("analytics", newer): schemas[asideName("analytics", newer)]}, "", "hold analytics from the restore of app-20261125T090000Z.tar.zst"},
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

// twoConfigsAside are the aside schemas of one server two configurations
// restore to: this one's (appwrite, appwrite_logs) at 07:00 and 09:00, the
// other's (analytics) at 08:00 between them.
func twoConfigsAside() map[string]mariadb.AsideMeta {
	const backup, other = "app-20261125T080000Z.tar.zst", "stats-20261125T080000Z.tar.zst"
	out := map[string]mariadb.AsideMeta{}
	for _, stamp := range []string{"20261126T070000Z", "20261126T090000Z"} {
		for _, db := range []string{"appwrite", "appwrite_logs"} {
			out[asideName(db, stamp)] = mariadb.AsideMeta{Origin: db, Stamp: stamp, Backup: backup, Existed: true, Tables: 3}
		}
	}
	out[asideName("analytics", "20261126T080000Z")] = mariadb.AsideMeta{Origin: "analytics", Stamp: "20261126T080000Z", Backup: other, Existed: true, Tables: 3}
	return out
}

// TestKeepAsideIsScopedToTheConfiguredDatabases: restore.keep_aside
// counts and drops only the restores --undo of the same configuration
// would consider; another configuration's aside schemas on the same server
// are its only way back and stay.
func TestKeepAsideIsScopedToTheConfiguredDatabases(t *testing.T) {
	for _, tc := range []struct {
		name      string
		databases []string
		keep      int
		want      []string
	}{
		{"this configuration's older restore only", []string{"appwrite", "appwrite_logs"}, 1,
			[]string{"dr_aside_appwrite_20261126T070000Z", "dr_aside_appwrite_logs_20261126T070000Z"}},
		{"keeping two: nothing of this configuration is beyond them", []string{"appwrite", "appwrite_logs"}, 2, nil},
		{"no databases named: every restore on the server counts", nil, 1,
			[]string{"dr_aside_analytics_20261126T080000Z", "dr_aside_appwrite_20261126T070000Z", "dr_aside_appwrite_logs_20261126T070000Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := &asideListEngine{fakeEngine: &fakeEngine{stack: fakeStack(), stateDir: t.TempDir()}, schemas: twoConfigsAside()}
			x := &executor{eng: eng, log: slog.New(slog.DiscardHandler), res: &Result{}, journal: &journal.Journal{},
				plan: &Plan{Parts: []string{PartDB}, DBContainer: "db1", KeepAside: tc.keep, ConfiguredDatabases: tc.databases}}
			x.aside = &AsideGroup{Stamp: "20261126T090000Z", Schemas: []AsideSchema{{Schema: asideName("appwrite", "20261126T090000Z")}, {Schema: asideName("appwrite_logs", "20261126T090000Z")}}}
			x.pruneAsideAfter(context.Background())
			if len(x.res.Warnings) > 0 {
				t.Fatalf("warnings: %v", x.res.Warnings)
			}
			got := slices.Sorted(slices.Values(eng.dropped))
			if !slices.Equal(got, tc.want) || !slices.Equal(slices.Sorted(slices.Values(x.res.AsideDropped)), tc.want) {
				t.Errorf("dropped %v (result says %v), want %v", got, x.res.AsideDropped, tc.want)
			}
		})
	}
}

// TestDropAsideAllIsScopedToTheConfiguredDatabases: --drop-aside all drops
// this configuration's restores' aside schemas only; another's stamp or
// schema, named, is dropped; --list-aside says which restores are whose.
func TestDropAsideAllIsScopedToTheConfiguredDatabases(t *testing.T) {
	mine := []string{"appwrite", "appwrite_logs"}
	for _, tc := range []struct {
		name      string
		databases []string
		which     []string
		want      []string
	}{
		{"all: this configuration's", mine, []string{"all"},
			[]string{"dr_aside_appwrite_20261126T070000Z", "dr_aside_appwrite_20261126T090000Z", "dr_aside_appwrite_logs_20261126T070000Z", "dr_aside_appwrite_logs_20261126T090000Z"}},
		{"another's stamp, named", mine, []string{"20261126T080000Z"}, []string{"dr_aside_analytics_20261126T080000Z"}},
		{"another's schema, named, with all", mine, []string{"all", "dr_aside_analytics_20261126T080000Z"},
			[]string{"dr_aside_analytics_20261126T080000Z", "dr_aside_appwrite_20261126T070000Z", "dr_aside_appwrite_20261126T090000Z", "dr_aside_appwrite_logs_20261126T070000Z", "dr_aside_appwrite_logs_20261126T090000Z"}},
		{"no databases named: all is every one", nil, []string{"all"}, slices.Sorted(maps.Keys(twoConfigsAside()))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Stack.Project, cfg.StateDir, cfg.Stack.Database.Databases = "app", t.TempDir(), tc.databases
			eng := &asideListEngine{fakeEngine: &fakeEngine{stack: fakeStack(), stateDir: cfg.StateDir}, schemas: twoConfigsAside()}
			got, err := DropAside(context.Background(), eng, cfg, tc.which)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Sort(got); !slices.Equal(got, tc.want) || !slices.Equal(slices.Sorted(slices.Values(eng.dropped)), tc.want) {
				t.Errorf("dropped %v (the server saw %v), want %v", got, eng.dropped, tc.want)
			}
		})
	}

	cfg := config.Default()
	cfg.Stack.Project, cfg.StateDir, cfg.Stack.Database.Databases = "app", t.TempDir(), mine
	eng := &asideListEngine{fakeEngine: &fakeEngine{stack: fakeStack(), stateDir: cfg.StateDir}, schemas: twoConfigsAside()}
	l, err := ListAside(context.Background(), eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var gotMine, gotOthers []string
	for _, g := range l.Mine {
		gotMine = append(gotMine, g.Stamp)
	}
	for _, g := range l.Others {
		gotOthers = append(gotOthers, g.Stamp)
	}
	if !slices.Equal(gotMine, []string{"20261126T090000Z", "20261126T070000Z"}) || !slices.Equal(gotOthers, []string{"20261126T080000Z"}) {
		t.Errorf("--list-aside: this configuration's %v, others %v", gotMine, gotOthers)
	}
}
