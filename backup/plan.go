package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/postgres"
	"github.com/appwrite-dr/dr/restore/journal"
)

// overrideFile is picked up beside the configured files when present, as
// docker compose itself does.
const overrideFile = "docker-compose.override.yml"

// stackPlan is what a backup found out before writing a byte.
type stackPlan struct {
	project     string
	kind        string
	dbContainer engine.Container
	imageDigest string
	files       []string         // relative to stack.dir
	db          *mariadb.Server  // nil on PostgreSQL
	pg          *postgres.Server // nil on MariaDB and MySQL
	stack       *engine.Stack
	volumes     []stackVolume
	// absent are default volumes the stack does not have (an Appwrite
	// older than the default list), skipped.
	absent []string
	// unlisted warns of mounted volumes neither backed up nor excluded;
	// mountErr says why that could not be checked.
	unlisted []string
	mountErr error
	// quiesce are the services stopped while volumes are captured.
	quiesce []string
	// stateDir holds the record of the services a backup stopped.
	stateDir string
	// appwrite is the stack's Appwrite service, nil when it has none.
	appwrite *archive.Appwrite
	// envWarnings are what checkEnv found in the .env.
	envWarnings []string
}

// stackVolume is a configured volume and the engine's volume behind it.
type stackVolume struct {
	key  string // the configured (compose) name, e.g. appwrite-uploads
	info *engine.VolumeInfo
}

// prepare checks everything that can be checked before data flows: no
// interrupted restore left the stack half restored, the stack's files
// exist, the database container is there and running, and its kind is one
// dr can dump.
func prepare(ctx context.Context, eng Engine, cfg *config.Config) (*stackPlan, error) {
	// First, and for every caller (dr backup, --dry-run, the daemon): a
	// backup of a half-imported database would be committed, verify, and
	// later be restored as if it were good.
	if _, err := journal.CheckBackup(cfg.StateDir); err != nil {
		return nil, err
	}
	files, err := stackFiles(cfg.Stack)
	if err != nil {
		return nil, err
	}
	stack, err := eng.FindStack(ctx, cfg.Stack.Project, cfg.Stack.Database.Service)
	if err != nil {
		return nil, fmt.Errorf("finding the stack: %w", err)
	}
	db, ok := stack.Service(cfg.Stack.Database.Service)
	if !ok {
		return nil, fmt.Errorf("project %q has no container for the database service %q (it has: %s); set stack.database.service",
			stack.Project, cfg.Stack.Database.Service, strings.Join(stack.Services(), ", "))
	}
	if !db.Running {
		return nil, fmt.Errorf("the database container %s is not running; start it (docker compose up -d %s) and try again", db.Name, db.Service)
	}
	envKeys, err := eng.EnvKeys(ctx, db.ID)
	if err != nil {
		return nil, fmt.Errorf("inspecting the database container: %w", err)
	}
	aw := appwriteOf(stack)
	envWarnings, adapter, err := readEnv(cfg.Stack.Dir, aw != nil)
	if err != nil {
		return nil, err
	}
	kind, err := dbkind.Resolve(cfg.Stack.Database.Kind, db.Image, envKeys, adapter)
	if err != nil {
		return nil, err
	}
	digest, err := eng.ImageDigest(ctx, db.ImageID)
	if err != nil {
		return nil, fmt.Errorf("inspecting the database image: %w", err)
	}
	volumes, absent, err := resolveVolumes(ctx, eng, stack.Project, cfg.Stack.Volumes, cfg.Stack.VolumesDefaulted())
	if err != nil {
		return nil, err
	}
	// A failed check costs a warning, never the backup: the volumes that
	// are configured are captured either way.
	var unlisted []string
	mounts, mountErr := eng.VolumeMounts(ctx, stack)
	if mountErr == nil {
		unlisted = unlistedVolumes(mounts, cfg.Stack)
	}
	for _, svc := range cfg.Stack.StopDuringBackup {
		if len(stack.ServiceContainers(svc)) == 0 {
			return nil, fmt.Errorf("stack.stop_during_backup names %q, which project %s has no container for (it has: %s)", svc, stack.Project, strings.Join(stack.Services(), ", "))
		}
		if svc == cfg.Stack.Database.Service {
			return nil, fmt.Errorf("stack.stop_during_backup names the database service %q; the dump needs it running (and never needs it stopped)", svc)
		}
	}
	plan := &stackPlan{
		appwrite:    aw,
		envWarnings: envWarnings,
		stack:       stack,
		volumes:     volumes,
		absent:      absent,
		unlisted:    unlisted,
		mountErr:    mountErr,
		quiesce:     cfg.Stack.StopDuringBackup,
		stateDir:    cfg.StateDir,
		project:     stack.Project,
		kind:        kind,
		dbContainer: db,
		imageDigest: digest,
		files:       files,
	}
	if dbkind.IsPostgres(kind) {
		plan.pg = postgres.New(eng, db.ID)
	} else {
		plan.db = mariadb.New(eng, db.ID)
	}
	return plan, nil
}

// volumeFinder is the part of the engine resolveVolumes needs.
type volumeFinder interface {
	FindComposeVolume(ctx context.Context, project, key string) (*engine.VolumeInfo, error)
}

// resolveVolumes finds the engine's volume behind every configured one; a
// configured volume that does not exist fails the backup before it starts.
// With the default list (defaulted), a volume the stack lacks is returned
// in absent instead: the list covers the newest Appwrite, and an older one
// does not have appwrite-sites or appwrite-imports.
func resolveVolumes(ctx context.Context, eng volumeFinder, project string, keys []string, defaulted bool) (found []stackVolume, absent []string, err error) {
	for _, key := range keys {
		info, err := eng.FindComposeVolume(ctx, project, key)
		if defaulted && errors.Is(err, engine.ErrVolumeNotFound) {
			absent = append(absent, key)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("stack.volumes: %w; fix the name or remove it from stack.volumes", err)
		}
		found = append(found, stackVolume{key: key, info: info})
	}
	return found, absent, nil
}

// stackFiles lists the files to archive; a configured file that is missing
// is an error, never a silent skip.
func stackFiles(stack config.Stack) ([]string, error) {
	var files, missing []string
	for _, f := range stack.Files {
		if filepath.IsAbs(f) || strings.HasPrefix(filepath.Clean(f), "..") {
			return nil, fmt.Errorf("stack.files: %q must be relative to stack.dir and stay inside it", f)
		}
		st, err := os.Stat(filepath.Join(stack.Dir, f))
		switch {
		case errors.Is(err, os.ErrNotExist):
			missing = append(missing, f)
			continue
		case err != nil:
			return nil, fmt.Errorf("reading stack file: %w", err)
		case !st.Mode().IsRegular():
			return nil, fmt.Errorf("stack.files: %s is not a regular file", filepath.Join(stack.Dir, f))
		}
		files = append(files, filepath.Clean(f))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("stack.files: %s missing in %s; fix stack.dir or remove them from stack.files", strings.Join(missing, ", "), stack.Dir)
	}
	if !slices.Contains(files, overrideFile) {
		if st, err := os.Stat(filepath.Join(stack.Dir, overrideFile)); err == nil && st.Mode().IsRegular() {
			files = append(files, overrideFile)
		}
	}
	return files, nil
}

func fileOwner(st os.FileInfo) (uid, gid int) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), int(sys.Gid)
	}
	return 0, 0
}
