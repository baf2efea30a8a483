package onboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/usecase/leftovers"
)

// checkLeftovers looks for what runs of this state dir killed with kill -9
// left: volume helper containers (removed here: one holds its volume
// mounted, and docker compose down -v fails with "volume is in use"),
// drill containers (named, with the command that removes them: each
// holds the drill's CPU and memory), and services a backup stopped for
// its volume capture and never started again. While another dr run holds
// the lock, all of these may be that run's, in use: nothing is judged.
func checkLeftovers(ctx context.Context, r *Report, eng DoctorEngine, stateDir string) {
	const name = "killed runs"
	held, err := leftovers.Hold(stateDir, "doctor")
	var busy *lock.HeldError
	if errors.As(err, &busy) {
		r.add(Check{Name: name, Status: StatusOK, Detail: busy.Error() + ": its helper containers and stopped services are in use; run dr doctor again once it ended to look for leftovers"})
		return
	}
	if err != nil {
		r.add(Check{Name: name, Status: StatusFail, Detail: err.Error(), Fix: "make state_dir writable by the user dr runs as"})
		return
	}
	if held != nil {
		defer held.Release()
	}
	c := Check{Name: name, Status: StatusOK}
	var details, fixes []string
	worse := func(status string) {
		if c.Status == StatusOK || status == StatusFail {
			c.Status = status
		}
	}

	if rec, err := journal.ReadStopped(stateDir); err != nil {
		worse(StatusFail)
		details = append(details, err.Error())
	} else if rec != nil {
		worse(StatusFail)
		details = append(details, rec.Describe())
		fixes = append(fixes, leftovers.StoppedFix(rec))
	}

	helpers := leftovers.HelperLabel(stateDir)
	removed, _, err := eng.RemoveLabelled(ctx, helpers)
	switch {
	case err != nil:
		worse(StatusFail)
		details = append(details, "removing the volume helpers killed runs left: "+err.Error())
		fixes = append(fixes, fmt.Sprintf("docker rm -f $(docker ps -aq --filter label=%s)", helpers))
	case len(removed) > 0:
		worse(StatusWarn)
		details = append(details, fmt.Sprintf("removed %d volume helper container(s) killed runs left", len(removed)))
	}

	containers, volumes, err := leftovers.Drills(ctx, eng, stateDir)
	switch {
	case err != nil:
		worse(StatusFail)
		details = append(details, "listing the containers killed drills left: "+err.Error())
	case len(containers)+len(volumes) > 0:
		worse(StatusWarn)
		details = append(details, leftovers.DrillsLeft(containers, volumes))
		fixes = append(fixes, "remove them: dr drill cleanup")
	}

	if len(details) == 0 {
		details = append(details, "none: no helper or drill container, no service left stopped")
	}
	c.Detail = strings.Join(details, "; ")
	c.Fix = strings.Join(fixes, "; ")
	r.add(c)
}
