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

func drillReport(backup string, at time.Time, passed bool) []byte {
	return []byte(fmt.Sprintf(`{"backup":%q,"started":%q,"passed":%v,"rto_seconds":12.5,"checks":[]}`, backup, at.Format(time.RFC3339), passed))
}

// TestDrillReportsFeedListAndRetention: the newest report is the backup's
// last drill; the newest backup whose drill passed is kept by retention;
// prune deletes reports with their backup, and reports whose backup is
// gone after the grace period; a report is never written twice.
func TestDrillReportsFeedListAndRetention(t *testing.T) {
	conformance(t, func(t *testing.T, remote string) {
		ctx := context.Background()
		d := open(t, "dest", remote, nil)
		names := sevenDaily(t, d)
		drilled, failed := names[1], names[3]
		first := when.Add(time.Minute)
		if _, err := d.PutDrillReport(ctx, drilled, first, drillReport(drilled, first, false)); err != nil {
			t.Fatal(err)
		}
		second := first.Add(time.Minute)
		if _, err := d.PutDrillReport(ctx, drilled, second, drillReport(drilled, second, true)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.PutDrillReport(ctx, drilled, second, drillReport(drilled, second, false)); err == nil {
			t.Error("a drill report was written over")
		}
		if _, err := d.PutDrillReport(ctx, failed, second, drillReport(failed, second, false)); err != nil {
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
		if _, err := d.PutDrillReport(ctx, orphan, first, drillReport(orphan, first, true)); err != nil {
			t.Fatal(err)
		}
		l, err := d.Scan(ctx)
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
