package runbook

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// stopNewTimeout is how long each service of the failed version gets to
// exit before it is killed.
const stopNewTimeout = 30 * time.Second

func upgradeFailed() *Runbook {
	return &Runbook{
		ID:     "upgrade-failed",
		Title:  "An upgrade failed",
		Crisis: "An Appwrite upgrade (new image tags in docker-compose.yml, new .env keys, a migrated database) left the stack broken or misbehaving. The version from before the upgrade comes back as it was: its compose files and .env, its database and its volumes from the newest pinned backup, the one taken with dr backup --pin --note before upgrading, and its containers run the old images again.",
		When:   "the upgrade or its migration failed, or the new version misbehaves, and going back is the way out. Before every upgrade, take the backup this runbook goes back to: dr backup --pin --note \"before 1.8.1\". Whatever was written after that backup is lost; the upgraded database is kept in state_dir/safety.",
		Usage:  "# before the upgrade:\ndr backup --pin --note \"before 1.8.1\" --config /etc/dr/dr.yaml\n# the upgrade failed:\ndr runbook run upgrade-failed --config /etc/dr/dr.yaml",
		Steps: []Step{
			{
				Title:     pickStep().Title,
				Does:      "Lists the complete backups on the destinations and picks the newest pinned one (dr backup --pin, dr pin; with --before, the newest pinned one taken before it), however many newer unpinned backups there are; prints its note, fetches its sidecar manifest, and downloads and checks the whole archive against it, decrypting with --identity. Nothing is changed.",
				OnFailure: "dr list shows the backups and which are pinned (PINNED column). With no pinned backup there is nothing known to predate the upgrade: pin the one taken before it with dr pin NAME --note TEXT and run the runbook again.",
				Run:       pickPinned,
			},
			{
				Title:     "Stop the new version",
				Does:      "Stops every service of the compose project but the database, so that the new version writes nothing more, including services the old version does not have.",
				OnFailure: "read the error: it names the service. docker compose ps in stack.dir shows what runs.",
				Run:       stopNewVersion,
			},
			{
				Title:     "Write the old version's compose files and .env",
				Does:      "Writes the backup's stack files to stack.dir (.env with mode 0600); the new version's files are kept beside them as *.dr-replaced-<time>, identical ones are left alone.",
				OnFailure: "check that stack.dir is a writable directory on this host.",
				Run:       restorePart(restore.PartFiles),
			},
			{
				Title:     "Start the database service only",
				Does:      "Runs docker compose up -d for the database service with the old compose files (recreating it when the upgrade changed its image), so nothing else writes yet.",
				OnFailure: "run docker compose up -d <database service> in stack.dir by hand and read its error: the old images must still be on this host or pullable.",
				Run:       startDatabase,
			},
			{
				Title:     "Wait until the database accepts connections",
				Does:      "Asks the server over TCP inside its container until it answers.",
				OnFailure: "read docker compose logs <database service>. When the upgrade also moved the database server to a newer version whose data files the old server cannot read, remove the database volume (the safety dump of an earlier run, or the new version's data, is gone with it) and run the runbook again: the import fills a fresh one.",
				Run:       waitDatabase,
			},
			{
				Title:     "Import the old version's database",
				Does:      "Saves the upgraded database to state_dir/safety, then imports the backup's dump chunk by chunk, each checked against its sha256 before it reaches the server, replacing the migrated schema and rows whole; every table's row count is compared with the backup's.",
				OnFailure: "read the error: it names the chunk or table. The safety dump holds the upgraded database; the error prints the command that puts it back.",
				Run:       restorePart(restore.PartDB),
			},
			{
				Title:     "Restore the volumes",
				Does:      "Makes each configured volume equal to the backup's, file for file, with modes and owners, undoing what the new version wrote to it.",
				OnFailure: "read the error: it names the volume. docker volume ls shows what exists.",
				Run:       restorePart(restore.PartVolumes),
			},
			{
				Title:     "Start the old version",
				Does:      "Runs docker compose up -d --remove-orphans in stack.dir: compose recreates each service whose image or settings the old files change, and removes the containers of services only the new version had.",
				OnFailure: "run docker compose up -d --remove-orphans in stack.dir and read docker compose logs.",
				Run:       startOldVersion,
			},
			checkRowsStep(),
			{
				Title:     "Check that the old version runs",
				Does:      "Asks docker compose for the image each service of the restored compose files names, and checks that every one of its containers runs that image, and that no container of another service is left.",
				OnFailure: "a service running another image was not recreated: run docker compose up -d --force-recreate SERVICE in stack.dir.",
				Run:       checkOldVersion,
			},
		},
	}
}

// pickPinned picks the newest pinned backup of the stack: the one kept
// before the upgrade. A newer unpinned backup may already hold the new
// version's schema, so the newest backup is the wrong one here.
func pickPinned(ctx context.Context, env *Env) error {
	entry, unreachable, err := storage.ChooseFrom(ctx, env.Destinations, storage.Query{Stack: env.Config.Stack.Project, Pinned: true, Before: env.Before})
	if err != nil {
		return err
	}
	if unreachable != nil {
		fmt.Fprintf(env.Out, "      %v; picking among the others\n", unreachable)
	}
	note := entry.PinNote
	if note == "" {
		note = "(no note)"
	}
	fmt.Fprintf(env.Out, "      the newest pinned backup: %s, pinned with note: %s\n", entry.Name, note)
	// Going back to the old version is the point: its restores go into a
	// stack of another Appwrite version.
	env.acrossVersions = true
	return pickVerified(ctx, env, restore.Request{Name: entry.Name})
}

