package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/storage"
)

// pgStack is the PostgreSQL test stack; drills never touch it.
var pgStack = teststack.NewShared(teststack.Options{Name: "drillpg", Engine: teststack.PostgreSQL})

func setupPostgres(t *testing.T) (*teststack.Stack, *config.Config, []*storage.Destination) {
	t.Helper()
	s := pgStack.Get(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Database.Service = teststack.PGService
	cfg.Stack.Volumes = nil
	return s, cfg, dests
}

func TestPostgresGoodBackupPassesEveryCheck(t *testing.T) {
	s, cfg, dests := setupPostgres(t)
	eng := teststack.Engine(t)
	cfg.Stack.Volumes = appVolumes
	// The roles too: the globals' DO blocks meet the roles the drill
	// made for the dump's OWNER TO statements.
	cfg.Stack.Database.IncludeGrants = true
	cfg.Drill.Queries = []config.DrillQuery{{Name: "users", SQL: `SELECT count(*) FROM public."_1_users"`, Expect: "1000"}}
	// A materialized view made WITH NO DATA cannot be selected from on
	// the stack either: present is all the views check can ask of it.
	s.PSQL(t, "appwrite", `CREATE MATERIALIZED VIEW public.dr_unfilled AS SELECT 1 AS one WITH NO DATA`)
	t.Cleanup(func() { s.PSQL(t, "appwrite", `DROP MATERIALIZED VIEW IF EXISTS public.dr_unfilled`) })
	name := takeBackup(t, eng, cfg, dests)

	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil || !rep.Passed {
		t.Fatalf("drill failed (%v): %v", rep.Failed, err)
	}
	want := append(Checks(), QueryPrefix+"users")
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.Name)
		if c.Skipped && c.Name != CheckScan {
			t.Errorf("check %s was skipped: %s", c.Name, c.Detail)
		}
		switch c.Name {
		case CheckTables:
			var rows int64
			for _, n := range teststack.SeedPostgresRows() {
				rows += int64(n)
			}
			if c.Figures["tables"] != int64(len(teststack.SeedPostgresRows())) || c.Figures["rows"] != rows {
				t.Errorf("tables check figures %v, want %d tables, %d rows", c.Figures, len(teststack.SeedPostgresRows()), rows)
			}
		case CheckCheckTable:
			// The test image carries amcheck: the indexes were checked.
			if !strings.Contains(c.Detail, "amcheck") || c.Figures["indexes"] == 0 {
				t.Errorf("check-table did not run amcheck: %s %v", c.Detail, c.Figures)
			}
		case CheckViews:
			if c.Figures["views"] != 2 || c.Figures["unpopulated"] != 1 || !strings.Contains(c.Detail, "appwrite.public.dr_unfilled") {
				t.Errorf("views check: %s %v", c.Detail, c.Figures)
			}
		case CheckObjects:
			// Two functions, a procedure and a trigger.
			if c.Figures["objects"] != 4 {
				t.Errorf("objects check saw %d objects, want 4: %s", c.Figures["objects"], c.Detail)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("checks %v, want %v", got, want)
	}
	if rep.RTOSeconds <= 0 || rep.RTOSeconds > rep.DurationSeconds {
		t.Errorf("RTO %.2fs, whole drill %.2fs", rep.RTOSeconds, rep.DurationSeconds)
	}
	if rep.Image == "" || !strings.HasPrefix(rep.ServerVersion, "15") {
		t.Errorf("image %q, server version %q", rep.Image, rep.ServerVersion)
	}
	assertNothingLeft(t, eng, cfg)

	reports := readReports(t, cfg, name)
	if len(reports) != 1 || !reports[0].Passed {
		t.Fatalf("reports beside the backup: %+v", reports)
	}
	if sum, ok := reports[0].Checksums["appwrite.public._1_users"]; !ok || sum == 0 {
		t.Errorf("the report's checksum of appwrite.public._1_users is %d (recorded: %v)", sum, ok)
	}
	if _, ok := reports[0].Checksums["appwrite.public.active_sessions"]; ok {
		t.Error("the report holds a checksum of a view")
	}
	// No value of the .env may reach the report.
	env, err := os.ReadFile(s.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	live, _ := ParseEnv(env)
	data, _ := json.Marshal(reports[0])
	for k, v := range live {
		if k == "_APP_DB_SCHEMA" {
			continue // the database's name: the checksums are keyed by it
		}
		if len(v) >= 8 && bytes.Contains(data, []byte(v)) {
			t.Errorf("the report holds the value of %s", k)
		}
	}
}

// A dump that does not import whole fails the import check, naming why,
// whether psql stops on it or takes it without a word.
func TestPostgresDamagedDumpFailsTheImport(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dump []byte) []byte
		want string
	}{
		{
			// Cut inside a COPY's rows: psql ends the COPY at the end of
			// its input and exits 0; the missing trailer tells.
			name: "cut short",
			edit: func(t *testing.T, dump []byte) []byte {
				i := bytes.Index(dump, []byte(`COPY "public"."_1_users"`))
				if i < 0 {
					t.Fatal("the dump has no COPY of _1_users")
				}
				// After the COPY line and five whole rows.
				end := i
				for range 6 {
					end += bytes.IndexByte(dump[end:], '\n') + 1
				}
				return dump[:end]
			},
			want: "cut short",
		},
		{
			// A statement the server refuses: psql stops there.
			name: "damaged statement",
			edit: func(t *testing.T, dump []byte) []byte {
				i := bytes.Index(dump, []byte(`CREATE TABLE "public"."_1_users"`))
				if i < 0 {
					t.Fatal("the dump has no CREATE TABLE _1_users")
				}
				return slices.Concat(dump[:i], []byte("CREAT TABLE broken (id int);\n"), dump[i:])
			},
			want: "syntax error",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, dests := setupPostgres(t)
			eng := teststack.Engine(t)
			name := takeBackup(t, eng, cfg, dests)
			rewriteBackup(t, cfg, name, func(_ *archive.Manifest, dump []byte) []byte { return tc.edit(t, dump) })
			rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
			assertFailedOn(t, rep, err, CheckImport)
			for _, c := range rep.Checks {
				if c.Name == CheckImport && !strings.Contains(c.Detail, tc.want) {
					t.Errorf("the import check says %q, want it to say %q", c.Detail, tc.want)
				}
				if c.Name == CheckTables && !c.Skipped {
					t.Errorf("tables check ran after a failed import: %+v", c)
				}
			}
			if rep.RTOSeconds != 0 {
				t.Errorf("a failed import has an RTO of %.1fs", rep.RTOSeconds)
			}
			assertNothingLeft(t, eng, cfg)
		})
	}
}

