package runbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/forensics"
	"github.com/appwrite-dr/dr/storage"
)

// withDiff puts the diff step right after the first step, which picks and
// verifies the backup: the operator sees what changed since it before
// anything is written.
func withDiff(steps []Step) []Step {
	return slices.Insert(steps, 1, diffStep())
}

func diffStep() Step {
	return Step{
		Title:     "Show what changed since the backup",
		Does:      "Compares the picked backup with the stack running on this host, as dr diff --live does: files added, removed or changed in the volumes, row counts, tables, views, triggers, routines, events and database users added or removed, compose files as unified diffs, .env keys (never their values). On a clean host with no stack running there is nothing to compare, and the step says so. Then it asks whether to go on (--yes goes on).",
		OnFailure: "read the error: it names what could not be read (a volume, the database, the stack dir). Answering anything but yes stops here with nothing changed; run the runbook again with another --before to pick an older backup.",
		Run:       showDiff,
	}
}

func showDiff(ctx context.Context, env *Env) error {
	if env.backup == "" || env.manifest == nil {
		return errors.New("no backup picked: the first step did not run")
	}
	opts := forensics.StackOptions(env.Config.Stack, env.project)
	stack, err := env.Engine.FindStack(ctx, opts.Project, opts.DBService)
	if err == nil {
		if db, ok := stack.Service(opts.DBService); !ok || !db.Running {
			err = fmt.Errorf("the %s container is not running", opts.DBService)
		}
	}
	if err != nil {
		fmt.Fprintf(env.Out, "      no running stack to compare with (%v); nothing to show\n", err)
		return nil
	}
	i := slices.IndexFunc(env.Destinations, func(d *storage.Destination) bool { return d.Name() == env.source })
	if i < 0 {
		return fmt.Errorf("the destination %s the first step read from is not open", env.source)
	}
	report, err := forensics.CompareLive(ctx, env.Engine, env.Destinations[i], env.backup, env.manifest, env.Identities, opts)
	if err != nil {
		return err
	}
	if err := report.WriteText(&indented{w: env.Out, prefix: "      "}); err != nil {
		return err
	}
	if env.Confirm == nil {
		return nil
	}
	return env.Confirm("the live stack differs from " + env.backup + " as shown; go on and restore it")
}

// indented prefixes every line written through it.
type indented struct {
	w      io.Writer
	prefix string
}

func (d *indented) Write(p []byte) (int, error) {
	lines := strings.SplitAfter(string(p), "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(d.prefix + l)
		}
	}
	if _, err := io.WriteString(d.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
