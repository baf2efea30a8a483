package storage

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

func TestJudgeDrillReport(t *testing.T) {
	backup := archive.ObjectName("appwrite", when, false)
	sum := strings.Repeat("5e", 32)
	facts := backupFacts{name: backup, taken: when, archiveSHA256: sum}
	now := when.Add(48 * time.Hour)
	drilled := when.Add(30 * time.Minute)
	object := func(at time.Time) string { return DrillReportName(backup, at) }
	for _, tc := range []struct {
		name       string
		object     string
		data       []byte
		readErr    error
		binding    string
		provesPass bool
		reason     string
	}{
		{"bound pass", object(drilled), drillReport(backup, sum, drilled, true), nil, DrillBound, true, ""},
		{"bound failure", object(drilled), drillReport(backup, sum, drilled, false), nil, DrillBound, false, ""},
		{"bound, with the start's fraction of a second", object(drilled), drillReport(backup, sum, drilled.Add(250*time.Millisecond), true), nil, DrillBound, true, ""},
		{"unbound pass (a dr from before the binding)", object(drilled), drillReport(backup, "", drilled, true), nil, DrillUnbound, false, ""},
		{"another archive", object(drilled), drillReport(backup, strings.Repeat("ab", 32), drilled, true), nil, DrillInvalid, false, "another archive"},
		{"another backup", object(drilled), drillReport(archive.ObjectName("appwrite", when.Add(-time.Hour), false), sum, drilled, true), nil, DrillInvalid, false, "another backup"},
		{"name and start disagree", object(drilled.Add(time.Hour)), drillReport(backup, sum, drilled, true), nil, DrillInvalid, false, "disagree"},
		{"dated in the future", object(now.Add(2 * time.Hour)), drillReport(backup, sum, now.Add(2*time.Hour), true), nil, DrillInvalid, false, "future"},
		{"a clock a little ahead", object(now.Add(30 * time.Minute)), drillReport(backup, sum, now.Add(30*time.Minute), true), nil, DrillBound, true, ""},
		{"dated before the backup", object(when.Add(-time.Hour)), drillReport(backup, sum, when.Add(-time.Hour), true), nil, DrillInvalid, false, "before the backup"},
		{"not JSON", object(drilled), []byte(`{"passed": tru`), nil, DrillInvalid, false, "unreadable"},
		{"cannot be read", object(drilled), nil, errors.New("403"), DrillInvalid, false, "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := judgeDrillReport(tc.object, tc.data, tc.readErr, facts, now)
			if got.Binding != tc.binding || got.ProvesPass() != tc.provesPass || got.Object != tc.object {
				t.Errorf("binding %q, proves a pass %v, object %q; want %q, %v, %q (%+v)", got.Binding, got.ProvesPass(), got.Object, tc.binding, tc.provesPass, tc.object, got)
			}
			if tc.reason != "" && (got.Passed || !strings.Contains(strings.Join(got.Failed, " "), tc.reason)) {
				t.Errorf("an invalid report reads %+v, want a failure saying %q", got, tc.reason)
			}
		})
	}
}

func TestNewestDrill(t *testing.T) {
	at := func(min int) time.Time { return when.Add(time.Duration(min) * time.Minute) }
	report := func(object, binding string, started time.Time) *DrillSummary {
		return &DrillSummary{Object: object, Binding: binding, Started: started}
	}
	for _, tc := range []struct {
		name    string
		reports []*DrillSummary
		want    string
	}{
		{"none", nil, ""},
		{"only nils", []*DrillSummary{nil, nil}, ""},
		{"newest by the time inside, not the name", []*DrillSummary{report("z-named-late", DrillBound, at(1)), report("a-named-early", DrillBound, at(2))}, "a-named-early"},
		{"bound over a newer unbound", []*DrillSummary{report("bound", DrillBound, at(1)), report("unbound", DrillUnbound, at(5))}, "bound"},
		{"unbound over a newer invalid", []*DrillSummary{report("invalid", DrillInvalid, at(9)), report("unbound", DrillUnbound, at(1))}, "unbound"},
		{"an invalid one when nothing else", []*DrillSummary{report("old", DrillInvalid, at(1)), nil, report("new", DrillInvalid, at(2))}, "new"},
		{"same time: the later name", []*DrillSummary{report("b", DrillBound, at(1)), report("c", DrillBound, at(1))}, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newestDrill(tc.reports)
			if (got == nil && tc.want != "") || (got != nil && got.Object != tc.want) {
				t.Errorf("newestDrill = %+v, want %q", got, tc.want)
			}
		})
	}
}
