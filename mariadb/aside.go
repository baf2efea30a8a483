package mariadb

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/appwrite-dr/dr/engine"
)

// freeScript prints the free bytes of the filesystem holding the directory
// "$1" (the server's datadir), as df sees it inside the container.
const freeScript = `df -Pk "$1" | awk 'NR==2 {print $4 * 1024}'`

// DataDirFree returns the free bytes on the filesystem of the server's
// datadir, measured inside the container: what the server can still write.
func (m *Server) DataDirFree(ctx context.Context) (int64, error) {
	rows, err := m.Query(ctx, "SELECT @@datadir")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] == "" {
		return 0, fmt.Errorf("reading the server's datadir: unexpected answer %q", rows)
	}
	out, err := m.output(ctx, "measuring the free space of the datadir", 4<<10, freeScript, "dr-df", rows[0][0])
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("measuring the free space of the datadir: df said %q", strings.TrimSpace(out))
	}
	return n, nil
}

// scriptScript runs the SQL script on its standard input, where the
// client's DELIMITER command works (stored programs' bodies need it).
const scriptScript = credentialPrelude + `DR_CLIENT=$(pick mariadb mysql)
exec "$DR_CLIENT" --user="$DR_USER" --batch --skip-column-names --binary-mode --default-character-set=utf8mb4
`

// Script runs a small SQL script read from r and returns what it printed.
// Unlike Import it leaves the server's settings alone.
func (m *Server) Script(ctx context.Context, r io.Reader) (string, error) {
	var out strings.Builder
	res, err := m.eng.Exec(ctx, m.container, engine.ExecOptions{
		Cmd:    []string{"sh", "-c", scriptScript, "dr-script"},
		Stdin:  r,
		Stdout: &limitedWriter{w: &out, n: 16 << 20},
	})
	if err != nil {
		return "", fmt.Errorf("running SQL on the database: %w", err)
	}
	if res.ExitCode != 0 {
		res.Stderr = condenseStatements(res.Stderr)
		return "", res.Err("running SQL on the database")
	}
	return out.String(), nil
}

// QuoteString quotes s as an SQL string literal.
func QuoteString(s string) string { return quoteString(s) }