func stopNewVersion(ctx context.Context, env *Env) error {
	stack, err := env.Engine.FindStack(ctx, env.project, env.Config.Stack.Database.Service)
	if err != nil {
		return err
	}
	var services []string
	for _, svc := range stack.Services() {
		if svc != env.Config.Stack.Database.Service {
			services = append(services, svc)
		}
	}
	stopped, err := env.Engine.StopServices(ctx, stack, services, stopNewTimeout)
	if len(stopped) > 0 {
		fmt.Fprintf(env.Out, "      stopped %s\n", strings.Join(stopped, ", "))
	} else if err == nil {
		fmt.Fprintln(env.Out, "      nothing but the database was running")
	}
	return err
}

// versionComposer is what the last steps need from compose beyond Up:
// removing what only the new version had, and reading which image each
// service of the restored files runs.
type versionComposer interface {
	UpRemovingOrphans(ctx context.Context, dir, project string) error
	Images(ctx context.Context, dir, project string) (map[string]string, error)
}

func composerOf(env *Env) (versionComposer, error) {
	vc, ok := env.Compose.(versionComposer)
	if !ok {
		return nil, fmt.Errorf("the compose runner %T cannot remove orphans or read images; dr's own (CLICompose) can", env.Compose)
	}
	return vc, nil
}

func startOldVersion(ctx context.Context, env *Env) error {
	vc, err := composerOf(env)
	if err != nil {
		return err
	}
	return vc.UpRemovingOrphans(ctx, env.Config.Stack.Dir, env.project)
}

func checkOldVersion(ctx context.Context, env *Env) error {
	vc, err := composerOf(env)
	if err != nil {
		return err
	}
	images, err := vc.Images(ctx, env.Config.Stack.Dir, env.project)
	if err != nil {
		return err
	}
	stack, err := env.Engine.FindStack(ctx, env.project, env.Config.Stack.Database.Service)
	if err != nil {
		return err
	}
	var wrong []string
	for _, svc := range sortedKeys(images) {
		if images[svc] == "" {
			fmt.Fprintf(env.Out, "      %s: built from a Dockerfile, not checked\n", svc)
			continue
		}
		cts := stack.ServiceContainers(svc)
		if len(cts) == 0 {
			wrong = append(wrong, fmt.Sprintf("service %s has no container", svc))
			continue
		}
		for _, ct := range cts {
			switch {
			case ct.Image != images[svc]:
				wrong = append(wrong, fmt.Sprintf("%s runs %s, not %s", ct.Name, ct.Image, images[svc]))
			case !ct.Running:
				wrong = append(wrong, fmt.Sprintf("%s is not running", ct.Name))
			}
		}
		fmt.Fprintf(env.Out, "      %s: %s\n", svc, images[svc])
	}
	for _, svc := range stack.Services() {
		if _, ok := images[svc]; !ok {
			wrong = append(wrong, fmt.Sprintf("service %s, which the restored compose files lack, still has a container", svc))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("the stack does not run the old version: %s", strings.Join(wrong, "; "))
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// UpRemovingOrphans runs compose up -d --remove-orphans for every service
// of the project whose docker-compose.yml and .env are in dir.
func (CLICompose) UpRemovingOrphans(ctx context.Context, dir, project string) error {
	_, err := runCompose(ctx, dir, "-p", project, "up", "-d", "--remove-orphans")
	return err
}

// Images is the image each service of the compose files in dir runs, as
// compose resolves it (variables from .env and the environment filled in);
// "" for a service built from a Dockerfile.
func (CLICompose) Images(ctx context.Context, dir, project string) (map[string]string, error) {
	out, err := runCompose(ctx, dir, "-p", project, "config")
	if err != nil {
		return nil, err
	}
	return parseComposeImages(out)
}

// parseComposeImages reads the services' images from compose config's
// output.
func parseComposeImages(config []byte) (map[string]string, error) {
	var doc struct {
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(config, &doc); err != nil {
		return nil, fmt.Errorf("reading docker compose config: %w", err)
	}
	if len(doc.Services) == 0 {
		return nil, errors.New("docker compose config lists no services")
	}
	images := map[string]string{}
	for name, svc := range doc.Services {
		images[name] = svc.Image
	}
	return images, nil
}

// runCompose runs one compose command in dir and returns its standard
// output; on failure the error carries the last lines of its output.
func runCompose(ctx context.Context, dir string, args ...string) ([]byte, error) {
	name, base := composeCommand(ctx)
	cmd := exec.CommandContext(ctx, name, append(base, args...)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// Standard error only: compose config prints the resolved
		// environment, .env secrets included, on standard output.
		return nil, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(append(base, args...), " "), dir, err, lastLines(stderr.String(), 8))
	}
	return out, nil
}
