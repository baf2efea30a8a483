package notify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

// A backup that committed but lacks something (a broken view it left
// out) is heard by failure targets and says what is missing; one that
// holds everything stays a plain success. (The metric of the same run is
// httpapi's TestBackupThatLacksSomethingShowsInTheMetrics.)
func TestBackupThatLacksSomethingIsLoud(t *testing.T) {
	lacks := []string{"view appwrite.v is not in the backup: it cannot be opened (Table 'appwrite.gone' doesn't exist)"}
	for _, tc := range []struct {
		name   string
		lacks  []string
		sent   bool
		title  string
		inBody string
	}{
		{name: "lacks a view", lacks: lacks, sent: true, title: "dr backup success, INCOMPLETE (1 missing): app", inBody: "\nmissing: " + lacks[0]},
		{name: "holds everything", sent: false, title: "dr backup success: app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Stack.Project = "app"
			cfg.Notify = []config.Notify{{Name: "ops", URL: "https://hooks.example.invalid/x", On: []string{EventFailure}}}
			started := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
			run := health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess, Started: started, Ended: started.Add(time.Minute), Backup: "b", Lacks: tc.lacks}

			var mu sync.Mutex
			var sent []string
			n := &Notifier{Send: func(_ context.Context, _, title, msg string, _ health.Run) error {
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
		})
	}
}
