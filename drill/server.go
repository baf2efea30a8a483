package drill

import (
	"context"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore"
)

// dbServer is the drill's throwaway database server: what differs between
// the kinds of database a backup holds. The check methods add their
// check (or checks) to the report; the rest of a drill (the archive, the
// disk, the volumes, the scan, the .env, the report) is the same for
// every kind.
type dbServer interface {
	ready(ctx context.Context) error
	// version is the server's version, "" when it does not say.
	version(ctx context.Context) string
	// importer streams the backup's dump chunks into the server.
	importer(ctx context.Context) dumpImporter
	checkTables(ctx context.Context)
	// checkHealth is the check-table check: the server's own integrity
	// check of what was imported.
	checkHealth(ctx context.Context)
	checkViews(ctx context.Context)
	checkObjects(ctx context.Context)
	recordChecksums(ctx context.Context)
	// query runs one of drill.queries.
	query(ctx context.Context, sql string) ([][]string, error)
}

// dumpImporter is restore.DumpImport's shape: chunks in, each verified by
// the archive reader before it reaches the server.
type dumpImporter interface {
	Active() bool
	Chunk(ctx context.Context, item *archive.Item, ar *archive.Reader) error
	Finish() error
	Abort(err error)
	Close()
	Chunks() int
}

// flavor is how a drill starts and opens the throwaway container of one
// database kind.
type flavor struct {
	// env is the container's environment: the image's contract for the
	// generated superuser password.
	env func(password string) []string
	// dataDir gets the container's anonymous, labelled data volume.
	dataDir string
	// df measures the free disk where the server keeps its data.
	df []string
	// checking says what the checks look at, for the terminal.
	checking string
	// imported is the import check's detail when it passed.
	imported string
	open     func(d *driller, id string) dbServer
}

// flavorOf is the flavor of the manifest's database kind; manifests
// older than the kind field are MariaDB's.
func flavorOf(kind string) flavor {
	if dbkind.IsPostgres(kind) {
		return postgresFlavor
	}
	return flavor{
		// Both names: the official MariaDB and MySQL images' contracts.
		env:      func(pw string) []string { return []string{"MARIADB_ROOT_PASSWORD=" + pw, "MYSQL_ROOT_PASSWORD=" + pw} },
		dataDir:  dataDir,
		df:       []string{"df", "-Pk", dataDir},
		checking: "tables, views, triggers, routines, events",
		imported: "imported through dr restore's chunk-verified path",
		open: func(d *driller, id string) dbServer {
			return &mariadbServer{d: d, srv: mariadb.New(d.eng, id).WithLogger(d.log)}
		},
	}
}

// mariadbServer is a MariaDB or MySQL drill container.
type mariadbServer struct {
	d   *driller
	srv *mariadb.Server
}

func (m *mariadbServer) ready(ctx context.Context) error { return m.srv.Ready(ctx) }

func (m *mariadbServer) version(ctx context.Context) string {
	if v, err := m.srv.Query(ctx, "SELECT VERSION()"); err == nil && len(v) > 0 && len(v[0]) > 0 {
		return v[0][0]
	}
	return ""
}

func (m *mariadbServer) importer(context.Context) dumpImporter {
	imp := restore.NewDumpImport(m.srv, m.d.chosen.Manifest.Database)
	imp.Connections = m.d.cfg.Restore.ImportConnections
	return imp
}

func (m *mariadbServer) checkTables(ctx context.Context)     { m.d.checkTables(ctx, m.srv) }
func (m *mariadbServer) checkHealth(ctx context.Context)     { m.d.checkTableHealth(ctx, m.srv) }
func (m *mariadbServer) checkViews(ctx context.Context)      { m.d.checkViews(ctx, m.srv) }
func (m *mariadbServer) checkObjects(ctx context.Context)    { m.d.checkObjects(ctx, m.srv) }
func (m *mariadbServer) recordChecksums(ctx context.Context) { m.d.recordChecksums(ctx, m.srv) }

func (m *mariadbServer) query(ctx context.Context, sql string) ([][]string, error) {
	return m.srv.Query(ctx, sql)
}
