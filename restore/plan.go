package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/journal"
	"github.com/appwrite-dr/dr/storage"
)

// The parts of a backup that can be restored.
const (
	PartDB      = "db"
	PartFiles   = "files"
	PartVolumes = "volumes"
)

// AllParts is every part, in the order a restore applies them.
var AllParts = []string{PartFiles, PartDB, PartVolumes}

// Engine is what a restore needs from the Docker engine.
type Engine interface {
	mariadb.Execer
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
	StopServices(ctx context.Context, stack *engine.Stack, services []string, timeout time.Duration) ([]string, error)
	StartServices(ctx context.Context, stack *engine.Stack, services []string) error
	FindComposeVolume(ctx context.Context, project, key string) (*engine.VolumeInfo, error)
	CreateVolume(ctx context.Context, name string, labels map[string]string) error
	ReplaceVolume(ctx context.Context, name, image string, archive io.Reader) error
	WriteVolume(ctx context.Context, name, image string, archive io.Reader) error
	ReadVolume(ctx context.Context, name, image string) (io.ReadCloser, error)
	ServicesMounting(ctx context.Context, stack *engine.Stack, volumeName string) ([]string, error)
	RemoveLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
}

// Request says what to restore from which backup.
type Request struct {
	// Name chooses a backup by name; else Before chooses the newest taken
	// before it; else the newest complete backup is used.
	Name   string
	Before time.Time
	// Parts to restore; empty means every part the backup holds.
	Parts []string
	// Volumes restricts the volumes part to these (configured names).
	Volumes []string
	// Exclude are archive entries (volumes/<volume>/<path>) the volumes
	// part leaves out: the hacked runbook's infected uploads.
	Exclude []string
	// Merge only adds missing volume files instead of replacing contents.
	Merge bool
	// TargetDir receives the stack files; empty means stack.dir.
	TargetDir  string
	Identities []age.Identity
	// Verified skips the full verification pass: the caller has just
	// verified this backup (a runbook's first step does).
	Verified bool
	// From is the destination whose copy to read first (the one a
	// runbook's first step verified); the others are the fallback.
	From   string
	Logger *slog.Logger
	// Step, when set, is told each step as it starts (for a terminal).
	Step func(string)
	Now  func() time.Time
	// NoSafetyDump imports without saving the current database first. Only
	// an operator says so (--no-safety-dump): without it, a safety dump
	// that cannot be written refuses the restore.
	NoSafetyDump bool
	// Command is the command line that runs this restore again, recorded in
	// the restore journal so that whoever finds it knows how to finish.
	Command string
	// AllowVersionChange lets the restore go into a stack running another
	// Appwrite version than the backup's (--allow-version-change; the
	// upgrade-failed runbook sets it: going back is its job); without it
	// such a restore is refused with a *VersionChangeError.
	AllowVersionChange bool
	// SafetyDump saves the current database to state_dir/safety instead of
	// moving its tables aside, whatever restore.safety_net says: aside
	// tables live on the database volume, which the upgrade-failed runbook
	// may have to remove when the old server cannot read the new one's
	// data files.
	SafetyDump bool
}

// FilePlan is one stack file a restore writes.
type FilePlan struct {
	Entry  archive.Entry
	Target string // absolute path
	Exists bool   // a file is there now and will be kept as *.dr-replaced-<time>
}

// VolumePlan is one volume a restore fills.
type VolumePlan struct {
	Key      string // the configured (compose) name
	Docker   string // the engine's name
	Exists   bool   // false: it is created with the labels it had
	Labels   map[string]string
	Services []string // services that mount it (stopped during the restore)
	Files    int64
	Bytes    int64
}

