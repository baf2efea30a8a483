package drill

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/postgres"
	"github.com/appwrite-dr/dr/restore"
)

// pgDataDir gets the drill's labelled data volume: the official postgres
// images keep their data below it, up to 17 in /var/lib/postgresql/data
// (PGDATA, and a volume the image declares, which the engine nests in
// this one and removes with the container), from 18 on in
// /var/lib/postgresql/<major>/docker, where 18's entrypoint refuses a
// mount at /var/lib/postgresql/data.
const pgDataDir = "/var/lib/postgresql"

// amcheck is the contrib extension whose bt_index_check the drill runs on
// every btree index.
const amcheck = "amcheck"

var postgresFlavor = flavor{
	// The official image's contract: the superuser (postgres, by
	// default) gets this password; the socket trusts local clients, and
	// dr's clients read the password from the container's own
	// environment all the same.
	env:      func(pw string) []string { return []string{"POSTGRES_PASSWORD=" + pw} },
	dataDir:  pgDataDir,
	df:       []string{"sh", "-c", `exec df -Pk "${PGDATA:-` + pgDataDir + `/data}"`},
	checking: "tables, indexes (amcheck), views, functions, procedures, triggers",
	imported: "imported with psql, stopping at the first error, each chunk verified against the manifest before it reached the server and every database's completion trailer seen",
	open: func(d *driller, id string) dbServer {
		return &postgresServer{d: d, srv: postgres.New(d.eng, id)}
	},
}

// postgresServer is a PostgreSQL drill container.
type postgresServer struct {
	d   *driller
	srv *postgres.Server
}

func (p *postgresServer) db() *archive.Database { return p.d.chosen.Manifest.Database }

func (p *postgresServer) ready(ctx context.Context) error { return p.srv.Ready(ctx) }

func (p *postgresServer) version(ctx context.Context) string {
	v, err := p.srv.Setting(ctx, "server_version")
	if err != nil {
		return ""
	}
	return v
}

// importer is restore's own PostgreSQL import (chunks verified before
// the server sees them, the roles created, every completion trailer
// required), so that a drill proves what a restore does; before its
// first byte the throwaway server stops syncing.
func (p *postgresServer) importer(ctx context.Context) dumpImporter {
	imp := restore.NewPostgresImport(p.srv, p.db())
	imp.BeforeFirst = func() error {
		if err := p.srv.ExecAutocommit(ctx, "postgres", throwawaySettings); err != nil {
			// Only slower: the import does not depend on it.
			p.d.log.Warn("the drill database keeps fsync on", "err", err)
		}
		return nil
	}
	return imp
}

// throwawaySettings make the import faster: what a crash of the
// throwaway server would lose is nothing anyone needs.
const throwawaySettings = `ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
`

// tablesByDatabase lists the manifest's plain tables (views: false) or
// views (true) by database, in the manifest's order.
func tablesByDatabase(db *archive.Database, views bool) map[string][]string {
	out := map[string][]string{}
	for _, t := range db.Tables {
		if t.View == views {
			out[t.Database] = append(out[t.Database], t.Name)
		}
	}
	return out
}

func (p *postgresServer) checkTables(ctx context.Context) {
	db := p.db()
	counts := map[string]int64{}
	byDB := tablesByDatabase(db, false)
	for _, name := range slices.Sorted(maps.Keys(byDB)) {
		got, err := p.srv.RowCounts(ctx, name, byDB[name])
		if err != nil {
			p.d.add(Check{Name: CheckTables, Detail: err.Error()})
			return
		}
		for t, n := range got {
			counts[name+"."+t] = n
		}
	}
	p.d.add(tablesVerdict(db.Tables, counts))
}

// tablesVerdict compares the manifest's row counts with those counted
// after the import, keyed "db.table" ("db.schema.table" on PostgreSQL); a
// table missing from counts is missing from the server.
func tablesVerdict(tables []archive.Table, counts map[string]int64) Check {
	var checked, rows int64
	for _, t := range tables {
		if !t.View {
			checked++
			rows += t.Rows
		}
	}
	wrong := archive.WrongRows(tables, counts)
	c := Check{Name: CheckTables, Figures: map[string]int64{"tables": checked}}
	if len(wrong) > 0 {
		c.Detail = strings.Join(wrong, "; ")
		return c
	}
	c.Figures["rows"] = rows
	c.Passed = true
	c.Detail = fmt.Sprintf("%d tables, %d rows, as the manifest says", checked, rows)
	return c
}

// checkHealth is PostgreSQL's check-table: amcheck's bt_index_check on
// every btree index of every database the backup holds. PostgreSQL has no
// CHECK TABLE; a table's heap has no checker before amcheck's
// verify_heapam (14), and a btree that disagrees with itself is what a
// broken import or a bad disk leaves. An image without amcheck gets
// every row of every table read whole instead, and the detail says
// which was done.
func (p *postgresServer) checkHealth(ctx context.Context) {
	db := p.db()
	c := Check{Name: CheckCheckTable}
	defer func() { p.d.add(c) }()
	available, err := p.srv.ExtensionAvailable(ctx, amcheck)
	if err != nil {
		c.Detail = err.Error()
		return
	}
	dbs := slices.Clone(db.Databases)
	if !available {
		byDB := tablesByDatabase(db, false)
		var n int
		for _, name := range dbs {
			if err := p.srv.ReadTables(ctx, name, byDB[name]); err != nil {
				c.Detail = err.Error()
				return
			}
			n += len(byDB[name])
		}
		c.Passed, c.Figures = true, map[string]int64{"tables": int64(n)}
		c.Detail = healthDetail(false, n, len(dbs))
		return
	}
	var n int
	for _, name := range dbs {
		k, err := p.srv.CheckIndexes(ctx, name)
		if err != nil {
			c.Detail = err.Error()
			return
		}
		n += k
	}
	c.Passed, c.Figures = true, map[string]int64{"indexes": int64(n), "databases": int64(len(dbs))}
	c.Detail = healthDetail(true, n, len(dbs))
}

