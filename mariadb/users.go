package mariadb

import (
	"context"
	"fmt"
)

// Users lists the server's accounts as user@host, sorted. It only reads
// mysql.user (names, never password hashes).
func (m *Server) Users(ctx context.Context) ([]string, error) {
	rows, err := m.Query(ctx, "SELECT CONCAT(user, '@', host) FROM mysql.user ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("listing the database users: %w", err)
	}
	users := make([]string, 0, len(rows))
	for _, r := range rows {
		if len(r) == 1 {
			users = append(users, r[0])
		}
	}
	return users, nil
}
