package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/remote"
)

// An attacker who held the host had its remote credentials and the
// recipients' public keys: they can write a valid-looking (even encrypted)
// backup under a name dated before the breach. What they cannot forge,
// on a backend that records its own time for each object (S3, Azure Blob,
// Swift: dr asks rclone for the server's time, not the mtime metadata the
// uploader sends), is when the object was written. So a backup whose
// upload time is after the breach, or far from the time in its name, is
// not trusted. On backends where the uploader sets the time (a local
// directory, SFTP, Google Drive, B2) anyone with access can set it too:
// there this check only catches a careless attacker.

// DefaultUploadTolerance is how far a backup's upload time may be from
// the time in its name before it is suspicious: a long backup of a large
// stack uploads hours after it started.
const DefaultUploadTolerance = 6 * time.Hour

// uploadTime is when the backend says the backup became one on the
// destination: the later of the archive's and the sidecar's times (the
// sidecar is written last). Zero when the backend keeps no times.
func (d *Destination) uploadTime(ctx context.Context, archiveObj, sidecar remote.Object) time.Time {
	if !d.r.KeepsModTime() {
		return time.Time{}
	}
	t := archiveObj.ModTime(ctx)
	if s := sidecar.ModTime(ctx); s.After(t) {
		t = s
	}
	return t.UTC()
}

// Suspect is one copy of a backup that is not trusted, and why.
type Suspect struct {
	Backup      string
	Destination string
	Named       time.Time // the time in the backup's name
	Uploaded    time.Time // when the destination's backend says it was written
	Reason      string
}

func (s Suspect) String() string {
	return fmt.Sprintf("%s on %s: %s", s.Backup, s.Destination, s.Reason)
}

// Suspicious lists the copies of a backup that are not trusted: uploaded
// after before (when not zero), or further than tolerance from the time
// in the name, either way. A copy whose backend keeps no upload time
// cannot be judged and is not listed.
func Suspicious(e CatalogEntry, before time.Time, tolerance time.Duration) []Suspect {
	if tolerance <= 0 {
		tolerance = DefaultUploadTolerance
	}
	var out []Suspect
	for _, dest := range e.Destinations {
		up, ok := e.Uploaded[dest]
		if !ok || up.IsZero() {
			continue
		}
		s := Suspect{Backup: e.Name, Destination: dest, Named: e.Time, Uploaded: up}
		switch gap := up.Sub(e.Time); {
		case !before.IsZero() && up.After(before):
			s.Reason = fmt.Sprintf("uploaded %s, after --before %s, though its name says %s", stamp(up), stamp(before), stamp(e.Time))
		case gap > tolerance:
			s.Reason = fmt.Sprintf("uploaded %s, %s after the time in its name (%s); more than restore.upload_tolerance %s", stamp(up), span(gap), stamp(e.Time), span(tolerance))
		case -gap > tolerance:
			s.Reason = fmt.Sprintf("uploaded %s, %s before the time in its name (%s); more than restore.upload_tolerance %s", stamp(up), span(-gap), stamp(e.Time), span(tolerance))
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// span writes a duration as the config does: 6h, not 6h0m0s.
func span(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.Round(time.Second).String(), "0s"), "0m")
}

// Trusted drops from entries every backup named before before that
// Suspicious does not trust, and returns the suspects: what a choice by
// --before must choose from, and what to tell the operator it refused.
// Backups named at or after before are kept (the choice passes over them
// anyway); so are all entries when before is zero.
func Trusted(entries []CatalogEntry, before time.Time, tolerance time.Duration) ([]CatalogEntry, []Suspect) {
	if before.IsZero() {
		return entries, nil
	}
	kept := make([]CatalogEntry, 0, len(entries))
	var suspects []Suspect
	for _, e := range entries {
		if e.Time.Before(before) {
			if s := Suspicious(e, before, tolerance); len(s) > 0 {
				suspects = append(suspects, s...)
				continue
			}
		}
		kept = append(kept, e)
	}
	sort.SliceStable(suspects, func(i, j int) bool { return suspects[i].Named.After(suspects[j].Named) })
	return kept, suspects
}

// SuspectsError says a choice by --before found nothing it trusts and
// names what it refused.
type SuspectsError struct {
	Err      error
	Suspects []Suspect
}

func (e *SuspectsError) Error() string {
	parts := make([]string, len(e.Suspects))
	for i, s := range e.Suspects {
		parts[i] = s.String()
	}
	return fmt.Sprintf("%v; refused as suspicious (possibly planted): %s", e.Err, strings.Join(parts, "; "))
}

func (e *SuspectsError) Unwrap() error { return e.Err }

// ChooseTrusted is ChooseFrom for a choice by query: with q.Before set and no name,
// the backups Trusted refuses are never chosen and are returned for the
// caller to report. A named backup is the operator's explicit choice and
// is not judged here.
func ChooseTrusted(ctx context.Context, dests []*Destination, q Query, tolerance time.Duration) (CatalogEntry, []Suspect, *Unreachable, error) {
	if q.Name != "" || q.Before.IsZero() {
		e, un, err := ChooseFrom(ctx, dests, q)
		return e, nil, un, err
	}
	entries, listErr := Catalog(ctx, dests)
	var un *Unreachable
	errors.As(listErr, &un)
	kept, suspects := Trusted(OfStack(entries, q.Stack), q.Before, tolerance)
	e, err := Choose(kept, q)
	if err != nil && len(suspects) > 0 {
		err = &SuspectsError{Err: err, Suspects: suspects}
	}
	if err != nil && un != nil {
		return e, suspects, un, fmt.Errorf("%w (and %w)", err, un)
	}
	return e, suspects, un, err
}
