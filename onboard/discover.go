package onboard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
)

// Engine is what discovery needs from the Docker engine.
type Engine interface {
	ComposeProjects(ctx context.Context) ([]*engine.Stack, error)
	VolumeMounts(ctx context.Context, stack *engine.Stack) ([]engine.VolumeMount, error)
}

// ErrNoCandidate says no compose project on the engine runs a database dr
// can back up.
var ErrNoCandidate = errors.New("no compose project with a MariaDB, MySQL or PostgreSQL service found")

// lookedFor is what discovery looks for, said when it finds nothing.
const lookedFor = "looked for containers labelled " + engine.LabelProject + " with a service named mariadb or postgresql or an image whose name has mariadb, mysql or postgres in it; " +
	"start the stack (docker compose up -d in its directory) and run dr init again"

// SeveralError lists the candidate projects when more than one could be
// the stack and none was chosen.
type SeveralError struct {
	Projects []string
}

func (e *SeveralError) Error() string {
	return fmt.Sprintf("several compose projects run a MariaDB, MySQL or PostgreSQL service (%s); choose one with --project NAME", strings.Join(e.Projects, ", "))
}

// Skipped is a volume the stack mounts that the config leaves out, and why.
type Skipped struct {
	Name   string
	Reason string
}

// Stack is what discovery found out about one compose project: enough to
// write its dr.yaml.
type Stack struct {
	Project   string
	Dir       string   // the project's working directory on the host
	Files     []string // relative to Dir: compose files, then .env when present
	DBService string
	DBImage   string
	// DBKind is the database's kind as its image tells it (dbkind.Detect);
	// the written config keeps kind: auto, which decides the same way at
	// each run.
	DBKind  string
	Volumes []string // compose volume keys to back up, sorted
	Skipped []Skipped
	Notes   []string // things the operator should look at in the written file
}

// databaseService picks the container of the stack's database: a service
// Appwrite names so (mariadb, then postgresql) first, else the first
// whose image is a MariaDB, MySQL or PostgreSQL one.
func databaseService(s *engine.Stack) (engine.Container, bool) {
	for _, name := range []string{"mariadb", "postgresql"} {
		if c, ok := s.Service(name); ok {
			return c, true
		}
	}
	for _, c := range s.Containers {
		img := strings.ToLower(c.Image)
		if strings.Contains(img, "mariadb") || strings.Contains(img, "mysql") || strings.Contains(img, "postgres") || strings.Contains(img, "postgis") {
			return c, true
		}
	}
	return engine.Container{}, false
}

// Options steer discovery.
type Options struct {
	// Project chooses among several candidates; empty means the only one.
	Project string
	// Dir replaces the project's working directory (the compose label),
	// for a stack whose files this host sees under another path.
	Dir string
}

// Discover finds the stack to protect: the one candidate, or the one
// opts.Project names. Several candidates and no choice is a *SeveralError.
func Discover(ctx context.Context, eng Engine, opts Options) (*Stack, error) {
	projects, err := eng.ComposeProjects(ctx)
	if err != nil {
		return nil, err
	}
	var cands []*engine.Stack
	for _, p := range projects {
		if _, ok := databaseService(p); ok {
			cands = append(cands, p)
		}
	}
	var chosen *engine.Stack
	switch {
	case opts.Project != "":
		for _, c := range cands {
			if c.Project == opts.Project {
				chosen = c
			}
		}
		if chosen == nil {
			if len(cands) == 0 {
				return nil, fmt.Errorf("--project %s: %w (%s)", opts.Project, ErrNoCandidate, lookedFor)
			}
			return nil, fmt.Errorf("--project %s: no such compose project runs a MariaDB, MySQL or PostgreSQL service; candidates: %s", opts.Project, strings.Join(projectNames(cands), ", "))
		}
	case len(cands) == 0:
		if mongo := mongoProjects(projects); len(mongo) > 0 {
			return nil, fmt.Errorf("%w: %s runs MongoDB, which dr does not back up; dr backs up MariaDB, MySQL and PostgreSQL stacks (Appwrite's installer offers MariaDB and PostgreSQL too)", ErrNoCandidate, strings.Join(mongo, ", "))
		}
		return nil, fmt.Errorf("%w: %s", ErrNoCandidate, lookedFor)
	case len(cands) > 1:
		return nil, &SeveralError{Projects: projectNames(cands)}
	default:
		chosen = cands[0]
	}
	mounts, err := eng.VolumeMounts(ctx, chosen)
	if err != nil {
		return nil, err
	}
	return describe(chosen, mounts, opts.Dir), nil
}