// healthDetail says which integrity check ran: amcheck on n indexes, or,
// without amcheck, a full read of n tables.
func healthDetail(amcheck bool, n, dbs int) string {
	if amcheck {
		return fmt.Sprintf("amcheck: bt_index_check passed on all %d btree indexes of %d database(s)", n, dbs)
	}
	return fmt.Sprintf("amcheck is not available in the image: every row of all %d tables was read whole instead (heap and TOAST); indexes were not checked", n)
}

func (p *postgresServer) checkViews(ctx context.Context) {
	byDB := tablesByDatabase(p.db(), true)
	var want int
	have := map[string]bool{}
	bad := map[string]string{}
	var unpopulated []string
	for _, name := range slices.Sorted(maps.Keys(byDB)) {
		want += len(byDB[name])
		rels, err := p.srv.Relations(ctx, name)
		if err != nil {
			p.d.add(Check{Name: CheckViews, Detail: err.Error()})
			return
		}
		var present []string
		for _, r := range rels {
			if r.View && slices.Contains(byDB[name], r.Name) {
				have[name+"."+r.Name] = true
				present = append(present, r.Name)
			}
		}
		failed, unfilled := p.srv.SelectViews(ctx, name, present)
		for v, why := range failed {
			bad[name+"."+v] = why
		}
		for _, v := range unfilled {
			unpopulated = append(unpopulated, name+"."+v)
		}
	}
	p.d.add(viewsVerdict(byDB, have, bad, unpopulated))
}

// viewsVerdict: every view of the manifest (by database) must exist
// (have, by "db.schema.view") and answer a SELECT (bad holds why one did
// not), but a materialized view made WITH NO DATA (unpopulated), which
// is only there.
func viewsVerdict(want map[string][]string, have map[string]bool, bad map[string]string, unpopulated []string) Check {
	var n int
	var problems []string
	for _, db := range slices.Sorted(maps.Keys(want)) {
		for _, v := range want[db] {
			n++
			key := db + "." + v
			switch {
			case !have[key]:
				problems = append(problems, key+" is missing")
			case bad[key] != "":
				problems = append(problems, key+" cannot be selected from: "+bad[key])
			}
		}
	}
	c := Check{Name: CheckViews, Figures: map[string]int64{"views": int64(n)}}
	switch {
	case n == 0:
		c.Passed, c.Skipped, c.Detail = true, true, "the backup holds no view"
	case len(problems) > 0:
		c.Detail = strings.Join(problems, "; ")
	case len(unpopulated) > 0:
		c.Figures["unpopulated"] = int64(len(unpopulated))
		c.Passed = true
		c.Detail = fmt.Sprintf("all %d views present, %d selectable; not selected from: %d materialized view(s) made WITH NO DATA, which cannot be on the stack either: %s",
			n, n-len(unpopulated), len(unpopulated), strings.Join(unpopulated, ", "))
	default:
		c.Passed, c.Detail = true, fmt.Sprintf("all %d views present and selectable", n)
	}
	return c
}

func (p *postgresServer) checkObjects(ctx context.Context) {
	want := p.db().Objects
	c := Check{Name: CheckObjects, Figures: map[string]int64{"objects": int64(len(want))}}
	if len(want) == 0 {
		c.Passed, c.Skipped, c.Detail = true, true, "the backup records no function, procedure or trigger"
		p.d.add(c)
		return
	}
	var dbs []string
	for _, o := range want {
		if !slices.Contains(dbs, o.Database) {
			dbs = append(dbs, o.Database)
		}
	}
	var rows [][]string
	for _, name := range dbs {
		objs, err := p.srv.Objects(ctx, name)
		if err != nil {
			c.Detail = err.Error()
			p.d.add(c)
			return
		}
		for _, o := range objs {
			rows = append(rows, []string{name, o.Kind, o.Name})
		}
	}
	c.Passed, c.Detail = objectsVerdictOf(want, rows, "functions, procedures and triggers")
	p.d.add(c)
}

// recordChecksums keeps a sum of every imported table's rows (see
// postgres.Server.Checksums), by "db.schema.table", for dr diff --live
// --checksum, as the MariaDB drill keeps CHECKSUM TABLE's. Not a check: a
// failure leaves the report without sums, and the log says so.
func (p *postgresServer) recordChecksums(ctx context.Context) {
	byDB := tablesByDatabase(p.db(), false)
	all := map[string]uint64{}
	for _, name := range slices.Sorted(maps.Keys(byDB)) {
		sums, err := p.srv.Checksums(ctx, name, byDB[name])
		if err != nil {
			p.d.log.Warn("the drill report holds no table checksums (dr diff --live --checksum cannot use it)", "err", err)
			return
		}
		for k, v := range sums {
			all[k] = v
		}
	}
	p.d.rep.Checksums = all
}

// query runs one of drill.queries in the backup's first database (by
// name): a PostgreSQL session sees one database only.
func (p *postgresServer) query(ctx context.Context, sql string) ([][]string, error) {
	dbs := p.db().Databases
	if len(dbs) == 0 {
		return nil, fmt.Errorf("the backup names no database to run the query in")
	}
	db := slices.Min(dbs)
	rows, err := p.srv.Query(ctx, db, sql)
	if err != nil {
		return nil, fmt.Errorf("in database %s: %w", db, err)
	}
	return rows, nil
}
