package health

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A history written before drills were recorded still loads, and one with
// drills round-trips.
func TestHistoryDrillFieldIsOptional(t *testing.T) {
	dir := t.TempDir()
	old := `{"version":1,"last_due":{},"runs":[{"kind":"drill","trigger":"schedule","started":"2026-01-04T09:00:00Z","ended":"2026-01-04T09:01:00Z","outcome":"success","duration_ns":60000000000}]}`
	if err := os.WriteFile(filepath.Join(dir, HistoryFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Last(KindDrill); r == nil || r.Drill != nil || h.LastDrillRTO() != nil {
		t.Fatalf("old history read as %+v", h.Runs)
	}
	h.Runs[0].Drill = &DrillOutcome{RTOSeconds: 3, Passed: true, Checks: 9}
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	again, err := LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := again.LastDrillRTO(); r == nil || !reflect.DeepEqual(*r.Drill, DrillOutcome{RTOSeconds: 3, Passed: true, Checks: 9}) {
		t.Fatalf("round trip: %+v", again.Runs)
	}
}

func TestHistoryIsBoundedAndAtomic(t *testing.T) {
	dir := t.TempDir()
	h, err := LoadHistory(dir)
	if err != nil || len(h.Runs) != 0 {
		t.Fatalf("a missing history: %v, %+v", err, h)
	}
	for i := range MaxRuns + 10 {
		h.Add(Run{Kind: KindBackup, Bytes: int64(i)})
	}
	if len(h.Runs) != MaxRuns || h.Runs[0].Bytes != 10 {
		t.Fatalf("kept %d runs from %d, want the newest %d", len(h.Runs), h.Runs[0].Bytes, MaxRuns)
	}
	if err := h.Save(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only the history (no temporary left)", len(entries))
	}
	again, err := LoadHistory(dir)
	if err != nil || len(again.Runs) != MaxRuns {
		t.Fatalf("reload: %v, %d runs", err, len(again.Runs))
	}
	if err := os.WriteFile(filepath.Join(dir, HistoryFile), []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHistory(dir); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Errorf("a corrupt history: got %v, want an error saying what to do", err)
	}
}
