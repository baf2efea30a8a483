package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	// Every rclone backend, so any remote an operator has works.
	_ "github.com/rclone/rclone/backend/all"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/config/configfile"

	"github.com/appwrite-dr/dr/internal/redact"
)

// rclone keeps its configuration in package-level state (the config file
// path and the loaded data). This file is the only place dr touches it;
// the mutex serialises that, and the config file is loaded here, where a
// malformed one is an error, before rclone's own loader (which exits the
// process on such a file) can reach it.
var rcloneMu sync.Mutex

// loadedConfigPath is the rclone config file currently installed, "" for
// none yet.
var loadedConfigPath *string

// newFs opens an rclone remote path with the given rclone config file
// ("" = rclone's default location).
func newFs(ctx context.Context, destName, remote, configPath string) (fs.Fs, error) {
	if err := checkRemote(destName, remote, configPath); err != nil {
		return nil, err
	}
	// Outside the lock: opening a remote talks to it, and one that does
	// not answer must not hold up opening the others.
	f, err := fs.NewFs(ctx, remote)
	// The remote can carry credentials, and rclone's errors can quote it.
	shown := redact.String(remote)
	if err != nil && !errors.Is(err, fs.ErrorIsFile) {
		return nil, fmt.Errorf("destination %q: opening remote %q: %w", destName, shown, redact.Error(err))
	}
	if errors.Is(err, fs.ErrorIsFile) {
		return nil, fmt.Errorf("destination %q: remote %q is a file, not a directory", destName, shown)
	}
	return f, nil
}

// checkRemote installs the rclone config and checks that a named remote
// is defined in it.
func checkRemote(destName, remote, configPath string) error {
	rcloneMu.Lock()
	defer rcloneMu.Unlock()
	if err := installConfig(destName, configPath); err != nil {
		return err
	}
	path := config.GetConfigPath()
	name, _, _ := strings.Cut(remote, ":")
	name, _, _ = strings.Cut(name, ",")
	if i := strings.IndexAny(remote, ":/"); i > 0 && remote[i] == ':' && !strings.HasPrefix(remote, ":") && !isWindowsDrive(remote) {
		if !remoteDefined(name) {
			return fmt.Errorf("destination %q: remote %q is not defined in %s (rclone config lists remotes; or set RCLONE_CONFIG_%s_TYPE and its options)",
				destName, name, describeConfigPath(path), strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
		}
	}
	return nil
}

func isWindowsDrive(s string) bool {
	return len(s) >= 2 && s[1] == ':' && len(s) > 2 && (s[2] == '\\' || s[2] == '/')
}

// installConfig points rclone at a config file and loads it, turning a
// malformed file into an error.
func installConfig(destName, configPath string) error {
	if loadedConfigPath != nil && *loadedConfigPath == configPath {
		return nil
	}
	// Until this load succeeds, no config counts as installed.
	loadedConfigPath = nil
	if configPath != "" {
		if _, err := os.Stat(configPath); err != nil {
			return fmt.Errorf("destination %q: rclone_config %s: %w", destName, configPath, err)
		}
		if err := config.SetConfigPath(configPath); err != nil {
			return fmt.Errorf("destination %q: rclone_config %s: %w", destName, configPath, err)
		}
	}
	configfile.Install()
	err := config.Data().Load()
	switch {
	case errors.Is(err, config.ErrorConfigFileNotFound) && configPath == "":
		// No file at rclone's default place: plain paths and
		// RCLONE_CONFIG_* remotes need none, so run memory-only instead
		// of letting rclone print a notice about it on every command.
		if err := config.SetConfigPath(""); err != nil {
			return fmt.Errorf("destination %q: using rclone without a config file: %w", destName, err)
		}
	case errors.Is(err, config.ErrorConfigFileNotFound):
	case err != nil:
		return fmt.Errorf("destination %q: the rclone config file %s is malformed: %w", destName, config.GetConfigPath(), err)
	}
	// Mark the data as loaded for rclone's own LoadedData, so it never
	// re-reads the file on its own.
	_ = config.LoadedData()
	p := configPath
	loadedConfigPath = &p
	return nil
}

// remoteDefined says whether a named remote is in the config file or in
// RCLONE_CONFIG_<NAME>_TYPE.
func remoteDefined(name string) bool {
	if os.Getenv("RCLONE_CONFIG_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))+"_TYPE") != "" {
		return true
	}
	return config.Data().HasSection(name)
}

func describeConfigPath(path string) string {
	if path == "" {
		return "the rclone config (none in use)"
	}
	return path
}
