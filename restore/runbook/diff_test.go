package runbook

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/restore"
)

// noStack is an engine on a clean host: no compose project runs. Any
// other call panics (the embedded interface is nil): the step must touch
// nothing else.
type noStack struct{ restore.Engine }

func (noStack) FindStack(context.Context, string, string) (*engine.Stack, error) {
	return nil, errors.New("no container has the label com.docker.compose.project=appwrite")
}

func TestDiffStepOnACleanHost(t *testing.T) {
	var out bytes.Buffer
	cfg := config.Default()
	cfg.Stack.Project = "appwrite"
	asked := false
	env := &Env{Engine: noStack{}, Config: cfg, Out: &out,
		Confirm: func(string) error { asked = true; return nil }}
	env.backup, env.manifest, env.project = "appwrite-20261120T030000Z.tar.zst", &archive.Manifest{Name: "appwrite-20261120T030000Z.tar.zst"}, "appwrite"
	if err := showDiff(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no running stack to compare with") {
		t.Errorf("printed %q", out.String())
	}
	if asked {
		t.Error("asked to go on with nothing shown")
	}
}

func TestDiffStepNeedsThePickedBackup(t *testing.T) {
	if err := showDiff(context.Background(), &Env{Out: &bytes.Buffer{}}); err == nil || !strings.Contains(err.Error(), "no backup picked") {
		t.Errorf("got %v", err)
	}
}

func TestOnlyHackedShowsTheDiff(t *testing.T) {
	for _, rb := range All() {
		has := false
		for _, st := range rb.Steps {
			has = has || st.Title == diffStep().Title
		}
		if has != (rb.ID == "hacked") {
			t.Errorf("runbook %s has the diff step: %v", rb.ID, has)
		}
		if rb.ID == "hacked" && rb.Steps[1].Title != diffStep().Title {
			t.Errorf("the diff step is not right after the pick")
		}
	}
}
