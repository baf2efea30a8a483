package runbook

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestHackedShowsDiffBeforeGoingOn: the hacked runbook shows what changed
// since the backup it picked, then asks; a "no" stops it with nothing
// changed.
func TestHackedShowsDiffBeforeGoingOn(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	clean := nextTime()
	cleanName := backupAt(t, eng, cfg, dests, clean)

	t.Cleanup(func() {
		s.SQL(t, "DELETE FROM appwrite._1_users WHERE _uid = 'intruder'")
		s.Exec(t, teststack.AppService, "rm -f /storage/uploads/app-console/backdoor.php")
	})
	s.SQL(t, "INSERT INTO appwrite._1_users (_uid, name, email) VALUES ('intruder', 'eve', 'eve@example.invalid')")
	s.Exec(t, teststack.AppService, "echo '<?php eval($_POST[x]);' > /storage/uploads/app-console/backdoor.php")

	var out bytes.Buffer
	env := runbookEnv(eng, cfg, dests, &out)
	env.Before = clean.Add(30 * time.Minute)
	var asked []string
	refused := errors.New("not confirmed; nothing was changed")
	env.Confirm = func(what string) error {
		asked = append(asked, what)
		return refused
	}
	rb, err := Find("hacked")
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), rb, env)
	var stepErr *StepError
	if !errors.As(err, &stepErr) || stepErr.Number != 2 || !errors.Is(err, refused) {
		t.Fatalf("the run ended with %v, want a stop at step 2 on the refusal\n%s", err, out.String())
	}
	log := out.String()
	for _, want := range []string{
		"dr diff " + cleanName + " -> live",
		"    + app-console/backdoor.php",
		"~ table appwrite._1_users: rows 1000 -> 1001 (+1)",
		"2 differences",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if len(asked) != 1 || !strings.Contains(asked[0], cleanName) {
		t.Errorf("asked %q, want one question naming %s", asked, cleanName)
	}
	if strings.Contains(log, "[3/") {
		t.Errorf("the run went past the question:\n%s", log)
	}
	if n := s.SQL(t, "SELECT COUNT(*) FROM appwrite._1_users WHERE _uid = 'intruder'"); n != "1" {
		t.Errorf("a refused run changed the database (%s intruder rows)", n)
	}
}
