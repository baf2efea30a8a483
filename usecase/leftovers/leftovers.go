// Package leftovers finds what runs of one state dir killed with kill -9
// left behind: services a backup stopped for its volume capture and never
// started again, a drill's containers and volumes, and volume helper
// containers. dr doctor and dr status both look for them, through this one
// package, so they cannot drift apart on what counts or how it is said.
package leftovers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// Lister finds containers and volumes by label.
type Lister interface {
	ListLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
}

// Hold takes stateDir's lock for the look: while another run holds it,
// everything labelled with this state dir may be that run's and in use,
// so nothing can be called a leftover (the error is then a
// *lock.HeldError). A state dir that does not exist has no leftovers and
// needs no lock: nil, nil.
func Hold(stateDir, who string) (*lock.Lock, error) {
	if _, err := os.Stat(stateDir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return lock.Acquire(stateDir, who)
}

// StoppedFix says who starts the services a killed backup left stopped,
// and the command that starts them now.
func StoppedFix(rec *journal.Stopped) string {
	return fmt.Sprintf("the next dr backup or dr restore starts them; now: docker compose -p %s start %s", rec.Project, strings.Join(rec.Services, " "))
}

// Drills lists the containers and volumes killed drills of stateDir left.
func Drills(ctx context.Context, eng Lister, stateDir string) (containers, volumes []string, err error) {
	return eng.ListLabelled(ctx, engine.LabelDrillOwner+"="+lock.Owner(stateDir))
}

// DrillsLeft says what killed drills left, and what that costs.
func DrillsLeft(containers, volumes []string) string {
	return fmt.Sprintf("a killed drill left %d container(s) (%s) and %d volume(s), holding CPU, memory and disk until the next drill",
		len(containers), strings.Join(shortIDs(containers), ", "), len(volumes))
}

// HelperLabel is the label of the volume helpers of stateDir's runs.
func HelperLabel(stateDir string) string {
	return engine.HelperOwnerLabel(lock.Owner(stateDir))
}

// HelpersLeft says what volume helpers killed runs left.
func HelpersLeft(containers []string) string {
	return fmt.Sprintf("a killed run left %d volume helper container(s) (%s), each holding its volume (docker compose down -v fails)",
		len(containers), strings.Join(shortIDs(containers), ", "))
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:min(len(id), 12)]
	}
	return out
}
