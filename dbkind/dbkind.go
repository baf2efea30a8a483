// Package dbkind names the database servers dr knows and tells which one
// a container runs: from the configured kind, or from the image's name,
// the environment variables the container sets (names only) and
// Appwrite's _APP_DB_ADAPTER.
package dbkind

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of stack.database.kind and of a manifest's database.kind.
const (
	Auto       = "auto"
	MariaDB    = "mariadb"
	MySQL      = "mysql"
	PostgreSQL = "postgresql"
	MongoDB    = "mongodb"
)

// Configurable are the values stack.database.kind takes.
var Configurable = []string{Auto, MariaDB, MySQL, PostgreSQL, MongoDB}

// ErrNotSupported is returned for database kinds dr cannot back up.
var ErrNotSupported = errors.New("not supported")

// IsPostgres says whether a kind (a config's or a manifest's) is
// PostgreSQL.
func IsPostgres(kind string) bool { return strings.EqualFold(kind, PostgreSQL) }

// Detect tells the kind of a database container from its image's name,
// the names of the environment variables it sets, and the stack's
// _APP_DB_ADAPTER (empty when the stack has none).
func Detect(image string, envKeys []string, adapter string) string {
	img := strings.ToLower(image)
	switch {
	case strings.Contains(img, "mongo") || hasPrefix(envKeys, "MONGO_"):
		return MongoDB
	case strings.Contains(img, "postgres") || strings.Contains(img, "postgis") || hasPrefix(envKeys, "POSTGRES_"):
		return PostgreSQL
	case strings.Contains(img, "mariadb") || hasPrefix(envKeys, "MARIADB_"):
		return MariaDB
	case strings.Contains(img, "mysql"):
		return MySQL
	}
	switch strings.ToLower(adapter) {
	case "postgresql", "postgres":
		return PostgreSQL
	case "mongodb":
		return MongoDB
	case "mysql":
		return MySQL
	}
	return MariaDB
}

// Resolve turns the configured kind into the kind to use: auto detects
// it (see Detect). MongoDB, and anything unknown, is an error that says
// so.
func Resolve(configured, image string, envKeys []string, adapter string) (string, error) {
	kind := strings.ToLower(configured)
	if kind == "" || kind == Auto {
		kind = Detect(image, envKeys, adapter)
	}
	switch kind {
	case MariaDB, MySQL, PostgreSQL:
		return kind, nil
	case MongoDB:
		return "", fmt.Errorf("database kind mongodb (image %s): MongoDB is %w: dr backs up MariaDB, MySQL and PostgreSQL stacks (Appwrite's installer offers MariaDB and PostgreSQL too)", image, ErrNotSupported)
	default:
		return "", fmt.Errorf("stack.database.kind %q: want %s", configured, strings.Join(Configurable[:4], ", "))
	}
}

func hasPrefix(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
