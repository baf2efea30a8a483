package drill

import (
	"encoding/json"
	"testing"
)

// A report written before the scan existed still reads, without a scan
// section.
func TestReportWithoutScanSectionParses(t *testing.T) {
	old := `{"tool":"dr 0.3","backup":"appwrite-20261101T080000Z.tar.zst","stack":"appwrite","source":"local","host":"h",
"image":"mariadb:10.11","started":"2026-11-01T09:00:00Z","finished":"2026-11-01T09:01:00Z","duration_seconds":60,
"rto_seconds":40,"backup_age_seconds":3600,"cpus":1,"memory_bytes":1073741824,"passed":true,
"checks":[{"name":"archive","passed":true,"detail":"ok"}]}`
	var rep Report
	if err := json.Unmarshal([]byte(old), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Scan != nil || !rep.Passed || len(rep.Checks) != 1 {
		t.Fatalf("%+v", rep)
	}
}