func TestPostgresManifestClaimingRowsTheDumpLacksFailsTheTablesCheck(t *testing.T) {
	teststack.Extended(t)
	_, cfg, dests := setupPostgres(t)
	eng := teststack.Engine(t)
	name := takeBackup(t, eng, cfg, dests)
	rewriteBackup(t, cfg, name, func(m *archive.Manifest, dump []byte) []byte {
		for i, tb := range m.Database.Tables {
			if tb.Name == "public._1_users" {
				m.Database.Tables[i].Rows += 3
				return dump
			}
		}
		t.Fatal("the manifest has no public._1_users")
		return dump
	})
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	assertFailedOn(t, rep, err, CheckTables)
	for _, c := range rep.Checks {
		if c.Name == CheckTables && !strings.Contains(c.Detail, "appwrite.public._1_users has 1000 rows, the backup 1003") {
			t.Errorf("tables check: %s", c.Detail)
		}
	}
	assertNothingLeft(t, eng, cfg)
}

// An interrupted drill removes its container; what a killed one left is
// removed by dr drill cleanup, PostgreSQL's as MariaDB's.
func TestPostgresDrillLeavesNothingBehind(t *testing.T) {
	teststack.Extended(t)
	_, cfg, dests := setupPostgres(t)
	eng := teststack.Engine(t)
	name := takeBackup(t, eng, cfg, dests)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := drillNow(t, ctx, &cancellingEngine{Client: eng, cancel: cancel, after: 32 << 10}, cfg, dests, name)
	if err == nil || rep.Passed {
		t.Fatalf("an interrupted drill passed: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the import never reached the cancelling reader")
	}
	assertNothingLeft(t, eng, cfg)

	// What a drill killed with SIGKILL leaves: a labelled PostgreSQL
	// container with its data volume.
	id, err := eng.RunThrowaway(context.Background(), engine.Throwaway{
		Image:   teststack.PostgresImage(t),
		Env:     []string{"POSTGRES_PASSWORD=x"},
		Labels:  map[string]string{engine.LabelDrill: name, LabelOwner: Owner(cfg.StateDir)},
		DataDir: pgDataDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.RemoveThrowaway(context.Background(), id) })
	// The image's own data volume, nested in the drill's, is anonymous
	// and unlabelled: it must go with the container.
	out, err := exec.Command("docker", "inspect", "-f", `{{range .Mounts}}{{.Name}} {{end}}`, id).Output()
	if err != nil {
		t.Fatal(err)
	}
	mounts := strings.Fields(string(out))
	if len(mounts) != 2 {
		t.Errorf("the drill container mounts %v, want its data volume and the image's", mounts)
	}
	c, v, err := Cleanup(context.Background(), eng, cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	// Its data volume goes with it (an anonymous volume of the
	// container), or after it, labelled.
	if len(c) != 1 {
		t.Errorf("cleanup removed containers %v and volumes %v, want the one container", c, v)
	}
	assertNothingLeft(t, eng, cfg)
	for _, m := range mounts {
		if exec.Command("docker", "volume", "inspect", m).Run() == nil {
			t.Errorf("volume %s of the drill container is still there", m)
		}
	}
}

// noAmcheckEngine answers the drill's question for amcheck as an image
// without it would.
type noAmcheckEngine struct{ *engine.Client }

func (e noAmcheckEngine) Exec(ctx context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if slices.ContainsFunc(opts.Cmd, func(a string) bool { return strings.Contains(a, "pg_available_extensions") }) {
		return &engine.ExecResult{}, nil
	}
	return e.Client.Exec(ctx, id, opts)
}

// Without amcheck, check-table reads every row instead, and says so.
func TestPostgresWithoutAmcheckReadsEveryTable(t *testing.T) {
	teststack.Extended(t)
	_, cfg, dests := setupPostgres(t)
	eng := teststack.Engine(t)
	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), noAmcheckEngine{eng}, cfg, dests, name)
	if err != nil || !rep.Passed {
		t.Fatalf("drill failed (%v): %v", rep.Failed, err)
	}
	for _, c := range rep.Checks {
		if c.Name == CheckCheckTable && (!strings.Contains(c.Detail, "amcheck is not available") || c.Figures["tables"] != int64(len(teststack.SeedPostgresRows()))) {
			t.Errorf("check-table without amcheck: %s %v", c.Detail, c.Figures)
		}
	}
	assertNothingLeft(t, eng, cfg)
}

