package runbook

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// uploadedAt makes a backup on the local destinations look uploaded at
// the time its pinned clock named it, as it would have been: the
// hacked runbook trusts a backup by its upload time (see
// storage.Suspicious).
func uploadedAt(t *testing.T, cfg *config.Config, name string, at time.Time) {
	t.Helper()
	for _, d := range cfg.Destinations {
		for _, obj := range []string{name, archive.SidecarName(name)} {
			if err := os.Chtimes(filepath.Join(d.Remote, obj), at, at.Add(time.Minute)); err != nil {
				t.Fatalf("back-dating %s: %v", obj, err)
			}
		}
	}
}

// TestHackedRefusesAPlantedBackup: the attacker, holding the host, runs
// dr with its clock set back and so plants a complete, valid backup of
// the compromised stack under a name dated before the breach. Its upload
// time on the destination is after --before: the runbook refuses it,
// says so, and restores the genuine older backup.
func TestHackedRefusesAPlantedBackup(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	want := take(t, s)
	now := time.Now().UTC().Truncate(time.Second)
	genuine := backupAt(t, eng, cfg, dests, now.Add(-72*time.Hour))
	breach := now.Add(-24 * time.Hour)

	s.SQL(t, "INSERT INTO appwrite._1_users (_uid, _createdAt, _updatedAt, _permissions, name, email, status) VALUES ('planted1', NOW(3), NOW(3), '[]', 'mallory', 'mallory@example.invalid', 1)")
	res, err := backup.Run(context.Background(), eng, cfg, dests, backup.Options{ToolVersion: "dr test", SkipPrune: true,
		Now: func() time.Time { return breach.Add(-12 * time.Hour) }})
	if err != nil {
		t.Fatalf("planting: %v", err)
	}
	planted := res.Name
	if !strings.HasPrefix(planted, s.Project+"-") || planted <= genuine {
		t.Fatalf("planted %s does not sort after the genuine %s: the test proves nothing", planted, genuine)
	}

	var out bytes.Buffer
	env := runbookEnv(eng, cfg, dests, &out)
	env.Before = breach
	log := runRunbook(t, "hacked", env)
	if !strings.Contains(log, "refused "+planted+" as suspicious") || !strings.Contains(log, "after --before") {
		t.Errorf("the log does not name the planted backup %s as refused:\n%s", planted, log)
	}
	if !strings.Contains(log, "steps done; restored from "+genuine) {
		t.Errorf("the runbook did not restore the genuine %s:\n%s", genuine, log)
	}
	if n := s.SQL(t, "SELECT COUNT(*) FROM appwrite._1_users WHERE _uid = 'planted1'"); n != "0" {
		t.Errorf("the planted backup's row is in the database (%s)", n)
	}
	assertRecovered(t, want, take(t, s))
}
