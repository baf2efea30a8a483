package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// sevenDaily commits one small backup a day for a week, oldest first.
func sevenDaily(t *testing.T, d *Destination) []string {
	t.Helper()
	var names []string
	for i := 0; i < 7; i++ {
		name := archive.ObjectName("appwrite", when.AddDate(0, 0, i-6), false)
		if res := upload(t, []*Destination{d}, name, payload(1000+i)); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		names = append(names, name)
	}
	return names
}

func listedNames(t *testing.T, d *Destination) []string {
	t.Helper()
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return names
}

func TestPruneKeepsWhatThePolicySays(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		d := open(t, "dest", where, nil)
		names := sevenDaily(t, d)
		if err := d.Pin(ctx, names[0], when); err != nil {
			t.Fatal(err)
		}
		if err := d.Pin(ctx, names[0], when); err != nil {
			t.Fatalf("pinning twice: %v", err)
		}
		opts := PruneOptions{Policy: Policy{Last: 2}, Grace: 24 * time.Hour, Now: when.Add(time.Hour)}

		dry := opts
		dry.DryRun = true
		rep, err := d.Prune(ctx, dry)
		if err != nil || rep.Removed() != 4 || len(rep.Deleted) != 0 {
			t.Fatalf("dry run: removes %d, deleted %v, %v", rep.Removed(), rep.Deleted, err)
		}
		if got := listedNames(t, d); len(got) != 7 {
			t.Fatalf("a dry run deleted something: %v", got)
		}

		rep, err = d.Prune(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{names[0], names[5], names[6]}
		slices.Sort(want)
		if got := listedNames(t, d); !slices.Equal(got, want) {
			t.Errorf("after prune %v, want the pinned one and the last 2 %v", got, want)
		}
		for _, dec := range rep.Decisions {
			if dec.Name == names[0] && !slices.Contains(dec.Reasons, "pinned") {
				t.Errorf("the pinned backup is kept for %v", dec.Reasons)
			}
		}
		// Unpinned, it goes at the next prune; nothing it left behind
		// (archive, sidecar, pin) stays.
		if err := d.Unpin(ctx, names[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Prune(ctx, opts); err != nil {
			t.Fatal(err)
		}
		l, err := d.ListAll(ctx)
		if err != nil || len(l.Complete) != 2 || len(l.Leftovers) != 0 {
			t.Errorf("after the second prune: %+v, %v", l, err)
		}
	})
}

func TestPruneLeftoversAfterTheGracePeriod(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		d := open(t, "dest", where, nil)
		sevenDaily(t, d)
		// An upload that never committed, as a crashed run leaves it.
		orphan := archive.ObjectName("appwrite", when.Add(time.Minute), false)
		u := NewUpload(ctx, []*Destination{d}, orphan)
		if _, err := u.Write(payload(5000)); err != nil {
			t.Fatal(err)
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
		empty := PruneOptions{Grace: 24 * time.Hour}

		empty.Now = time.Now().Add(time.Hour)
		rep, err := d.Prune(ctx, empty)
		if err != nil || len(rep.Deleted) != 0 {
			t.Fatalf("a young leftover was deleted: %v, %v", rep.Deleted, err)
		}
		empty.Now = time.Now().Add(25 * time.Hour)
		rep, err = d.Prune(ctx, empty)
		if err != nil || !slices.Equal(rep.Deleted, []string{orphan}) {
			t.Fatalf("after the grace period deleted %v (%v), want the orphan only", rep.Deleted, err)
		}
		if got := listedNames(t, d); len(got) != 7 {
			t.Errorf("the empty policy deleted backups: %v", got)
		}
	})
}

func TestPruneThatFailsHalfWayLeavesEveryListedBackupWhole(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		names := sevenDaily(t, open(t, "dest", where, nil))
		// Three deletes go through, then the destination refuses: the
		// second backup's sidecar goes and its archive stays.
		wrap, faulty := remotetest.FailDeletes(3)
		d := open(t, "dest", where, wrap)
		_, err := d.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Grace: 24 * time.Hour, Now: when.Add(time.Hour)})
		if !errors.Is(err, remotetest.ErrDeleteRefused) || faulty.Refused.Load() == 0 {
			t.Fatalf("got %v, want the injected refusal", err)
		}
		clean := open(t, "dest", where, nil)
		l, err := clean.ListAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range l.Complete {
			rc, err := clean.Open(ctx, b.Name)
			if err != nil {
				t.Errorf("listed backup %s has no archive: %v", b.Name, err)
				continue
			}
			rc.Close()
		}
		if len(l.Complete) < 2 || !slices.ContainsFunc(l.Complete, func(b Backup) bool { return b.Name == names[6] }) {
			t.Errorf("after the failed prune: %v; the newest must stay", l.Complete)
		}
		for _, lo := range l.Leftovers {
			if lo.Kind != ArchiveWithoutSidecar {
				t.Errorf("leftover %+v: only archives without a sidecar may be left", lo)
			}
		}
		// A later prune on a working destination finishes the job.
		if _, err := clean.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Grace: time.Hour, Now: time.Now().Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got := listedNames(t, clean); !slices.Equal(got, []string{names[6]}) {
			t.Errorf("after the second prune %v, want only the newest", got)
		}
	})
}

