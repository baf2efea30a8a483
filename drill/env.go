package drill

import "github.com/appwrite-dr/dr/internal/dotenv"

// maxEnvSize bounds the .env read from an archive or the stack dir.
const maxEnvSize = dotenv.MaxSize

// RequiredAppwriteKeys are the .env keys an Appwrite stack cannot live
// without: the key its encrypted attributes were sealed with, and the
// database connection.
var RequiredAppwriteKeys = []string{
	"_APP_OPENSSL_KEY_V1",
	"_APP_DB_HOST", "_APP_DB_PORT", "_APP_DB_SCHEMA",
	"_APP_DB_USER", "_APP_DB_PASS",
}

// OpenSSLKey is the .env key whose value must be the live stack's.
const OpenSSLKey = "_APP_OPENSSL_KEY_V1"

// ParseEnv reads a .env file (see dotenv.Parse); a line it cannot read
// is an error naming the line, never quoting it.
func ParseEnv(data []byte) (map[string]string, error) { return dotenv.Parse(data) }
