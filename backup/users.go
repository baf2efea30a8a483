package backup

import (
	"context"
	"log/slog"

	"github.com/appwrite-dr/dr/mariadb"
)

// recordUsers lists the database accounts for the manifest, so that dr
// diff can show accounts added after this backup. It never fails a
// backup: an account that cannot read mysql.user leaves the list out
// (nil), and dr diff says the users were not recorded.
func recordUsers(ctx context.Context, db *mariadb.Server, log *slog.Logger) []string {
	users, err := db.Users(ctx)
	if err != nil {
		log.Warn("could not list the database users; dr diff will not compare users for this backup", "error", err)
		return nil
	}
	return users
}
