package drill

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

// ReportedChecksums takes the newest drill report holding checksums across
// destinations, passes over older reports without them, and names the fix
// when there is none.
func TestDrillChecksumsPicksNewestWithSums(t *testing.T) {
	const backup = "app-20261126T090000Z.tar.zst"
	at := func(h int) time.Time { return time.Date(2026, 11, 26, h, 0, 0, 0, time.UTC) }
	archiveSum, otherSum := strings.Repeat("5e", 32), strings.Repeat("ab", 32)
	report := func(h int, sums, archiveSHA256 string) []byte {
		s := `{"backup":"` + backup + `","archive_sha256":"` + archiveSHA256 + `","started":"` + at(h).Format(time.RFC3339) + `","passed":true,"checks":[]`
		if sums != "" {
			s += `,"checksums":` + sums
		}
		return []byte(s + "}")
	}
	type put struct {
		dest int
		hour int
		sums string
		// archive is the sum the report names: "" (unbound), the
		// backup's own, or another archive's.
		archive string
	}
	tests := []struct {
		name    string
		reports []put
		want    uint64 // of app.t; 0: an error naming the fix
		from    string
	}{
		{"no reports", nil, 0, ""},
		{"only a report older than checksums", []put{{0, 10, "", ""}}, 0, ""},
		{"newest without sums, older with", []put{{0, 10, `{"app.t":1}`, ""}, {0, 11, "", ""}}, 1, "one:"},
		{"newest across destinations", []put{{0, 10, `{"app.t":1}`, ""}, {1, 12, `{"app.t":2}`, ""}, {0, 11, `{"app.t":3}`, ""}}, 2, "two:"},
		{"bound over a newer unbound", []put{{0, 10, `{"app.t":1}`, archiveSum}, {1, 12, `{"app.t":2}`, ""}, {0, 11, `{"app.t":3}`, ""}}, 1, "one:"},
		{"never another archive's", []put{{0, 10, `{"app.t":1}`, ""}, {1, 12, `{"app.t":2}`, otherSum}}, 1, "one:"},
		{"only another archive's", []put{{1, 12, `{"app.t":2}`, otherSum}}, 0, ""},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dests []*storage.Destination
			for _, name := range []string{"one", "two"} {
				d, err := storage.Open(ctx, remote.Options{Name: name, Remote: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				dests = append(dests, d)
			}
			for _, p := range tt.reports {
				if _, err := dests[p.dest].PutDrillReport(ctx, backup, at(p.hour), report(p.hour, p.sums, p.archive)); err != nil {
					t.Fatal(err)
				}
			}
			sums, from, err := ReportedChecksums(ctx, nil, dests, backup, archiveSum)
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "run dr drill "+backup+" first") {
					t.Fatalf("err = %v, want one naming dr drill", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sums["app.t"] != tt.want || !strings.HasPrefix(from, tt.from) {
				t.Fatalf("sums %v from %s, want app.t=%d from %s…", sums, from, tt.want, tt.from)
			}
		})
	}
}