func TestPruneListingErrorDeletesNothing(t *testing.T) {
	d := open(t, "dest", remotetest.StartWebDAV(t, t.TempDir(), false), nil)
	names := sevenDaily(t, d)
	dead, kill := remotetest.StartWebDAVKillable(t, t.TempDir())
	dd := open(t, "dead", dead, nil)
	kill()
	ctx, ci := fs.AddConfig(context.Background())
	ci.LowLevelRetries = 1
	rep, err := dd.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Now: when})
	if err == nil || !strings.Contains(err.Error(), "nothing was deleted") || len(rep.Deleted) != 0 {
		t.Fatalf("prune of an unreachable destination: %v, deleted %v", err, rep.Deleted)
	}
	if got := listedNames(t, d); len(got) != len(names) {
		t.Errorf("the other destination lost backups: %v", got)
	}
}

// A destination shared by two stacks: a prune for one never judges or
// deletes the other's backups.
func TestPruneJudgesOnlyTheConfiguredStack(t *testing.T) {
	ctx := context.Background()
	d := open(t, "dest", t.TempDir(), nil)
	mine := sevenDaily(t, d)
	var theirs []string
	for i := 0; i < 3; i++ {
		name := archive.ObjectName("other", when.AddDate(0, 0, i-2).Add(time.Minute), false)
		if res := upload(t, []*Destination{d}, name, payload(2000+i)); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		theirs = append(theirs, name)
	}
	rep, err := d.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Grace: 24 * time.Hour, Now: when.Add(time.Hour), Stack: "appwrite"})
	if err != nil {
		t.Fatal(err)
	}
	for _, dec := range rep.Decisions {
		if strings.HasPrefix(dec.Name, "other-") {
			t.Errorf("the prune judged the other stack's %s", dec.Name)
		}
	}
	if rep.Removed() != len(mine)-1 {
		t.Errorf("removed %d, want %d", rep.Removed(), len(mine)-1)
	}
	want := append([]string{mine[len(mine)-1]}, theirs...)
	slices.Sort(want)
	if got := listedNames(t, d); !slices.Equal(got, want) {
		t.Errorf("after the prune: %v, want %v", got, want)
	}
}

// A prune told which backups its run just committed keeps them whatever
// the policy says, and deletes the rest as the policy says.
func TestPruneKeepsWhatTheRunJustCommitted(t *testing.T) {
	ctx := context.Background()
	d := open(t, "dest", t.TempDir(), nil)
	names := sevenDaily(t, d)
	justMade := names[2] // not the newest: another run's name is newer
	rep, err := d.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Grace: 24 * time.Hour, Now: when.Add(time.Hour), Committed: []string{justMade}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(rep.Deleted, justMade) {
		t.Fatalf("the prune deleted %s, which its run just committed", justMade)
	}
	for _, dec := range rep.Decisions {
		if dec.Name == justMade && (!dec.Keep || !slices.Equal(dec.Reasons, []string{"just committed by this run"})) {
			t.Errorf("decision on the run's own backup: %+v", dec)
		}
	}
	want := []string{justMade, names[len(names)-1]}
	if got := listedNames(t, d); !slices.Equal(got, want) {
		t.Errorf("after the prune: %v, want %v", got, want)
	}
}

// A prune of one stack deletes that stack's drill reports whose backup is
// gone, once past the grace period, as it does its other leftovers, and
// leaves another stack's alone.
func TestPruneOfAStackDeletesItsOrphanDrillReports(t *testing.T) {
	ctx := context.Background()
	d := open(t, "dest", t.TempDir(), nil)
	mine := archive.ObjectName("appwrite", when.AddDate(0, 0, -30), false)
	theirs := archive.ObjectName("other", when.AddDate(0, 0, -30), false)
	for _, gone := range []string{mine, theirs} {
		if _, err := d.PutDrillReport(ctx, gone, when, []byte(`{"passed": true}`)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := d.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Grace: time.Hour, Now: time.Now().Add(48 * time.Hour), Stack: "appwrite"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Deleted, []string{DrillReportName(mine, when)}) {
		t.Errorf("deleted %v, want only this stack's orphan report", rep.Deleted)
	}
	if left, _ := d.DrillReports(ctx, theirs); len(left) != 1 {
		t.Errorf("the other stack's report: %v", left)
	}
}
