package mariadb

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/appwrite-dr/dr/engine"
)

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
