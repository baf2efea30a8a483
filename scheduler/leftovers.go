package scheduler

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// LabelLister finds containers and volumes by label.
type LabelLister interface {
	ListLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
}

// LeftBehind names, one sentence each, what runs of stateDir killed with
// kill -9 left: services a backup stopped and never started again, a
// drill's containers (each holding the drill's CPU and memory), volume
// helpers (each holding its volume mounted). eng may be nil (no engine):
// only the services are then looked for. While a run holds the lock,
// all of these may be that run's and in use, so nothing is named; the
// lock is held only for the look.
func LeftBehind(ctx context.Context, eng LabelLister, stateDir string) []string {
	if _, err := os.Stat(stateDir); err != nil {
		return nil
	}
	// Held (a *lock.HeldError): what is labelled is a live run's. Any
	// other failure: nothing can be told apart either.
	held, err := lock.Acquire(stateDir, "status")
	if err != nil {
		return nil
	}
	defer held.Release()
	var out []string
	if rec, err := journal.ReadStopped(stateDir); err != nil {
		out = append(out, redact.String(err.Error()))
	} else if rec != nil {
		out = append(out, fmt.Sprintf("%s; the next dr backup or dr restore starts them, or now: docker compose -p %s start %s",
			rec.Describe(), rec.Project, strings.Join(rec.Services, " ")))
	}
	if eng == nil {
		return out
	}
	owner := lock.Owner(stateDir)
	if c, v, err := eng.ListLabelled(ctx, drill.LabelOwner+"="+owner); err == nil && len(c)+len(v) > 0 {
		out = append(out, fmt.Sprintf("a killed drill left %d container(s) (%s) and %d volume(s), holding CPU, memory and disk until the next drill; remove them: dr drill --cleanup",
			len(c), strings.Join(shortIDs(c), ", "), len(v)))
	}
	if c, _, err := eng.ListLabelled(ctx, engine.HelperOwnerLabel(owner)); err == nil && len(c) > 0 {
		out = append(out, fmt.Sprintf("a killed run left %d volume helper container(s) (%s), each holding its volume (docker compose down -v fails); the next dr backup, dr restore or dr doctor removes them",
			len(c), strings.Join(shortIDs(c), ", ")))
	}
	return out
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:min(len(id), 12)]
	}
	return out
}
