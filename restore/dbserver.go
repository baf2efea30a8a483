package restore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/postgres"
)

// dbServer is the database server a restore imports into, behind the few
// operations whose SQL differs between the kinds dr knows: the safety net
// (moving aside, putting back, the safety dump), the import, and the row
// check. The executor, the undo and dr aside decide the same way whatever
// the kind; mariaServer and pgServer say how.
type dbServer interface {
	// inspectAside looks at the databases the import replaces: what
	// moving aside would move and whether it can (see asidePrep).
	inspectAside(ctx context.Context, dbs []string, dumpSize int64) (*asidePrep, error)
	// moveAside moves prep's databases aside under names made of stamp;
	// a failure is an *asideMoveError.
	moveAside(ctx context.Context, prep *asidePrep, stamp, backup string) (*AsideGroup, error)
	// rollbackAside puts back what a failed moveAside did.
	rollbackAside(ctx context.Context, g *AsideGroup) error
	// loadAside reads the named aside schemas or databases; the ones gone
	// are left out.
	loadAside(ctx context.Context, names []string) (*AsideGroup, error)
	// listAside is every aside group on the server, newest first; only
	// counted, each schema's Held and Tables are filled in where that
	// costs more than the listing (PostgreSQL: an exec a database).
	listAside(ctx context.Context, counted bool) ([]*AsideGroup, error)
	// putBack makes the databases as they were before g was moved aside
	// (see putBack); replace drops what the restore imported.
	putBack(ctx context.Context, g *AsideGroup, replace bool) error
	// dropAside drops aside schemas or databases by name.
	dropAside(ctx context.Context, names []string) error
	// newImport prepares the import of the backup's dump.
	newImport(db *archive.Database) *DumpImport
	// compareRows counts the rows of every table of the dump (see
	// CompareRows).
	compareRows(ctx context.Context, db *archive.Database) (wrong []string, checked int, err error)
	// safetyDump writes the server's databases as they are into dir (see
	// writeSafetyDump); "" when the server holds none to save.
	safetyDump(ctx context.Context, log *slog.Logger, dir, base string) (string, error)
	// byHandImport is the command that imports a dump file by hand.
	byHandImport(container string) string
	// asideWhat names what moving aside moves, for the operator.
	asideWhat() string
	// asideName is the name database db goes aside under.
	asideName(db, stamp string) string
}

// newDBServer is the server of the kind (a manifest's or a config's) in
// the container.
func newDBServer(eng mariadb.Execer, kind, container string, log *slog.Logger) dbServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dbkind.IsPostgres(kind) {
		return pgServer{srv: postgres.New(eng, container)}
	}
	return mariaServer{mariadb.New(eng, container).WithLogger(log)}
}

// server is the database server the plan restores into.
func (x *executor) server() dbServer {
	if x.db == nil {
		x.db = newDBServer(x.eng, x.plan.Kind, x.plan.DBContainer, x.log)
	}
	return x.db
}

// mariaServer is a MariaDB or MySQL server: its safety net moves tables
// into aside schemas (see aside.go).
type mariaServer struct{ *mariadb.Server }

func (m mariaServer) inspectAside(ctx context.Context, dbs []string, dumpSize int64) (*asidePrep, error) {
	return inspectAside(ctx, m, dbs, dumpSize)
}

func (m mariaServer) moveAside(ctx context.Context, prep *asidePrep, stamp, backup string) (*AsideGroup, error) {
	return moveAside(ctx, m, prep, stamp, backup)
}

func (m mariaServer) rollbackAside(ctx context.Context, g *AsideGroup) error {
	return rollbackAside(ctx, m, g)
}

func (m mariaServer) loadAside(ctx context.Context, names []string) (*AsideGroup, error) {
	return loadAside(ctx, m, names)
}

func (m mariaServer) listAside(ctx context.Context, _ bool) ([]*AsideGroup, error) {
	return listAside(ctx, m)
}

