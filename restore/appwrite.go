package restore

import (
	"context"
	"fmt"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
)

// VersionChangeError refuses to restore a backup of one Appwrite version
// into a stack that runs another.
type VersionChangeError struct {
	Backup        string
	BackupVersion string
	Running       string // the running stack's version
	RunningImage  string
}

func (e *VersionChangeError) Error() string {
	return fmt.Sprintf("backup %s was taken from Appwrite %s, but the stack's %s service runs Appwrite %s (%s). "+
		"Appwrite supports restoring only into the version that wrote the data: its migrations run on upgrade, so a %s database under %s code is out of step with it (missing migrations the code expects, or carrying ones it does not know), and Appwrite fails in ways a restore cannot undo. "+
		"To go back to %s, set the %s image in docker-compose.yml to its %s tag, run docker compose up -d, then restore again; to restore anyway and run Appwrite's migration yourself (docker compose exec %s migrate), pass --allow-version-change",
		e.Backup, e.BackupVersion, archive.AppwriteService, e.Running, e.RunningImage,
		e.BackupVersion, e.Running, e.BackupVersion, archive.AppwriteService, e.BackupVersion, archive.AppwriteService)
}

// appwriteRunning is the Appwrite version (and image) of the stack's
// appwrite service, "" when it has none or its image names no version.
// A stopped container counts: a restore starts it again with the data.
func appwriteRunning(stack *engine.Stack) (version, image string) {
	if stack == nil {
		return "", ""
	}
	c, ok := stack.Service(archive.AppwriteService)
	if !ok {
		return "", ""
	}
	return archive.AppwriteVersion(c.Image), c.Image
}

// checkVersion refuses a backup of another Appwrite version than the
// stack's unless allow. Where either version is unknown (a stack that is
// not Appwrite, a backup made before dr recorded it, an image pinned by
// digest) there is nothing to compare.
func checkVersion(name string, m *archive.Manifest, stack *engine.Stack, allow bool) (running string, err error) {
	running, image := appwriteRunning(stack)
	if m.Appwrite == nil || m.Appwrite.Version == "" || running == "" || running == m.Appwrite.Version || allow {
		return running, nil
	}
	return running, &VersionChangeError{Backup: name, BackupVersion: m.Appwrite.Version, Running: running, RunningImage: image}
}

// CheckAppwriteVersion is checkVersion for a runbook's first step, before
// it writes anything: the stack is the project's containers, when there
// are any (on a new host there are none, and nothing to compare).
func CheckAppwriteVersion(ctx context.Context, eng Engine, project, dbService, backup string, m *archive.Manifest, allow bool) error {
	stack, err := eng.FindStack(ctx, project, dbService)
	if err != nil {
		return nil
	}
	_, err = checkVersion(backup, m, stack, allow)
	return err
}
