package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

func TestSuspicious(t *testing.T) {
	named := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	breach := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		uploaded  time.Time
		before    time.Time
		tolerance time.Duration
		want      string // "" trusted, else a word of the reason
	}{
		{"uploaded minutes after its name", named.Add(12 * time.Minute), breach, 0, ""},
		{"a long backup, within the default tolerance", named.Add(5 * time.Hour), breach, 0, ""},
		{"uploaded after the breach", breach.Add(time.Hour), breach, 0, "after --before"},
		{"uploaded after the breach, whatever the tolerance", breach.Add(time.Hour), breach, 30 * 24 * time.Hour, "after --before"},
		{"far after its name, before the breach", named.Add(3 * 24 * time.Hour), breach, 0, "after the time in its name"},
		{"far after its name, wider tolerance", named.Add(3 * 24 * time.Hour), breach, 4 * 24 * time.Hour, ""},
		{"uploaded before its name says it started", named.Add(-7 * time.Hour), breach, 0, "before the time in its name"},
		{"no --before: only the gap counts", named.Add(3 * 24 * time.Hour), time.Time{}, 0, "after the time in its name"},
		{"the backend keeps no time", time.Time{}, breach, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CatalogEntry{Name: archive.ObjectName("app", named, false), Time: named, Destinations: []string{"d"}}
			if !tc.uploaded.IsZero() {
				e.Uploaded = map[string]time.Time{"d": tc.uploaded}
			}
			got := Suspicious(e, tc.before, tc.tolerance)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("trusted backup flagged: %v", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0].Reason, tc.want)):
				t.Fatalf("got %v, want one suspect saying %q", got, tc.want)
			}
		})
	}
}

// put writes an object with the modification time the uploader claims,
// as an attacker with the destination's credentials can.
func putAt(t *testing.T, d *Destination, name string, data []byte, claimed time.Time) {
	t.Helper()
	if err := d.r.PutOnce(context.Background(), name, data, claimed); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
}

// plant writes a complete backup (archive and sidecar) named at named,
// with both objects claiming to be written at claimed.
func plant(t *testing.T, d *Destination, named, claimed time.Time) string {
	t.Helper()
	name := archive.ObjectName("appwrite", named, false)
	data := payload(4096)
	putAt(t, d, name, data, claimed)
	side, err := sidecarFor(name, int64(len(data)), sha(data)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	putAt(t, d, archive.SidecarName(name), side, claimed)
	return name
}

// The decision on the in-memory store, in milliseconds: a backup planted
// under an earlier name but written after the breach is never chosen by
// --before; the genuine older one is, and the planted one is named.
func TestChooseTrustedPassesOverAPlantedBackupWithFakes(t *testing.T) {
	ctx := context.Background()
	d := open(t, "mem", remotetest.Memory(t), nil)
	breach := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	genuine := plant(t, d, breach.Add(-48*time.Hour), breach.Add(-48*time.Hour+10*time.Minute))
	planted := plant(t, d, breach.Add(-24*time.Hour), breach.Add(36*time.Hour))
	after := plant(t, d, breach.Add(time.Hour), breach.Add(time.Hour+5*time.Minute))

	got, suspects, un, err := ChooseTrusted(ctx, []*Destination{d}, Query{Stack: "appwrite", Before: breach}, 0)
	if err != nil || un != nil {
		t.Fatalf("ChooseTrusted: %v, %v", err, un)
	}
	if got.Name != genuine {
		t.Fatalf("chose %s, want the genuine %s", got.Name, genuine)
	}
	if len(suspects) != 1 || suspects[0].Backup != planted || suspects[0].Destination != "mem" {
		t.Fatalf("suspects %v, want only %s", suspects, planted)
	}
	// Without --before nothing is judged: the newest is the newest.
	if got, suspects, _, err := ChooseTrusted(ctx, []*Destination{d}, Query{Stack: "appwrite"}, 0); err != nil || got.Name != after || suspects != nil {
		t.Fatalf("latest: %s, %v, %v", got.Name, suspects, err)
	}
	// Named, it is the operator's explicit choice.
	if got, _, _, err := ChooseTrusted(ctx, []*Destination{d}, Query{Stack: "appwrite", Name: planted, Before: breach}, 0); err != nil || got.Name != planted {
		t.Fatalf("named: %s, %v", got.Name, err)
	}
	// With only the planted one before the breach: no backup, and why.
	d2 := open(t, "mem2", remotetest.Memory(t), nil)
	plant(t, d2, breach.Add(-24*time.Hour), breach.Add(36*time.Hour))
	_, _, _, err = ChooseTrusted(ctx, []*Destination{d2}, Query{Stack: "appwrite", Before: breach}, 0)
	var se *SuspectsError
	if !errors.As(err, &se) || !errors.Is(err, ErrNoBackup) || !strings.Contains(err.Error(), "after --before") {
		t.Fatalf("got %v, want ErrNoBackup naming the suspect", err)
	}
}

// Which backends' upload time an uploader can forge: the local directory
// and SFTP keep the mtime the uploader set, so there the check above
// catches only a careless attacker, as docs/security.md says. (A real S3
// keeps its own Last-Modified, which dr asks rclone for; the in-process
// S3 server of the tests stores the claimed time as its file's time, so
// it cannot stand in for one here.)
func TestUploadTimeTheUploaderCanForge(t *testing.T) {
	forged := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		kind  string
		where func(t *testing.T) string
	}{
		{"local", func(t *testing.T) string { return t.TempDir() }},
		{"sftp", func(t *testing.T) string { return remotetest.StartSFTP(t, t.TempDir()) }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			d := open(t, tc.kind, tc.where(t), nil)
			plant(t, d, forged, forged)
			l, err := d.List(context.Background())
			if err != nil || len(l) != 1 {
				t.Fatalf("list: %v, %v", l, err)
			}
			if up := l[0].Uploaded; !up.Equal(forged) {
				t.Fatalf("upload time %s, want the forged %s (if this backend now keeps its own time, say so in docs/security.md)", up, forged)
			}
		})
	}
}