// TestPostgresPartitionedTableDrills: pg_dump lists a partitioned table
// as a table with no rows of its own, its rows under each partition; the
// drill's tables check finds it with none, and amcheck checks the
// partitions' indexes (a partitioned index is not an index amcheck takes).
func TestPostgresPartitionedTableDrills(t *testing.T) {
	teststack.Extended(t)
	s, cfg, dests := setupPostgres(t)
	eng := teststack.Engine(t)
	s.PSQL(t, "appwrite", `CREATE TABLE public.dr_stats (id bigint, day date NOT NULL, n int, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE TABLE public.dr_stats_2024 PARTITION OF public.dr_stats FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.dr_stats_2025 PARTITION OF public.dr_stats FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO public.dr_stats SELECT g, date '2024-06-01' + g * 5, g FROM generate_series(1, 100) g;`)
	t.Cleanup(func() { s.PSQL(t, "appwrite", `DROP TABLE IF EXISTS public.dr_stats`) })
	name := takeBackup(t, eng, cfg, dests)
	rep, err := drillNow(t, context.Background(), eng, cfg, dests, name)
	if err != nil || !rep.Passed {
		var failed []string
		for _, c := range rep.Checks {
			if !c.Passed && !c.Skipped {
				failed = append(failed, c.Name+": "+c.Detail)
			}
		}
		t.Fatalf("drill of a backup with a partitioned table failed (%v): %q", err, failed)
	}
}