// Plan is what a restore will do, shown before anything is touched.
type Plan struct {
	Backup storage.CatalogEntry
	// Source is the copy the restore reads; Copies every reachable copy,
	// Source first, the next ones the fallback when Source cannot be read
	// or does not verify. Faults says why each copy passed over was.
	Source   *storage.Destination
	Copies   []*storage.Destination
	Faults   []CopyFault
	Manifest *archive.Manifest
	// Suspects are the backups the choice refused as possibly planted.
	Suspects []storage.Suspect
	Parts    []string
	Project  string
	// stack is nil when no container of the project exists (files only).
	stack *engine.Stack
	// DBContainer is the database container the dump is imported into.
	DBContainer string
	DBService   string
	// Kind is the kind of the backup's database (dbkind), which the
	// server restored into runs too.
	Kind        string
	helperImage string
	Databases   []string
	Tables      int
	Rows        int64
	Writers     []string
	Files       []FilePlan
	TargetDir   string
	Volumes     []VolumePlan
	// Stop is every service stopped during the restore, started after.
	Stop []string
	// SafetyDir receives the safety dump of the current database.
	SafetyDir string
	// NoSafetyDump: the operator chose to import without a safety dump.
	NoSafetyDump bool
	// KeepSafetyDumps is how many safety dumps stay after a restore.
	KeepSafetyDumps int
	// SafetyNet is restore.safety_net: aside (the default) or dump.
	SafetyNet string
	// KeepAside is how many restores' aside schemas stay after a restore.
	KeepAside int
	// ConfiguredDatabases is stack.database.databases: restore.keep_aside
	// counts and drops only the aside schemas of restores of these, as
	// --undo considers only those (groupsOfDatabases).
	ConfiguredDatabases []string
	// ImportConnections is restore.import_connections.
	ImportConnections int
	// StateDir holds the restore journal.
	StateDir string
	// Interrupted is the journal of an earlier restore that did not
	// finish, when there is one: this restore finishes its job.
	Interrupted *journal.Journal
	Merge       bool
	// AppwriteRunning is the Appwrite version the stack runs, when known.
	AppwriteRunning string
}

// AsideWhat names what the plan's safety net moves aside: MariaDB's
// tables (into aside schemas), PostgreSQL's whole databases (renamed).
func (p *Plan) AsideWhat() string {
	if dbkind.IsPostgres(p.Kind) {
		return "databases"
	}
	return "tables"
}

// Has says whether the plan restores the part.
func (p *Plan) Has(part string) bool { return slices.Contains(p.Parts, part) }

// ErrNeedsIdentity says an encrypted backup was chosen without a key.
var ErrNeedsIdentity = errors.New("the backup is encrypted: pass --identity FILE (the age identity or SSH private key) or set DR_IDENTITY")

