package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/dotenv"
)

// The .env keys a backup of an Appwrite stack looks at (never their values
// in any message: they are the stack's secrets).
const (
	// openSSLKey seals the database's encrypted attributes: a restored
	// database is unreadable to Appwrite without the key it was written
	// with, and the backup's .env is where a restore finds it.
	openSSLKey = "_APP_OPENSSL_KEY_V1"
	// storageDevice says where Appwrite keeps uploaded files: "local" is
	// the appwrite-uploads volume; any other device is outside the host.
	storageDevice = "_APP_STORAGE_DEVICE"
)

// appwriteOf records the stack's Appwrite service, nil for a stack that
// has none. The image is the reference its container was created from.
func appwriteOf(stack *engine.Stack) *archive.Appwrite {
	c, ok := stack.Service(archive.AppwriteService)
	if !ok {
		return nil
	}
	return &archive.Appwrite{Service: c.Service, Image: c.Image, Version: archive.AppwriteVersion(c.Image)}
}

// checkEnv reads the stack's .env before a byte is written. An
// Appwrite-shaped stack whose .env lacks _APP_OPENSSL_KEY_V1 fails the
// backup: it would restore to a database Appwrite cannot decrypt. Uploads
// kept on a storage device other than local are a warning: they are not
// in the backup.
func checkEnv(dir string, appwrite bool) (warnings []string, err error) {
	warnings, _, err = readEnv(dir, appwrite)
	return warnings, err
}

// dbAdapter is the .env key that says which database Appwrite runs on.
const dbAdapter = "_APP_DB_ADAPTER"

// readEnv is checkEnv that also returns the stack's _APP_DB_ADAPTER
// (empty when it has none), which tells the database's kind when its
// image does not.
func readEnv(dir string, appwrite bool) (warnings []string, adapter string, err error) {
	path := filepath.Join(dir, ".env")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !appwrite:
		return nil, "", nil
	case errors.Is(err, os.ErrNotExist):
		return nil, "", fmt.Errorf("the stack has an %s service but %s does not exist: Appwrite keeps %s there, without which a restored database's encrypted attributes cannot be read; put the stack's .env in stack.dir", archive.AppwriteService, path, openSSLKey)
	case err != nil:
		return nil, "", fmt.Errorf("reading the stack's .env: %w", err)
	}
	env, err := dotenv.Parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", path, err)
	}
	if appwrite && strings.TrimSpace(env[openSSLKey]) == "" {
		return nil, "", fmt.Errorf("%s has no %s (or it is empty): without it a restored database's encrypted attributes cannot be read, so this backup could not bring Appwrite back; add %s to %s, set to the key this Appwrite runs with (docker compose exec %s printenv %s shows it), then back up again",
			path, openSSLKey, openSSLKey, path, archive.AppwriteService, openSSLKey)
	}
	if v, ok := env[storageDevice]; ok && v != "" && !strings.EqualFold(v, "local") {
		warnings = append(warnings, fmt.Sprintf("%s in .env is not local: Appwrite keeps uploaded files on that device, outside this host, so they are not in this backup; back that storage up on its own", storageDevice))
	}
	return warnings, env[dbAdapter], nil
}
