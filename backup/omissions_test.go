package backup

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/remote/remotetest"
	"github.com/appwrite-dr/dr/storage"
)

// What a backup cannot hold, on the fake engine: a view whose table was
// dropped (the dump client stops on it) must not stop the backup of the
// rest, and a system-versioned table's history is dumped where the
// client can, and said to be missing where it cannot.
func TestBackupOmissionsWithFakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		eng  fakeEngine
		// omitted are the manifest's omissions as kind:db.name.
		omitted []string
		// warning is part of a warning the run must give; "" for none
		// about the database.
		warning string
		// versionedRows is the versioned table's row count in the manifest.
		versionedRows int64
		dumpArg       string // an argument the dump must have had
		viewEntry     string // part of the views entry; "" when none
	}{
		{name: "a broken view is left out, its definition kept",
			eng:     fakeEngine{BrokenView: "broken_v"},
			omitted: []string{"view:appwrite.broken_v"},
			warning: "view appwrite.broken_v is not in the backup: it cannot be opened (Table 'appwrite.gone' doesn't exist)",
			dumpArg: "--ignore-table=appwrite.broken_v",
			viewEntry: "-- appwrite.broken_v: Table 'appwrite.gone' doesn't exist\nUSE `appwrite`;\n" +
				"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `appwrite`.`broken_v` AS select `appwrite`.`gone`.`x` AS `x` from `appwrite`.`gone`;\n"},
		{name: "a versioned table's history is dumped",
			eng:           fakeEngine{Versioned: "audit"},
			versionedRows: 2,
			dumpArg:       "--dump-history"},
		{name: "a client without --dump-history: the history is said to be missing",
			eng:           fakeEngine{Versioned: "audit", NoDumpHistory: true},
			omitted:       []string{"history:appwrite.audit"},
			warning:       "the history of system-versioned table appwrite.audit is not in the backup",
			versionedRows: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := fakeConfig(t)
			mem := remotetest.Memory(t)
			cfg.Destinations = []config.Destination{{Name: "mem", Remote: mem, Retention: config.DefaultRetention()}}
			d, err := storage.Open(ctx, remote.Options{Name: "mem", Remote: mem})
			if err != nil {
				t.Fatal(err)
			}
			eng := tc.eng
			eng.Project, eng.Rows = "fake", 3
			res, err := Run(ctx, &eng, cfg, []*storage.Destination{d}, Options{ToolVersion: "test", Now: func() time.Time { return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatalf("backup: %v", err)
			}
			if tc.dumpArg != "" && !slices.Contains(eng.DumpArgs, tc.dumpArg) {
				t.Errorf("dump arguments %v lack %s", eng.DumpArgs, tc.dumpArg)
			}
			db := res.Manifest.Database
			var omitted []string
			for _, o := range db.Omitted {
				omitted = append(omitted, o.Kind+":"+o.Database+"."+o.Name)
			}
			if !slices.Equal(omitted, tc.omitted) {
				t.Errorf("omitted = %v, want %v", omitted, tc.omitted)
			}
			warnings := strings.Join(res.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(warnings, tc.warning) {
				t.Errorf("no warning %q in %v", tc.warning, res.Warnings)
			}
			if !slices.Equal(res.Manifest.Warnings, res.Warnings) {
				t.Errorf("the manifest's warnings %v are not the run's %v", res.Manifest.Warnings, res.Warnings)
			}
			if tc.eng.Versioned != "" {
				i := slices.IndexFunc(db.Tables, func(tb archive.Table) bool { return tb.Name == tc.eng.Versioned })
				if i < 0 || !db.Tables[i].Versioned || db.Tables[i].Rows != tc.versionedRows {
					t.Errorf("tables = %+v, want %s versioned with %d rows", db.Tables, tc.eng.Versioned, tc.versionedRows)
				}
			}
			entry := readEntry(t, d, res.Name, archive.BrokenViewsEntry)
			if tc.viewEntry == "" && entry != "" || !strings.Contains(entry, tc.viewEntry) {
				t.Errorf("%s = %q, want one with %q", archive.BrokenViewsEntry, entry, tc.viewEntry)
			}
		})
	}
}

// readEntry is the content of the archive's entry name, "" when it has
// none.
func readEntry(t *testing.T, d *storage.Destination, backup, name string) string {
	t.Helper()
	rc, err := d.Open(context.Background(), backup)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	plain, done, err := archive.Decompress(rc, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	tr := tar.NewReader(plain)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}
