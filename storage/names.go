package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

// maxNameShift is how many seconds past its start a run's name may be:
// more backups of one stack in one minute than this means something is
// looping, and a name further ahead than that means a clock is wrong
// (this host's now, or the one that named the newest backup).
const maxNameShift = 60

// FreeName chooses the archive name of a backup of stack started at from:
// the start's second, or, when some destination already holds an object
// of a backup of stack named at that second or later (archive of either
// kind, sidecar, pin, drill report, or a leftover), the second after the
// newest of them. Names then rise in the order runs start, even when
// quick runs pushed earlier names ahead of the clock: a later run never
// takes an earlier second that a prune freed, which would make its
// backup look older than the one before it (to --latest and to
// retention). Moving to a later second keeps the documented name format.
// A destination that cannot be listed does not stop the choice: the check
// each put makes before it starts (see NewUpload) still protects it.
func FreeName(ctx context.Context, dests []*Destination, stack string, from time.Time, encrypted bool) (string, error) {
	from = from.UTC().Truncate(time.Second)
	at := from
	var newest, holder string
	for _, d := range dests {
		objects, err := d.r.List(ctx, "")
		if err != nil {
			continue
		}
		for _, o := range objects {
			p, ok := backupOfObject(o.Name())
			if !ok || p.Stack != stack || p.Time.Before(at) {
				continue
			}
			at = p.Time.Add(time.Second)
			newest, holder = o.Name(), d.Name()
		}
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("picking the backup name: %w", err)
	}
	if ahead := at.Sub(from); ahead > maxNameShift*time.Second {
		return "", fmt.Errorf("picking the backup name: %s on %q is dated %s after this run's start (%s), and a backup is named after the newest of its stack, at most %ds ahead of its start: either backups of %s are looping, or a clock is wrong (this host's, or the one that wrote that object): check the clock, or move that object away if its name is wrong",
			newest, holder, ahead-time.Second, from.Format(time.RFC3339), maxNameShift, stack)
	}
	return archive.ObjectName(stack, at, encrypted), nil
}

// backupOfObject is the backup an object of dr's belongs to: the archive's
// own name, read from the archive, its sidecar, its pin or one of its
// drill reports; ok is false for any other object.
func backupOfObject(object string) (archive.ParsedName, bool) {
	name := strings.TrimSuffix(strings.TrimSuffix(object, archive.SidecarSuffix), archive.PinSuffix)
	if backup, _, ok := ParseDrillReportName(object); ok {
		name = backup
	}
	p, err := archive.ParseObjectName(name)
	return p, err == nil
}

// related is every object name whose presence means name is taken: the
// name itself and, for an archive, its sidecar, its pin, and the archive
// and sidecar of the other kind (plain or encrypted) of the same backup.
func related(name string) []string {
	out := []string{name}
	if _, err := archive.ParseObjectName(name); err != nil {
		return out
	}
	other := name + ".age"
	if strings.HasSuffix(name, archive.EncryptedSuffix) {
		other = strings.TrimSuffix(name, ".age")
	}
	return append(out, archive.SidecarName(name), archive.PinName(name), other, archive.SidecarName(other))
}
