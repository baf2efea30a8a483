package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

func TestDrillReportNames(t *testing.T) {
	backup := archive.ObjectName("appwrite", when, true)
	at := time.Date(2026, 11, 26, 9, 30, 5, 0, time.UTC)
	name := DrillReportName(backup, at)
	if want := backup + ".drill-20261126T093005Z.json"; name != want {
		t.Fatalf("name %q, want %q", name, want)
	}
	b, got, ok := ParseDrillReportName(name)
	if !ok || b != backup || !got.Equal(at) {
		t.Fatalf("parsed %q %v %v", b, got, ok)
	}
	for _, bad := range []string{
		backup, archive.SidecarName(backup), archive.PinName(backup),
		backup + ".drill-.json", backup + ".drill-20261126T093005Z.txt",
		"notes.drill-20261126T093005Z.json", ".drill-20261126T093005Z.json",
	} {
		if _, _, ok := ParseDrillReportName(bad); ok {
			t.Errorf("%q parsed as a drill report", bad)
		}
	}
}

// drillReport is a report of backup at at, bound to the archive whose
// sha256 is archiveSHA256 (unbound when it is "", as a dr from before the
// binding wrote them).
func drillReport(backup, archiveSHA256 string, at time.Time, passed bool) []byte {
	return []byte(fmt.Sprintf(`{"backup":%q,"archive_sha256":%q,"started":%q,"passed":%v,"rto_seconds":12.5,"checks":[]}`, backup, archiveSHA256, at.Format(time.RFC3339Nano), passed))
}

// archiveSHA256s are the archive sums the sidecars on d record, by backup.
func archiveSHA256s(t *testing.T, d *Destination) map[string]string {
	t.Helper()
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, b := range list {
		sums[b.Name] = b.Manifest.Object.SHA256
	}
	return sums
}

