// Package mariadb runs the MariaDB (or MySQL) client tools inside the
// database container, through the engine's exec: inspect, dump, import,
// count rows. Credentials come from the container's own environment and
// never pass through dr (see credentialPrelude).
package mariadb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/excerpt"
)

// SystemDatabases are never part of "all databases": they belong to the
// server, not to the stack, and importing them elsewhere breaks that server.
var SystemDatabases = []string{"mysql", "sys", "information_schema", "performance_schema"}

// AsidePrefix starts the schemas a restore moves the tables it replaces
// into (restore's safety net): never part of "all databases" either.
const AsidePrefix = "dr_aside_"

// MaxAllowedPacket is the packet limit dr gives the dump and import
// clients, and the server for the time of an import: the largest the
// clients accept. The defaults (16 MiB; Debian's mysqldump.cnf sets 16M
// too) make a row over 16 MiB fail the dump, or, as a hex INSERT twice its
// size, fail the import half-way with "server has gone away".
const MaxAllowedPacket = "1G"

// maxAllowedPacketBytes is MaxAllowedPacket in bytes, for SET GLOBAL.
const maxAllowedPacketBytes = 1 << 30

// DumpOptions are the mariadb-dump flags of every backup: one consistent
// InnoDB snapshot, rows streamed, every object kind, binary-safe text, and
// rows as large as the server can hold.
var DumpOptions = []string{
	"--max-allowed-packet=" + MaxAllowedPacket,
	"--single-transaction",
	"--quick",
	"--routines",
	"--events",
	"--triggers",
	"--hex-blob",
	"--add-drop-database",
	"--default-character-set=utf8mb4",
}

// credentialPrelude picks the credentials from the container's own
// environment and hands them to the client through MYSQL_PWD, so that no
// password passes through dr, its logs, or a process list. The variable
// names are the official images' (and Appwrite's compose file's) contract.
const credentialPrelude = `set -e
if [ -n "${MARIADB_ROOT_PASSWORD:-}" ]; then DR_USER=root; MYSQL_PWD="$MARIADB_ROOT_PASSWORD"
elif [ -n "${MYSQL_ROOT_PASSWORD:-}" ]; then DR_USER=root; MYSQL_PWD="$MYSQL_ROOT_PASSWORD"
elif [ -n "${MARIADB_USER:-}" ]; then DR_USER="$MARIADB_USER"; MYSQL_PWD="${MARIADB_PASSWORD:-}"
elif [ -n "${MYSQL_USER:-}" ]; then DR_USER="$MYSQL_USER"; MYSQL_PWD="${MYSQL_PASSWORD:-}"
else echo "dr: the database container sets none of MARIADB_ROOT_PASSWORD, MYSQL_ROOT_PASSWORD, MARIADB_USER or MYSQL_USER; dr reads the credentials from there" >&2; exit 64
fi
export MYSQL_PWD
pick() { for c in "$@"; do if command -v "$c" >/dev/null 2>&1; then echo "$c"; return 0; fi; done; echo "dr: none of $* is installed in the database container" >&2; exit 65; }
`

// dumpScript runs the dump client with the arguments dr passes as "$@".
const dumpScript = credentialPrelude + `DR_CLIENT=$(pick mariadb-dump mysqldump)
exec "$DR_CLIENT" --user="$DR_USER" "$@"
`

// queryCommand runs the SQL in $1 and prints tab-separated rows.
const queryCommand = `DR_CLIENT=$(pick mariadb mysql)
exec "$DR_CLIENT" --user="$DR_USER" --batch --skip-column-names --default-character-set=utf8mb4 -e "$1"
`

// queryScript runs one batch query and prints tab-separated rows.
const queryScript = credentialPrelude + queryCommand

// Execer is the part of the engine the database steps need.
type Execer interface {
	Exec(ctx context.Context, containerID string, opts engine.ExecOptions) (*engine.ExecResult, error)
}