// Prepare chooses the backup, fetches its sidecar manifest first, and works
// out what a restore would replace, stop and start. It changes nothing.
func Prepare(ctx context.Context, eng Engine, cfg *config.Config, dests []*storage.Destination, req Request) (*Plan, error) {
	chosen, err := chooseCopy(ctx, cfg, dests, req)
	if err != nil {
		return nil, err
	}
	entry, source, manifest := chosen.Backup, chosen.Source, chosen.Manifest
	if entry.Encrypted && len(req.Identities) == 0 {
		return nil, ErrNeedsIdentity
	}
	plan := &Plan{
		Backup: entry, Source: source, Copies: chosen.Copies, Faults: chosen.Faults, Manifest: manifest,
		Suspects:  chosen.Suspects,
		Project:   cfg.Stack.Project,
		DBService: cfg.Stack.Database.Service,
		TargetDir: req.TargetDir,
		SafetyDir: cfg.StateDir + "/safety",
		Merge:     req.Merge,

		NoSafetyDump:        req.NoSafetyDump,
		KeepSafetyDumps:     cfg.Restore.KeepSafetyDumps,
		SafetyNet:           cfg.Restore.SafetyNet,
		KeepAside:           cfg.Restore.KeepAside,
		ConfiguredDatabases: cfg.Stack.Database.Databases,
		ImportConnections:   cfg.Restore.ImportConnections,
		StateDir:            cfg.StateDir,
	}
	if req.SafetyDump {
		plan.SafetyNet = config.SafetyNetDump
	}
	// Read now so the plan can say it; Execute reads it again under the
	// lock, where it is authoritative.
	if plan.Interrupted, err = journal.Read(cfg.StateDir); err != nil {
		return nil, err
	}
	if plan.Project == "" {
		plan.Project = manifest.Stack
	}
	if plan.TargetDir == "" {
		plan.TargetDir = cfg.Stack.Dir
	}
	plan.Parts, err = chooseParts(manifest, req.Parts)
	if err != nil {
		return nil, err
	}
	if plan.Has(PartDB) || plan.Has(PartVolumes) {
		// The stack restored into is the configured one, or, with no
		// stack.project, the one backup finds by its database service;
		// never the project the sidecar names, which is outside input.
		stack, err := eng.FindStack(ctx, cfg.Stack.Project, plan.DBService)
		if err != nil {
			return nil, fmt.Errorf("finding the stack to restore into: %w", err)
		}
		plan.stack = stack
		plan.Project = stack.Project
		if plan.AppwriteRunning, err = checkVersion(entry.Name, manifest, stack, req.AllowVersionChange); err != nil {
			return nil, err
		}
		db, ok := stack.Service(plan.DBService)
		if !ok {
			return nil, fmt.Errorf("project %s has no container for the database service %q; start it first (docker compose up -d %s)", stack.Project, plan.DBService, plan.DBService)
		}
		plan.helperImage = db.ImageID
		if plan.Has(PartDB) {
			if !db.Running {
				return nil, fmt.Errorf("the database container %s is not running; start it (docker compose up -d %s) and try again", db.Name, plan.DBService)
			}
			plan.DBContainer = db.ID
			plan.Kind = manifestKind(manifest.Database)
			serverKind, err := ServerKind(ctx, eng, cfg, db)
			if err != nil {
				return nil, err
			}
			if !sameFamily(plan.Kind, serverKind) {
				return nil, fmt.Errorf("backup %s holds a %s database, and the database service %s of project %s runs %s; nothing was stopped or changed: restore it into a stack of the same kind (stack.database.service and stack.database.kind say which)",
					entry.Name, plan.Kind, plan.DBService, stack.Project, serverKind)
			}
			if err := planDatabase(plan, cfg); err != nil {
				return nil, err
			}
		}
	}
	if plan.Has(PartFiles) {
		if err := planFiles(plan); err != nil {
			return nil, err
		}
	}
	if plan.Has(PartVolumes) {
		if err := planVolumes(ctx, eng, plan, cfg.Stack.Volumes, req.Volumes); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// choose finds the backup the request names among the complete backups of
// the configured stack. A destination that cannot be listed does not stop
// a restore from the others, but says so when nothing is found.
func choose(ctx context.Context, cfg *config.Config, dests []*storage.Destination, req Request) (storage.CatalogEntry, []storage.Suspect, error) {
	q := storage.Query{Stack: cfg.Stack.Project, Name: req.Name, Before: req.Before}
	entry, suspects, unreachable, err := storage.ChooseTrusted(ctx, dests, q, time.Duration(cfg.Restore.UploadTolerance))
	if err == nil && unreachable != nil && req.Logger != nil {
		req.Logger.Warn("some destinations could not be listed; restoring from the others", "err", unreachable)
	}
	for _, s := range suspects {
		if req.Logger != nil {
			req.Logger.Warn("passed over a backup that may have been planted", "backup", s.Backup, "destination", s.Destination, "reason", s.Reason)
		}
	}
	return entry, suspects, err
}

// copiesOf is every given destination that holds the backup, from first
// (when it holds one), then in the configured order.
func copiesOf(dests []*storage.Destination, entry storage.CatalogEntry, from string) []*storage.Destination {
	var copies []*storage.Destination
	for _, d := range dests {
		if slices.Contains(entry.Destinations, d.Name()) {
			if d.Name() == from {
				copies = append([]*storage.Destination{d}, copies...)
			} else {
				copies = append(copies, d)
			}
		}
	}
	return copies
}

// CopyFault is why one destination's copy of a backup was passed over.
type CopyFault struct {
	Destination string
	Err         error
}

// NoCopyError says no copy of a backup could be read and verified; it
// lists each copy's fault. Nothing was stopped or changed.
type NoCopyError struct {
	Backup string
	Faults []CopyFault
}

func (e *NoCopyError) Error() string {
	parts := make([]string, len(e.Faults))
	for i, f := range e.Faults {
		parts[i] = fmt.Sprintf("%s: %v", f.Destination, f.Err)
	}
	return fmt.Sprintf("backup %s did not verify on any destination that holds it, so nothing was stopped or changed: %s", e.Backup, strings.Join(parts, "; "))
}

func (e *NoCopyError) Unwrap() []error {
	errs := make([]error, len(e.Faults))
	for i, f := range e.Faults {
		errs[i] = f.Err
	}
	return errs
}

func chooseParts(m *archive.Manifest, asked []string) ([]string, error) {
	has := map[string]bool{
		PartDB:      m.Database != nil && len(m.Database.Chunks) > 0,
		PartVolumes: len(m.Volumes) > 0,
	}
	for _, e := range m.Entries {
		if strings.HasPrefix(e.Name, archive.ComposePrefix) {
			has[PartFiles] = true
		}
	}
	if len(asked) == 0 {
		var parts []string
		for _, p := range AllParts {
			if has[p] {
				parts = append(parts, p)
			}
		}
		return parts, nil
	}
	var parts []string
	for _, p := range AllParts {
		if !slices.Contains(asked, p) {
			continue
		}
		if !has[p] {
			return nil, fmt.Errorf("--only %s: backup %s holds no %s", p, m.Name, p)
		}
		parts = append(parts, p)
	}
	for _, a := range asked {
		if !slices.Contains(AllParts, a) {
			return nil, fmt.Errorf("--only %q: want db, files or volumes", a)
		}
	}
	return parts, nil
}

func planDatabase(plan *Plan, cfg *config.Config) error {
	db := plan.Manifest.Database
	if db.Kind != "" && db.Kind != dbkind.MariaDB && db.Kind != dbkind.MySQL && !dbkind.IsPostgres(db.Kind) {
		return fmt.Errorf("backup %s holds a %s database, which dr cannot restore yet", plan.Manifest.Name, db.Kind)
	}
	for _, c := range db.Chunks {
		if c.Size < 0 || c.Size > 1<<30 {
			return fmt.Errorf("backup %s: dump chunk %s is %d bytes, more than dr ever writes", plan.Manifest.Name, c.Name, c.Size)
		}
	}
	plan.Databases = db.Databases
	plan.Tables, plan.Rows = db.Counts()
	writers, err := writersOf(cfg, plan.stack, plan.DBService)
	if err != nil {
		return err
	}
	plan.Writers = writers
	plan.Stop = appendNew(plan.Stop, writers...)
	return nil
}

func planFiles(plan *Plan) error {
	if plan.TargetDir == "" {
		return errors.New("no directory to restore the stack files to: set stack.dir or pass --target-dir")
	}
	for _, e := range plan.Manifest.Entries {
		rel, ok := strings.CutPrefix(e.Name, archive.ComposePrefix)
		if !ok {
			continue
		}
		if e.Kind != archive.KindFile || !localPath(rel) {
			return fmt.Errorf("backup %s: stack file entry %q is not a plain relative file; refusing it", plan.Manifest.Name, e.Name)
		}
		target := path.Join(plan.TargetDir, rel)
		plan.Files = append(plan.Files, FilePlan{Entry: e, Target: target, Exists: fileExists(target)})
	}
	return nil
}

// planVolumes works out which engine volume each backed-up volume is
// restored into. The volume list comes from the sidecar, which anyone who
// can write to a destination can replace, so it decides nothing alone:
// see volumeKeyAllowed and volumeBelongs for the rule.
func planVolumes(ctx context.Context, eng Engine, plan *Plan, configured, only []string) error {
	var known []string
	for _, v := range plan.Manifest.Volumes {
		known = append(known, v.Name)
	}
	for _, want := range only {
		if !slices.Contains(known, want) {
			return fmt.Errorf("--volume %q: backup %s has no such volume (it has: %s)", want, plan.Manifest.Name, strings.Join(known, ", "))
		}
	}
	for _, v := range plan.Manifest.Volumes {
		if len(only) > 0 && !slices.Contains(only, v.Name) {
			continue
		}
		if err := volumeKeyAllowed(plan.Manifest.Name, v.Name, configured); err != nil {
			return err
		}
		if err := checkVolumeEntries(plan.Manifest, v.Name); err != nil {
			return err
		}
		vp := VolumePlan{Key: v.Name, Files: v.Files, Bytes: v.Bytes}
		info, err := eng.FindComposeVolume(ctx, plan.Project, v.Name)
		switch {
		case err == nil:
			services, err := eng.ServicesMounting(ctx, plan.stack, info.Name)
			if err != nil {
				return fmt.Errorf("finding the services that mount volume %s: %w", info.Name, err)
			}
			if err := volumeBelongs(plan.Project, v.Name, info, services); err != nil {
				return err
			}
			vp.Docker, vp.Labels, vp.Exists, vp.Services = info.Name, info.Labels, true, services
		case errors.Is(err, engine.ErrVolumeNotFound):
			vp.Docker, vp.Labels = freshVolume(plan.Project, v.Name)
		default:
			return fmt.Errorf("finding volume %s of project %s: %w", v.Name, plan.Project, err)
		}
		for _, svc := range vp.Services {
			if svc != plan.DBService {
				plan.Stop = appendNew(plan.Stop, svc)
			}
		}
		plan.Volumes = append(plan.Volumes, vp)
	}
	return nil
}

// volumeKeyAllowed is the first half of the rule: a backup's volume is
// restored only under a key the configuration backs up (stack.volumes).
// The operator's dr.yaml, not the sidecar, says which volumes are the
// stack's.
func volumeKeyAllowed(backup, key string, configured []string) error {
	if slices.Contains(configured, key) {
		return nil
	}
	have := "none"
	if len(configured) > 0 {
		have = strings.Join(configured, ", ")
	}
	return fmt.Errorf("backup %s holds volume %q, which stack.volumes does not list (it lists: %s); dr restores only the volumes its configuration backs up, so nothing was stopped or changed: add it to stack.volumes if it is the stack's, or leave it out with --volume NAME (repeatable) or --only db,files", backup, key, have)
}

// volumeBelongs is the second half: the engine volume a configured key
// resolves to must be the compose project's, either labelled as its
// volume under that key (what compose creates), or an external volume
// that a container of the project mounts. Any other volume that happens
// to carry the name (engine.FindComposeVolume falls back to an exact
// name) belongs to something else on the host and is never overwritten.
func volumeBelongs(project, key string, info *engine.VolumeInfo, mountedBy []string) error {
	if info.Labels[engine.LabelProject] == project && info.Labels[engine.LabelVolume] == key {
		return nil
	}
	if len(mountedBy) > 0 {
		return nil
	}
	owner := "no compose project"
	if p := info.Labels[engine.LabelProject]; p != "" {
		owner = "compose project " + p
	}
	return fmt.Errorf("volume %q resolves to the engine volume %s, which belongs to %s and which no service of project %s mounts; dr restores only the volumes of the configured stack, so nothing was stopped or changed", key, info.Name, owner, project)
}

// freshVolume names a volume that does not exist (any more) the way
// compose names the project's volume of that key, with the labels compose
// gives it, so that compose adopts it. The name and labels the sidecar
// recorded are not used: they are outside input, and a volume created
// under them could be an existing volume of another project.
func freshVolume(project, key string) (string, map[string]string) {
	return project + "_" + key, map[string]string{engine.LabelProject: project, engine.LabelVolume: key}
}

// checkVolumeEntries refuses, before anything is written, a volume whose
// entries could land outside it: names with "..", absolute symlinks,
// relative symlinks and hard links that lead out of the volume.
func checkVolumeEntries(m *archive.Manifest, volume string) error {
	prefix := archive.VolumePrefix(volume)
	for _, e := range m.Entries {
		rel, ok := strings.CutPrefix(e.Name, prefix)
		if !ok {
			continue
		}
		rel = strings.TrimSuffix(rel, "/")
		if rel != "" && !localPath(rel) {
			return fmt.Errorf("backup %s: volume %s entry %q escapes the volume; refusing the volume", m.Name, volume, e.Name)
		}
		switch e.Kind {
		case archive.KindSymlink:
			target := path.Join(path.Dir(rel), e.Link)
			if path.IsAbs(e.Link) || (target != "." && !localPath(target)) {
				return fmt.Errorf("backup %s: volume %s entry %q is a link to %q, outside the volume; refusing the volume", m.Name, volume, e.Name, e.Link)
			}
		case archive.KindHardlink:
			target, ok := strings.CutPrefix(e.Link, prefix)
			if !ok || !localPath(target) {
				return fmt.Errorf("backup %s: volume %s entry %q is a hard link to %q, outside the volume; refusing the volume", m.Name, volume, e.Name, e.Link)
			}
		case archive.KindFile, archive.KindDir:
		default:
			return fmt.Errorf("backup %s: volume %s entry %q has kind %q, which dr does not restore", m.Name, volume, e.Name, e.Kind)
		}
	}
	return nil
}

// localPath says whether a slash path stays below the directory it is
// relative to.
func localPath(p string) bool {
	if p == "" || path.IsAbs(p) || strings.ContainsRune(p, '\x00') {
		return false
	}
	clean := path.Clean(p)
	return clean != ".." && !strings.HasPrefix(clean, "../") && clean != "."
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
