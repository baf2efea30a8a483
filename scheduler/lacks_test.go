package scheduler

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/appwrite-dr/dr/config"
)

// A backup that committed but lacks something (a broken view it left
// out) is heard by failure targets, says what is missing, and shows in
// the metrics; one that holds everything stays a plain success.
func TestBackupThatLacksSomethingIsLoud(t *testing.T) {
	lacks := []string{"view appwrite.v is not in the backup: it cannot be opened (Table 'appwrite.gone' doesn't exist)"}
	for _, tc := range []struct {
		name    string
		lacks   []string
		sent    bool
		title   string
		metricV string
		inBody  string
	}{
		{name: "lacks a view", lacks: lacks, sent: true, title: "dr backup success, INCOMPLETE (1 missing): app", metricV: "1", inBody: "\nmissing: " + lacks[0]},
		{name: "holds everything", sent: false, title: "dr backup success: app", metricV: "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Stack.Project = "app"
			cfg.Notify = []config.Notify{{Name: "ops", URL: "https://hooks.example.invalid/x", On: []string{EventFailure}}}
			run := Run{Kind: KindBackup, Outcome: OutcomeSuccess, Started: day(10, 8, 0), Ended: day(10, 8, 1), Backup: "b", Lacks: tc.lacks}

			var mu sync.Mutex
			var sent []string
			n := &Notifier{Send: func(_ context.Context, _, title, msg string, _ Run) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, title+"\n"+msg)
				return nil
			}}
			n.Notify(context.Background(), cfg, run)
			n.Wait(10 * time.Second)
			if (len(sent) == 1) != tc.sent {
				t.Fatalf("sent %q to a failure target, want sent=%v", sent, tc.sent)
			}
			if title, _ := message(cfg, run); title != tc.title {
				t.Errorf("title = %q, want %q", title, tc.title)
			}
			if tc.sent && !strings.Contains(sent[0], tc.inBody) {
				t.Errorf("message %q lacks %q", sent[0], tc.inBody)
			}

			src := fixedSource{snap: Snapshot{Config: cfg, History: History{Runs: []Run{run}}}}
			srv := httptest.NewServer(Handler(src, "", "v1"))
			defer srv.Close()
			expected := "# HELP dr_backup_last_missing_objects What the last backup could not hold (views it left out, histories it could not dump): a restore of it lacks them.\n" +
				"# TYPE dr_backup_last_missing_objects gauge\ndr_backup_last_missing_objects " + tc.metricV + "\n"
			if err := testutil.ScrapeAndCompare(srv.URL+"/metrics", strings.NewReader(expected), "dr_backup_last_missing_objects"); err != nil {
				t.Error(err)
			}
		})
	}
}