// Server dumps, imports and queries a MariaDB or MySQL server inside its
// container.
type Server struct {
	eng       Execer
	container string
	log       *slog.Logger
}

// New returns the server running in the container.
func New(eng Execer, containerID string) *Server {
	return &Server{eng: eng, container: containerID, log: slog.New(slog.DiscardHandler)}
}

// WithLogger returns a copy of the server that logs what it changes on the
// server (Import's packet limit) to log.
func (m *Server) WithLogger(log *slog.Logger) *Server {
	c := *m
	if log != nil {
		c.log = log
	}
	return &c
}

// Query runs SQL inside the container and returns its rows' fields, as
// the server holds them (see batchRows).
func (m *Server) Query(ctx context.Context, sql string) ([][]string, error) {
	out, err := m.output(ctx, "querying the database", 16<<20, queryScript, "dr-query", sql)
	if err != nil {
		return nil, err
	}
	return batchRows(out), nil
}

// batchRows reads the client's --batch output: a row a line, fields
// split by tabs, each field unescaped. The client escapes the newline,
// tab, NUL and backslash a name or value holds, and nothing else: a
// carriage return stays raw, so a line ends at "\n" alone (reading "\r\n"
// as a line's end would cut the "\r" off a name that ends in one). Empty
// lines are skipped.
func batchRows(out string) [][]string {
	var rows [][]string
	for line := range strings.SplitSeq(out, "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		for i, f := range fields {
			fields[i] = unescapeBatch(f)
		}
		rows = append(rows, fields)
	}
	return rows
}