func (m mariaServer) putBack(ctx context.Context, g *AsideGroup, replace bool) error {
	return putBack(ctx, m, g, replace)
}

func (m mariaServer) dropAside(ctx context.Context, names []string) error {
	return dropAside(ctx, m, names)
}

func (m mariaServer) newImport(db *archive.Database) *DumpImport { return NewDumpImport(m.Server, db) }

func (m mariaServer) compareRows(ctx context.Context, db *archive.Database) ([]string, int, error) {
	return CompareRows(ctx, m.Server, db)
}

func (m mariaServer) safetyDump(ctx context.Context, log *slog.Logger, dir, base string) (string, error) {
	info, err := m.Inspect(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("inspecting the database: %w", err)
	}
	// As a backup does: what the dump cannot hold is left out, not a
	// reason to refuse the restore, and said.
	for _, v := range info.BrokenViews {
		log.Warn("the safety dump leaves out a view that cannot be opened; its definition is not saved", "view", v.Database+"."+v.Name, "problem", v.Problem)
	}
	if why := info.HistoryLeftOut(); why != "" {
		log.Warn("the safety dump holds the current rows only of the system-versioned tables", "tables", info.Versioned, "why", why)
	}
	return writeSafetyDump(dir, base, "-- Dump completed", func(w io.Writer) error {
		return m.Dump(ctx, info.DumpArgs(false), w)
	})
}

func (mariaServer) byHandImport(container string) string { return mariadb.ByHandImport(container) }

func (mariaServer) asideWhat() string { return "tables" }

func (mariaServer) asideName(db, stamp string) string { return asideName(db, stamp) }

// ServerKind is the kind of the stack's database server in container c:
// stack.database.kind, or, with auto, what the container's image and
// environment variables' names say (see dbkind.Resolve).
func ServerKind(ctx context.Context, eng mariadb.Execer, cfg *config.Config, c engine.Container) (string, error) {
	var keys []string
	// The engine's container inspection, where it has one: fakes and
	// wrappers without it fall back to the image's name.
	if k, ok := eng.(interface {
		EnvKeys(ctx context.Context, id string) ([]string, error)
	}); ok {
		var err error
		if keys, err = k.EnvKeys(ctx, c.ID); err != nil {
			return "", fmt.Errorf("inspecting the database container: %w", err)
		}
	}
	return dbkind.Resolve(cfg.Stack.Database.Kind, c.Image, keys, envAdapter(cfg.Stack.Dir))
}

// envAdapter is the stack's _APP_DB_ADAPTER, "" when its .env has none
// (or there is no .env): only the name of the adapter is read.
func envAdapter(dir string) string {
	if dir == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(dir, ".env"))
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "_APP_DB_ADAPTER="); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// sameFamily says whether a dump of kind from can be imported into a
// server of kind to: MariaDB and MySQL read each other's dumps as dr
// makes them; PostgreSQL reads only its own.
func sameFamily(from, to string) bool {
	return dbkind.IsPostgres(from) == dbkind.IsPostgres(to)
}

// DatabaseReady says whether the server of the kind in the container
// answers queries.
func DatabaseReady(ctx context.Context, eng mariadb.Execer, kind, container string) error {
	if dbkind.IsPostgres(kind) {
		return postgres.New(eng, container).Ready(ctx)
	}
	return mariadb.New(eng, container).Ready(ctx)
}

// CompareServerRows is CompareRows on the server of the kind in the
// container.
func CompareServerRows(ctx context.Context, eng mariadb.Execer, kind, container string, db *archive.Database) (wrong []string, checked int, err error) {
	return newDBServer(eng, kind, container, nil).compareRows(ctx, db)
}

// manifestKind is the kind of the backup's database: a manifest written
// before kinds were recorded is MariaDB's.
func manifestKind(db *archive.Database) string {
	if db == nil || db.Kind == "" {
		return dbkind.MariaDB
	}
	return strings.ToLower(db.Kind)
}