// TestDrillReportsFeedListAndRetention: the newest report is the backup's
// last drill; the newest backup whose drill passed is kept by retention;
// prune deletes reports with their backup, and reports whose backup is
// gone after the grace period; a report is never written twice.
func TestDrillReportsFeedListAndRetention(t *testing.T) {
	conformance(t, func(t *testing.T, where string) {
		ctx := context.Background()
		d := open(t, "dest", where, nil)
		names := sevenDaily(t, d)
		sums := archiveSHA256s(t, d)
		drilled, failed := names[1], names[3]
		first := when.Add(time.Minute)
		if _, err := d.PutDrillReport(ctx, drilled, first, drillReport(drilled, sums[drilled], first, false)); err != nil {
			t.Fatal(err)
		}
		second := first.Add(time.Minute)
		if _, err := d.PutDrillReport(ctx, drilled, second, drillReport(drilled, sums[drilled], second, true)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.PutDrillReport(ctx, drilled, second, drillReport(drilled, sums[drilled], second, false)); err == nil {
			t.Error("a drill report was written over")
		}
		if _, err := d.PutDrillReport(ctx, failed, second, drillReport(failed, sums[failed], second, false)); err != nil {
			t.Fatal(err)
		}
		list, err := d.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range list {
			switch b.Name {
			case drilled:
				if b.LastDrill == nil || !b.LastDrill.Passed || b.LastDrill.RTOSeconds != 12.5 || !b.LastDrill.Started.Equal(second) {
					t.Errorf("last drill of %s: %+v", b.Name, b.LastDrill)
				}
			case failed:
				if b.LastDrill == nil || b.LastDrill.Passed {
					t.Errorf("last drill of %s: %+v", b.Name, b.LastDrill)
				}
			default:
				if b.LastDrill != nil {
					t.Errorf("%s was never drilled: %+v", b.Name, b.LastDrill)
				}
			}
		}

		opts := PruneOptions{Policy: Policy{Last: 1}, Grace: 24 * time.Hour, Now: when.Add(time.Hour)}
		rep, err := d.Prune(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{drilled, names[6]}
		slices.Sort(want)
		if got := listedNames(t, d); !slices.Equal(got, want) {
			t.Fatalf("after prune %v, want the newest and the newest drilled %v", got, want)
		}
		for _, dec := range rep.Decisions {
			if dec.Name == drilled && !slices.Contains(dec.Reasons, "newest whose drill passed") {
				t.Errorf("the drilled backup is kept for %v", dec.Reasons)
			}
		}
		left, err := d.DrillReports(ctx, failed)
		if err != nil || len(left) != 0 {
			t.Errorf("the pruned backup's reports stay: %v %v", left, err)
		}
		if kept, _ := d.DrillReports(ctx, drilled); len(kept) != 2 {
			t.Errorf("the kept backup's reports: %v", kept)
		}

		// A report whose backup is gone is a leftover, deleted after the
		// grace period.
		orphan := archive.ObjectName("appwrite", when.AddDate(0, 0, -30), false)
		if _, err := d.PutDrillReport(ctx, orphan, first, drillReport(orphan, "", first, true)); err != nil {
			t.Fatal(err)
		}
		l, err := d.ListAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Leftovers) != 1 || l.Leftovers[0].Kind != DrillReportWithoutBackup {
			t.Fatalf("leftovers %+v", l.Leftovers)
		}
		late := opts
		late.Now = time.Now().Add(48 * time.Hour)
		if _, err := d.Prune(ctx, late); err != nil {
			t.Fatal(err)
		}
		if left, _ := d.DrillReports(ctx, orphan); len(left) != 0 {
			t.Errorf("the orphan report stays: %v", left)
		}
	})
}

func TestUnreadableDrillReportIsNotAPass(t *testing.T) {
	d := open(t, "dest", t.TempDir(), nil)
	names := sevenDaily(t, d)
	if _, err := d.PutDrillReport(context.Background(), names[0], when, []byte(`{"passed": tru`)); err != nil {
		t.Fatal(err)
	}
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range list {
		if b.Name == names[0] && (b.LastDrill == nil || b.LastDrill.Passed || !strings.Contains(strings.Join(b.LastDrill.Failed, ""), "unreadable")) {
			t.Errorf("an unreadable report reads as %+v", b.LastDrill)
		}
	}
}

// TestPlantedDrillReportNeverPassesAFailedBackup: a backup whose real
// drill failed stays failed, for list and for retention, whatever report
// a host with write access plants beside it, short of one bound to the
// archive and dated plausibly, which nothing can tell from a real one
// (see docs/security.md). The name's time used to pick the last drill, so a
// report named for the end of time won.
func TestPlantedDrillReportNeverPassesAFailedBackup(t *testing.T) {
	endOfTime := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	drilled := when.Add(time.Minute)
	for _, tc := range []struct {
		name string
		// named and dated are the planted report's name time and the
		// start time inside it; bound: it names the real archive sum.
		named, dated time.Time
		bound        bool
		otherArchive bool
	}{
		{name: "unbound, named and dated the end of time", named: endOfTime, dated: endOfTime},
		{name: "bound, named and dated the end of time", named: endOfTime, dated: endOfTime, bound: true},
		{name: "bound, named the end of time, dated after the real drill", named: endOfTime, dated: drilled.Add(time.Minute), bound: true},
		{name: "unbound, after the real drill", named: drilled.Add(time.Minute), dated: drilled.Add(time.Minute)},
		{name: "about another archive, after the real drill", named: drilled.Add(time.Minute), dated: drilled.Add(time.Minute), otherArchive: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d := open(t, "dest", t.TempDir(), nil)
			names := sevenDaily(t, d)
			sums := archiveSHA256s(t, d)
			failed, passedEarlier := names[5], names[2]
			if _, err := d.PutDrillReport(ctx, passedEarlier, drilled, drillReport(passedEarlier, sums[passedEarlier], drilled, true)); err != nil {
				t.Fatal(err)
			}
			realReport, err := d.PutDrillReport(ctx, failed, drilled, drillReport(failed, sums[failed], drilled, false))
			if err != nil {
				t.Fatal(err)
			}
			sum := ""
			switch {
			case tc.otherArchive:
				sum = strings.Repeat("ab", 32)
			case tc.bound:
				sum = sums[failed]
			}
			if _, err := d.PutDrillReport(ctx, failed, tc.named, drillReport(failed, sum, tc.dated, true)); err != nil {
				t.Fatal(err)
			}
			list, err := d.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range list {
				if b.Name == failed && (b.LastDrill == nil || b.LastDrill.Passed || b.LastDrill.Object != realReport) {
					t.Errorf("the last drill of the backup whose drill failed is %+v, want the real report %s", b.LastDrill, realReport)
				}
			}
			entries, err := Catalog(ctx, []*Destination{d})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name == failed && (e.LastDrill == nil || e.LastDrill.Passed || e.LastDrill.Object != realReport) {
					t.Errorf("the catalog's last drill of the backup whose drill failed is %+v, want the real report %s", e.LastDrill, realReport)
				}
			}
			rep, err := d.Prune(ctx, PruneOptions{Policy: Policy{Last: 1}, Grace: 24 * time.Hour, Now: when.Add(time.Hour), DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, dec := range rep.Decisions {
				if dec.Name == failed && slices.Contains(dec.Reasons, "newest whose drill passed") {
					t.Errorf("retention keeps the failed backup for a drill it failed: %v", dec.Reasons)
				}
				if dec.Name == passedEarlier && !slices.Contains(dec.Reasons, "newest whose drill passed") {
					t.Errorf("retention no longer keeps the newest backup whose drill passed: %v", dec.Reasons)
				}
			}
		})
	}
}