// output runs script (named name, with args) in the container and returns
// at most limit bytes of what it printed; doing says what it was for.
func (m *Server) output(ctx context.Context, doing string, limit int64, script, name string, args ...string) (string, error) {
	var out strings.Builder
	res, err := m.eng.Exec(ctx, m.container, engine.ExecOptions{
		Cmd:    append([]string{"sh", "-c", script, name}, args...),
		Stdout: &limitedWriter{w: &out, n: limit},
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", doing, err)
	}
	if res.ExitCode != 0 {
		res.Stderr = condenseStatements(res.Stderr)
		return "", res.Err(doing)
	}
	return out.String(), nil
}

// unescapeBatch undoes the escaping of a field in the client's --batch
// output (\0, \t, \n and \\).
func unescapeBatch(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '0':
			b.WriteByte(0)
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Info is what the manifest records about the server before the dump.
type Info struct {
	ServerVersion string
	Client        string
	ClientVersion string
	Databases     []string
	Engines       map[string]string // "db.table" -> engine; views are absent
	// Versioned are the system-versioned tables of Databases, as
	// "db.table", sorted.
	Versioned []string
	// ClientDumpsHistory says the dump client has --dump-history (MariaDB
	// 10.11 and later): it can dump a system-versioned table's history,
	// not only its current rows.
	ClientDumpsHistory bool
	// TransactionPrecise are the versioned tables whose row versions are
	// stamped with transaction ids, not times: --dump-history fails the
	// whole dump on one ("Cannot use --dump-history for table … with
	// transaction-precise history").
	TransactionPrecise []string
	// BrokenViews are the views of Databases that cannot be opened (a
	// table, column or function they use is gone, or their definer lacks
	// the rights): the dump client fails on them, so the dump leaves
	// them out.
	BrokenViews []BrokenView
	// views are every view of Databases, for Inspect to check.
	views []TableRef
}

// BrokenView is a view the dump cannot hold, why, and its definition as
// SHOW CREATE VIEW gives it (empty when even that failed).
type BrokenView struct {
	Database   string
	Name       string
	Problem    string
	Definition string
}

// DumpsHistory says whether the dump keeps the history of the
// system-versioned tables: there are some, the client can, and none of
// them is transaction-precise.
func (i *Info) DumpsHistory() bool {
	return len(i.Versioned) > 0 && i.ClientDumpsHistory && len(i.TransactionPrecise) == 0
}

// HistoryLeftOut says why the dump cannot keep the history of the
// system-versioned tables; "" when it keeps it or there are none.
func (i *Info) HistoryLeftOut() string {
	switch {
	case len(i.Versioned) == 0 || i.DumpsHistory():
		return ""
	case !i.ClientDumpsHistory:
		return fmt.Sprintf("the database container's dump client (%s) has no --dump-history, which MariaDB's has since 10.11", strings.TrimSpace(i.Client+" "+i.ClientVersion))
	default:
		return fmt.Sprintf("transaction-precise versioning of %s: mariadb-dump cannot dump its history, and stops on it with --dump-history, so no table's history is dumped",
			strings.Join(i.TransactionPrecise, ", "))
	}
}

// DumpArgs are the client arguments for a dump of what Inspect found: its
// databases, with every row version of the system-versioned tables where
// the client can dump them (without --dump-history a versioned table
// comes back with its current rows only, each with a new row_start), and
// without the views the client would fail on, which would otherwise stop
// the dump of everything else.
func (i *Info) DumpArgs(includeGrants bool) []string {
	var more []string
	if i.DumpsHistory() {
		more = append(more, "--dump-history")
	}
	for _, v := range i.BrokenViews {
		more = append(more, "--ignore-table="+v.Database+"."+v.Name)
	}
	return DumpArgs(i.Databases, includeGrants, more...)
}

// inspectScript prints the dump client's name and version line, then
// inspectSeparator, then the rows of the query passed as $1. Inspect is
// one exec rather than one per question: each exec is a round of engine
// API calls and a client start (some 50 ms), which a small backup feels.
const inspectScript = credentialPrelude + `DR_DUMP=$(pick mariadb-dump mysqldump)
echo "$DR_DUMP"; "$DR_DUMP" --version
if "$DR_DUMP" --help 2>/dev/null | grep -q -e '--dump-history'; then echo "` + historyOption + `"; fi
echo "` + inspectSeparator + `"
` + queryCommand

// inspectSeparator ends the dump client's lines in inspectScript's output.
const inspectSeparator = "--dr-inspect--"

// historyOption is the line inspectScript prints when the dump client
// has --dump-history: asked of the client itself, whatever its version
// says.
const historyOption = "option --dump-history"

// Inspect asks the server for its version, the databases to dump, and the
// engine of every table in them, and finds the dump client.
func (m *Server) Inspect(ctx context.Context, wanted []string) (*Info, error) {
	out, err := m.output(ctx, "inspecting the database server", 64<<20, inspectScript, "dr-inspect", inspectQuery(wanted))
	if err != nil {
		return nil, err
	}
	info, err := parseInspect(out, wanted)
	if err != nil {
		return nil, err
	}
	if len(info.views) > 0 {
		if info.BrokenViews, err = m.brokenViews(ctx, info.views); err != nil {
			return nil, err
		}
	}
	if len(info.Versioned) > 0 {
		if info.TransactionPrecise, err = m.transactionPrecise(ctx, info.Versioned); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// transactionPrecise finds, among the versioned tables ("db.table"), those
// whose ROW START column holds transaction ids (BIGINT UNSIGNED) rather
// than times. Asked only when there are versioned tables: it reads
// columns, which costs more than Inspect's other questions.
func (m *Server) transactionPrecise(ctx context.Context, versioned []string) ([]string, error) {
	pairs := make([]string, len(versioned))
	for i, key := range versioned {
		db, name, _ := strings.Cut(key, ".")
		pairs[i] = "(" + quoteString(db) + "," + quoteString(name) + ")"
	}
	rows, err := m.Query(ctx, "SELECT DISTINCT table_schema, table_name FROM information_schema.columns"+
		" WHERE generation_expression = 'ROW START' AND data_type = 'bigint'"+
		" AND (table_schema, table_name) IN ("+strings.Join(pairs, ",")+") ORDER BY 1, 2")
	if err != nil {
		return nil, fmt.Errorf("reading how the versioned tables are versioned: %w", err)
	}
	var out []string
	for _, r := range rows {
		if len(r) == 2 {
			out = append(out, r[0]+"."+r[1])
		}
	}
	return out, nil
}

// brokenViews asks the server which of the views cannot be opened, and
// for each its definition. CHECK TABLE opens a view as the dump client's
// SHOW FIELDS does, and says why one cannot be, per view; a batch of
// views costs one exec, and a stack without views none.
func (m *Server) brokenViews(ctx context.Context, views []TableRef) ([]BrokenView, error) {
	var broken []BrokenView
	const batch = 50
	for start := 0; start < len(views); start += batch {
		part := views[start:min(start+batch, len(views))]
		names := make([]string, len(part))
		for i, v := range part {
			names[i] = quoteIdent(v.Database) + "." + quoteIdent(v.Name)
		}
		rows, err := m.Query(ctx, "CHECK TABLE "+strings.Join(names, ", "))
		if err != nil {
			return nil, fmt.Errorf("checking the views: %w", err)
		}
		problems := CheckProblems(rows)
		for _, v := range part {
			problem, ok := problems[v.Database+"."+v.Name]
			if !ok {
				continue
			}
			b := BrokenView{Database: v.Database, Name: v.Name, Problem: problem}
			// SHOW CREATE VIEW reads the definition without opening what
			// it uses, so it answers for a broken view too.
			if def, err := m.Query(ctx, "SHOW CREATE VIEW "+quoteIdent(v.Database)+"."+quoteIdent(v.Name)); err != nil {
				m.log.Warn("could not read the definition of a broken view", "view", v.Database+"."+v.Name, "error", err)
			} else if len(def) == 1 && len(def[0]) >= 2 {
				b.Definition = def[0][1]
			}
			broken = append(broken, b)
		}
	}
	return broken, nil
}

// CheckProblems reads CHECK TABLE's rows (Table, Op, Msg_type, Msg_text)
// into each failing table's problems, by "db.table": a table is fine when
// its status row says OK (a note or warning before it is not a failure).
func CheckProblems(rows [][]string) map[string]string {
	problems := map[string]string{}
	for _, r := range rows {
		if len(r) < 4 {
			continue
		}
		table, typ, msg := r[0], strings.ToLower(r[2]), r[3]
		if typ != "error" && (typ != "status" || strings.EqualFold(msg, "OK")) {
			continue
		}
		if p, ok := problems[table]; ok {
			if strings.Contains(p, msg) {
				continue
			}
			msg = p + "; " + msg
		}
		problems[table] = msg
	}
	return problems
}

// inspectQuery asks for the server's version, its databases, and the
// tables of the wanted ones (of every stack database when none is named),
// one row each, tagged by what it is.
func inspectQuery(wanted []string) string {
	tables := "table_schema NOT IN (" + SQLList(SystemDatabases) + ")"
	if len(wanted) > 0 {
		tables = "table_schema IN (" + SQLList(wanted) + ")"
	}
	// Three statements, not one UNION: MySQL refuses to union columns
	// of different collations, which information_schema's can be.
	return "SELECT 'version', VERSION();\n" +
		"SELECT 'schema', schema_name FROM information_schema.schemata;\n" +
		// SYSTEM VERSIONED is MariaDB's own table type for a
		// system-versioned table: one reading of information_schema.tables
		// finds both kinds, and which is which.
		"SELECT 'table', table_schema, table_name, IFNULL(engine,''), table_type FROM information_schema.tables WHERE table_type IN ('BASE TABLE', " + quoteString(systemVersioned) + ") AND " + tables + ";\n" +
		// From VIEWS, not TABLES: listing them opens none of them.
		"SELECT 'view', table_schema, table_name FROM information_schema.views WHERE " + tables + ";"
}

// systemVersioned is information_schema.tables' table_type of a
// system-versioned table.
const systemVersioned = "SYSTEM VERSIONED"

// parseInspect reads inspectScript's output.
func parseInspect(out string, wanted []string) (*Info, error) {
	client, rows, ok := strings.Cut(out, "\n"+inspectSeparator+"\n")
	if !ok {
		return nil, fmt.Errorf("inspecting the database server: unexpected output %q", firstLine(out))
	}
	info := &Info{Engines: map[string]string{}}
	lines := strings.Split(strings.TrimSpace(client), "\n")
	info.Client = lines[0]
	if len(lines) >= 2 {
		info.ClientVersion = strings.TrimSpace(lines[1])
	}
	for _, l := range lines[min(2, len(lines)):] {
		info.ClientDumpsHistory = info.ClientDumpsHistory || l == historyOption
	}
	present := map[string]bool{}
	var all []string
	tables := map[string]string{}
	var versioned []string
	var views []TableRef
	for _, f := range batchRows(rows) {
		switch {
		case f[0] == "version" && len(f) == 2:
			info.ServerVersion = f[1]
		case f[0] == "schema" && len(f) == 2:
			present[f[1]] = true
			if IsStackDatabase(f[1]) {
				all = append(all, f[1])
			}
		case f[0] == "table" && len(f) == 5:
			tables[f[1]+"."+f[2]] = f[3]
			if f[4] == systemVersioned {
				versioned = append(versioned, f[1]+"."+f[2])
			}
		case f[0] == "view" && len(f) == 3:
			views = append(views, TableRef{Database: f[1], Name: f[2]})
		}
	}
	sort.Strings(all)
	if len(wanted) == 0 {
		info.Databases = all
	} else {
		for _, db := range wanted {
			if !present[db] {
				return nil, fmt.Errorf("stack.database.databases names %q, which the server does not have (it has: %s)", db, strings.Join(all, ", "))
			}
		}
		info.Databases = wanted
	}
	if len(info.Databases) == 0 {
		return nil, errors.New("the server has no database besides the system ones: nothing to back up")
	}
	chosen := map[string]bool{}
	for _, db := range info.Databases {
		chosen[db] = true
	}
	for key, eng := range tables {
		if db, _, _ := strings.Cut(key, "."); chosen[db] {
			info.Engines[key] = eng
		}
	}
	for _, key := range versioned {
		if db, _, _ := strings.Cut(key, "."); chosen[db] {
			info.Versioned = append(info.Versioned, key)
		}
	}
	sort.Strings(info.Versioned)
	for _, v := range views {
		if chosen[v.Database] {
			info.views = append(info.views, v)
		}
	}
	return info, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// DumpArgs are the client arguments for the chosen databases, with more
// options after dr's own (see Info.DumpArgs).
func DumpArgs(databases []string, includeGrants bool, more ...string) []string {
	args := append([]string{}, DumpOptions...)
	if includeGrants {
		args = append(args, "--system=users")
	}
	args = append(args, more...)
	args = append(args, "--databases")
	return append(args, databases...)
}

// Dump streams the dump to w. It fails when the client exits non-zero; the
// completion trailer is checked by the caller, which sees the stream.
func (m *Server) Dump(ctx context.Context, args []string, w io.Writer) error {
	res, err := m.eng.Exec(ctx, m.container, engine.ExecOptions{
		Cmd:    append([]string{"sh", "-c", dumpScript, "dr-dump"}, args...),
		Stdout: w,
	})
	if err != nil {
		return engine.ExplainStopped(fmt.Errorf("dumping the database: %w", err), "dump")
	}
	if res.ExitCode != 0 {
		return engine.ExplainStopped(res.Err("dumping the database"), "dump")
	}
	return nil
}

// IsStackDatabase says whether a database on the server belongs to the
// stack: not one of the server's own, and not an aside schema (a
// restore's way back on this server, not part of the stack to back up or
// compare).
func IsStackDatabase(name string) bool {
	return !isSystemDatabase(name) && !strings.HasPrefix(name, AsidePrefix)
}

func isSystemDatabase(name string) bool {
	for _, s := range SystemDatabases {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// SQLList quotes names as SQL string literals for an IN list. The names
// come from the server's own catalogue or the operator's config.
func SQLList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quoteString(n)
	}
	return strings.Join(quoted, ",")
}

// limitedWriter keeps at most n bytes and fails past that, so a query that
// returns far more than expected cannot exhaust memory.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, errors.New("query output is larger than expected")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// importScript feeds its standard input to the client, with any more
// client options dr passes as "$@". --binary-mode keeps "\r\n" and NUL
// bytes inside the dump as they are (the client would otherwise rewrite
// them); DELIMITER still works in it.
const importScript = credentialPrelude + `DR_CLIENT=$(pick mariadb mysql)
exec "$DR_CLIENT" --user="$DR_USER" --max-allowed-packet=` + MaxAllowedPacket + ` --binary-mode --default-character-set=utf8mb4 "$@"
`

// Import runs the dump read from r through the client. It fails when the
// client exits non-zero (the error holds the client's last stderr lines)
// or when r fails; the client is ended on cancel.
//
// The server's own packet limit is raised for the import (see
// RaisePacketLimit) and put back afterwards on every path.
func (m *Server) Import(ctx context.Context, r io.Reader) error {
	putBack := m.RaisePacketLimit(ctx)
	defer putBack()
	return m.importExec(ctx, r, nil)
}

// sessionOptions make the client of one connection of a parallel import
// also print each result's rows, bare and at once, so that the importer
// reads back the marker it sends after each section (and so knows the
// section ran) as soon as the server ran it.
var sessionOptions = []string{"--batch", "--skip-column-names", "--unbuffered"}

// ImportSession runs one connection of a parallel import: SQL read from r
// goes through the client, the rows of its results to out. Unlike Import
// it leaves the server's packet limit alone: the caller raises it once,
// before the first session, with RaisePacketLimit.
func (m *Server) ImportSession(ctx context.Context, r io.Reader, out io.Writer) error {
	return m.importExec(ctx, r, out, sessionOptions...)
}

// importExec runs importScript with the client options given.
func (m *Server) importExec(ctx context.Context, r io.Reader, out io.Writer, options ...string) error {
	res, err := m.eng.Exec(ctx, m.container, engine.ExecOptions{
		Cmd:    append([]string{"sh", "-c", importScript, "dr-import"}, options...),
		Stdin:  r,
		Stdout: out,
	})
	if err != nil {
		return engine.ExplainStopped(fmt.Errorf("importing the dump: %w", err), "import")
	}
	if res.ExitCode != 0 {
		res.Stderr = condenseStatements(res.Stderr)
		return engine.ExplainStopped(res.Err("importing the dump"), "import")
	}
	return nil
}

// echoedLine is the length past which a line of the client's error output
// is part of a statement it echoes (a multi-MiB INSERT of hex, cut
// anywhere by the tail buffer), not its message.
const echoedLine = 512

// echoFrame is the line the client writes above and below a failed
// statement it echoes.
const echoFrame = "--------------"

// condenseStatements shortens the statements the client echoes in its
// error output (a failed statement between two echoFrame lines, and any
// line long enough to be one whose frame the tail buffer cut off) to an
// excerpt, so the error an operator reads is the message: a failed query
// over a few hundred tables is some 30 KB.
func condenseStatements(stderr string) string {
	lines := strings.Split(stderr, "\n")
	out := lines[:0:0]
	for i := 0; i < len(lines); i++ {
		if lines[i] == echoFrame {
			if end := slices.Index(lines[i+1:], echoFrame); end >= 0 {
				stmt := strings.Join(lines[i+1:i+1+end], "\n")
				out = append(out, echoFrame, excerpt.Of(stmt), echoFrame)
				i += end + 1
				continue
			}
		}
		if len(lines[i]) > echoedLine {
			out = append(out, excerpt.Of(lines[i]))
			continue
		}
		out = append(out, lines[i])
	}
	return strings.Join(out, "\n")
}

// ByHandImport is the host shell command that feeds a dump on its standard
// input into the server in the container, as Import does: credentials from
// the container's environment (through MYSQL_PWD, never a command line),
// the server's packet limit raised for the import and put back after it,
// the client's raised too. dr prints it for an operator to run.
func ByHandImport(container string) string {
	script := `export MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}"; ` +
		`c=$(command -v mariadb || command -v mysql) && ` +
		`p=$("$c" -uroot -N -e "SELECT @@global.max_allowed_packet") && ` +
		`"$c" -uroot -e "SET GLOBAL max_allowed_packet=` + strconv.Itoa(maxAllowedPacketBytes) + `" && ` +
		`{ "$c" -uroot --max-allowed-packet=` + MaxAllowedPacket + ` --binary-mode --default-character-set=utf8mb4; s=$?; ` +
		`"$c" -uroot -e "SET GLOBAL max_allowed_packet=$p"; exit $s; }`
	return "docker exec -i " + container + " sh -c '" + script + "'"
}

// RaisePacketLimit raises the server's GLOBAL max_allowed_packet to
// MaxAllowedPacket, so that statements as large as the dump client wrote
// them are accepted: a fresh server on a new host has the 16 MiB default.
// The SESSION value is read-only and copied from GLOBAL when a connection
// opens, so the import's own connection, opened after this, gets it.
//
// It is best effort: without the privilege to change it (a non-root
// account), the import still runs, and only rows over the server's limit
// fail. The returned function puts the old value back, also on cancel; a
// failure there is logged with the command that does it by hand.
//
// Import does it itself; a parallel import, made of several
// ImportSessions, calls it once before the first.
func (m *Server) RaisePacketLimit(ctx context.Context) (putBack func()) {
	noop := func() {}
	old, err := m.PacketLimit(ctx)
	if err != nil {
		m.log.Warn("could not read the server's max_allowed_packet; rows over its limit will fail to import", "error", err)
		return noop
	}
	if old >= maxAllowedPacketBytes {
		return noop
	}
	if _, err := m.Query(ctx, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", maxAllowedPacketBytes)); err != nil {
		m.log.Warn("could not raise the server's max_allowed_packet for the import; rows over its limit will fail to import",
			"max_allowed_packet", old, "error", err)
		return noop
	}
	m.log.Info("server's max_allowed_packet raised for the import", "from", old, "to", int64(maxAllowedPacketBytes))
	return func() {
		// The import may have ended because ctx did; putting the limit back
		// must still happen, bounded.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := m.Query(ctx, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", old)); err != nil {
			m.log.Warn("could not put the server's max_allowed_packet back after the import (a restarted server has its configured value again); otherwise set it by hand: SET GLOBAL max_allowed_packet = "+strconv.FormatInt(old, 10),
				"max_allowed_packet", old, "error", err)
			return
		}
		m.log.Info("server's max_allowed_packet put back", "max_allowed_packet", old)
	}
}

// PutBackPacketLimit sets the server's GLOBAL max_allowed_packet to
// original where it still holds the value RaisePacketLimit raises it to.
// A restore killed during its import never ran the put back
// RaisePacketLimit returned, and the next run finds the raised value, so
// the restore journal keeps the original for this. A server restarted
// since has its configured value again, which is left alone. It says
// whether it changed the limit.
func (m *Server) PutBackPacketLimit(ctx context.Context, original int64) (bool, error) {
	now, err := m.PacketLimit(ctx)
	if err != nil {
		return false, err
	}
	if now != maxAllowedPacketBytes || original == now || original <= 0 {
		return false, nil
	}
	if _, err := m.Query(ctx, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", original)); err != nil {
		return false, fmt.Errorf("putting the server's max_allowed_packet back to %d: %w", original, err)
	}
	m.log.Info("server's max_allowed_packet put back to its value before an interrupted import", "from", now, "to", original)
	return true, nil
}

// PacketLimit reads the server's GLOBAL max_allowed_packet in bytes.
func (m *Server) PacketLimit(ctx context.Context) (int64, error) {
	rows, err := m.Query(ctx, "SELECT @@global.max_allowed_packet")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("reading max_allowed_packet: unexpected answer %q", rows)
	}
	n, err := strconv.ParseInt(rows[0][0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading max_allowed_packet: %w", err)
	}
	return n, nil
}

// Ping says whether the server accepts connections over TCP on the
// container's own loopback (the official entrypoint's first-run server
// listens on its socket only, so this passes once initialisation is over).
func (m *Server) Ping(ctx context.Context) error {
	_, err := m.Query(ctx, "SELECT 1")
	return err
}

// TableRef names a table for RowCounts.
type TableRef struct {
	Database, Name string
	// AllVersions counts every row version of a system-versioned table
	// (FOR SYSTEM_TIME ALL), its history with its current rows: what a
	// dump with --dump-history carries.
	AllVersions bool
}

// RowCounts counts the rows of each table, by "db.table". Tables that do
// not exist are absent from the result.
func (m *Server) RowCounts(ctx context.Context, tables []TableRef) (map[string]int64, error) {
	out := map[string]int64{}
	// One query per batch keeps exec round trips few for a few thousand
	// tables (Appwrite makes several per collection).
	const batch = 200
	for start := 0; start < len(tables); start += batch {
		part := tables[start:min(start+batch, len(tables))]
		parts := make([]string, len(part))
		for i, t := range part {
			from := quoteIdent(t.Database) + "." + quoteIdent(t.Name)
			if t.AllVersions {
				from += " FOR SYSTEM_TIME ALL"
			}
			parts[i] = fmt.Sprintf("SELECT %s, COUNT(*) FROM %s", quoteString(t.Database+"."+t.Name), from)
		}
		rows, err := m.Query(ctx, strings.Join(parts, " UNION ALL "))
		if err != nil {
			return nil, fmt.Errorf("counting rows: %w", err)
		}
		for _, r := range rows {
			if len(r) != 2 {
				continue
			}
			var n int64
			if _, err := fmt.Sscan(r[1], &n); err != nil {
				return nil, fmt.Errorf("counting rows of %s: %q is not a number", r[0], r[1])
			}
			out[r[0]] = n
		}
	}
	return out, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// readyScript asks the server over TCP on the container's own loopback:
// an entrypoint's first-run server listens on its socket only, so this
// passes once initialisation is over and the real server is up.
const readyScript = credentialPrelude + `DR_CLIENT=$(pick mariadb mysql)
exec "$DR_CLIENT" --user="$DR_USER" --protocol=tcp -h127.0.0.1 --batch --skip-column-names -e 'SELECT 1'
`

// Ready says whether the server accepts connections (see readyScript).
func (m *Server) Ready(ctx context.Context) error {
	res, err := m.eng.Exec(ctx, m.container, engine.ExecOptions{
		Cmd:         []string{"sh", "-c", readyScript, "dr-ready"},
		StderrLimit: 4 << 10,
	})
	if err != nil {
		return fmt.Errorf("asking the database: %w", err)
	}
	if res.ExitCode != 0 {
		return res.Err("asking the database")
	}
	return nil
}

// QuoteIdent quotes an identifier (a database or table name) for SQL.
func QuoteIdent(s string) string { return quoteIdent(s) }
