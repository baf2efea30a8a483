package runbook

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/RUNBOOKS.md")

// TestRunbooksDocIsCurrent keeps docs/RUNBOOKS.md equal to what the
// definitions render.
func TestRunbooksDocIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "RUNBOOKS.md")
	want := Markdown(All())
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./restore/runbook -update writes it)", err)
	}
	if string(got) != want {
		t.Error("docs/RUNBOOKS.md is stale: run go test ./restore/runbook -run TestRunbooksDocIsCurrent -update")
	}
}

func TestEveryRunbookIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, rb := range All() {
		if seen[rb.ID] {
			t.Errorf("runbook id %s twice", rb.ID)
		}
		seen[rb.ID] = true
		if rb.Title == "" || rb.Crisis == "" || rb.When == "" || !strings.Contains(rb.Usage, "dr runbook run "+rb.ID) {
			t.Errorf("runbook %s lacks its title, crisis, when or usage", rb.ID)
		}
		if len(rb.Steps) == 0 || rb.Steps[0].Title != pickStep().Title {
			t.Errorf("runbook %s does not start by picking and verifying the backup", rb.ID)
		}
		for _, st := range rb.Steps {
			if st.Title == "" || st.Does == "" || st.OnFailure == "" || st.Run == nil {
				t.Errorf("runbook %s: step %q lacks what it does, what to do on failure, or its code", rb.ID, st.Title)
			}
		}
	}
	for _, id := range []string{"server-lost", "hacked", "db-corrupted", "volumes-missing", "upgrade-failed"} {
		if _, err := Find(id); err != nil {
			t.Error(err)
		}
	}
	if _, err := Find("nope"); err == nil || !strings.Contains(err.Error(), "server-lost") {
		t.Errorf("Find(nope) = %v, want the list of runbooks", err)
	}
}
