package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

// A backup that committed but lacks something (a broken view it left
// out) shows in the metrics; one that holds everything shows zero. (The
// notification of the same run is notify's
// TestBackupThatLacksSomethingIsLoud.)
func TestBackupThatLacksSomethingShowsInTheMetrics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lacks   []string
		metricV string
	}{
		{name: "lacks a view", lacks: []string{"view appwrite.v is not in the backup"}, metricV: "1"},
		{name: "holds everything", metricV: "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess, Started: day(10, 8, 0), Ended: day(10, 8, 1), Backup: "b", Lacks: tc.lacks}
			src := fixedSource{snap: health.Snapshot{Config: config.Default(), History: health.History{Runs: []health.Run{run}}}}
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