func mongoProjects(stacks []*engine.Stack) []string {
	var names []string
	for _, s := range stacks {
		for _, c := range s.Containers {
			if strings.Contains(strings.ToLower(c.Image), "mongo") {
				names = append(names, s.Project)
				break
			}
		}
	}
	return names
}

func projectNames(stacks []*engine.Stack) []string {
	names := make([]string, 0, len(stacks))
	for _, s := range stacks {
		names = append(names, s.Project)
	}
	return names
}

// describe turns what the engine knows of a project into a Stack.
func describe(s *engine.Stack, mounts []engine.VolumeMount, dirOverride string) *Stack {
	db, _ := databaseService(s)
	out := &Stack{Project: s.Project, Dir: s.WorkingDir, DBService: db.Service, DBImage: db.Image, DBKind: dbkind.Detect(db.Image, nil, "")}
	var configFiles string
	for _, c := range s.Containers {
		if v := c.Labels[engine.LabelConfigFile]; v != "" {
			configFiles = v
			break
		}
	}
	out.Files = composeFiles(out.Dir, configFiles, &out.Notes)
	if dirOverride != "" {
		out.Dir = dirOverride
	}
	if out.Dir == "" {
		out.Notes = append(out.Notes, "the engine does not say where the project's files are (no "+engine.LabelWorkingDir+" label): set stack.dir, or run dr init --stack-dir PATH")
	} else if _, err := os.Stat(filepath.Join(out.Dir, ".env")); err == nil {
		out.Files = append(out.Files, ".env")
	} else {
		out.Notes = append(out.Notes, fmt.Sprintf("no .env in %s: if the stack keeps its secrets elsewhere, add that file to stack.files", out.Dir))
	}
	out.Volumes, out.Skipped = splitVolumes(mounts, db.Service)
	return out
}

// composeFiles makes the compose label's absolute paths relative to the
// project directory, as stack.files wants them. A file outside it cannot
// be listed there and is named in a note instead.
func composeFiles(dir, label string, notes *[]string) []string {
	if label == "" {
		return []string{"docker-compose.yml"}
	}
	var files []string
	for _, f := range strings.Split(label, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		rel := filepath.Clean(f)
		if dir != "" {
			abs := f
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(dir, f)
			}
			r, err := filepath.Rel(dir, abs)
			if err != nil {
				r = ".."
			}
			rel = r
		}
		// The config loader's own rule for stack.files.
		if rel == "." || filepath.IsAbs(rel) || strings.HasPrefix(rel, "..") {
			*notes = append(*notes, fmt.Sprintf("compose file %s is outside %s and is not backed up: copy it beside the others or back it up another way", f, dir))
			continue
		}
		if !slices.Contains(files, rel) {
			files = append(files, rel)
		}
	}
	if len(files) == 0 {
		return []string{"docker-compose.yml"}
	}
	return files
}

// splitVolumes decides which mounted volumes a backup copies: not the
// database's own (the dump covers it, and a copy of a live data directory
// is not restorable), not the caches (they rebuild themselves).
func splitVolumes(mounts []engine.VolumeMount, dbService string) (keep []string, skipped []Skipped) {
	dbVolumes := map[string]bool{}
	for _, m := range mounts {
		if m.Service == dbService {
			dbVolumes[m.Key] = true
		}
	}
	seen := map[string]bool{}
	for _, m := range mounts {
		if seen[m.Key] {
			continue
		}
		seen[m.Key] = true
		switch {
		case dbVolumes[m.Key]:
			skipped = append(skipped, Skipped{m.Key, "the database's data directory: the dump covers it"})
		case slices.Contains(config.DefaultExcludedVolumes(), m.Key):
			skipped = append(skipped, Skipped{m.Key, "a cache that rebuilds itself (in stack.exclude_volumes)"})
		default:
			keep = append(keep, m.Key)
		}
	}
	sort.Strings(keep)
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Name < skipped[j].Name })
	return keep, skipped
}
