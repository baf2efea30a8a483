// Package drill proves a backup restorable: it restores the database into
// a throwaway container of the production image (no network, limited CPU
// and memory) through the same chunk-verified import as dr restore, checks
// it row for row, measures the restore time, removes everything it made,
// and writes a write-once report beside the backup on each destination.
package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/storage"
)

// Engine is what a drill needs from the Docker engine.
type Engine interface {
	mariadb.Execer
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
	RunThrowaway(ctx context.Context, t engine.Throwaway) (string, error)
	RemoveThrowaway(ctx context.Context, id string) error
	RemoveLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
}

// The named checks of a drill, in the order they run.
const (
	CheckArchive    = "archive"     // the whole archive verifies against its sidecar
	CheckDisk       = "disk"        // the engine has room for the import
	CheckImport     = "import"      // the dump imports through dr restore's path
	CheckTables     = "tables"      // every table exists with the manifest's rows
	CheckCheckTable = "check-table" // CHECK TABLE passes on every table (PostgreSQL: amcheck on every btree index)
	CheckViews      = "views"       // the manifest's views exist (PostgreSQL: and answer a SELECT)
	CheckObjects    = "objects"     // its triggers, routines and events (PostgreSQL: functions, procedures, triggers) exist
	CheckVolumes    = "volumes"     // every volume file's sha256 matches
	CheckEnv        = "env"         // the archived .env parses, holds the keys
	CheckEnvKey     = "env-key"     // its _APP_OPENSSL_KEY_V1 is the live one
	// QueryPrefix names an operator-defined check: "query: <name>".
	QueryPrefix = "query: "
)

// dataDir is where the official MariaDB and MySQL images (and the test
// image) keep data.
const dataDir = "/var/lib/mysql"

// diskFactor is how many times the dump's size the drill wants free on the
// engine's disk: InnoDB's tables, indexes and logs take more room than
// the SQL text that fills them.
const diskFactor = 2

// Check is one named check and its result.
type Check struct {
	Name    string           `json:"name"`
	Passed  bool             `json:"passed"`
	Skipped bool             `json:"skipped,omitempty"`
	Detail  string           `json:"detail"`
	Figures map[string]int64 `json:"figures,omitempty"`
}

// Report is a drill's proof, written beside the backup.
type Report struct {
	Tool          string    `json:"tool"`
	Backup        string    `json:"backup"`
	Stack         string    `json:"stack"`
	Source        string    `json:"source"`
	Host          string    `json:"host"`
	Image         string    `json:"image"`
	ServerVersion string    `json:"server_version,omitempty"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	// DurationSeconds is the whole drill; RTOSeconds the time from its
	// start until the database was back (verification, container start,
	// import): what restoring this backup's database costs.
	DurationSeconds  float64  `json:"duration_seconds"`
	RTOSeconds       float64  `json:"rto_seconds"`
	BackupAgeSeconds float64  `json:"backup_age_seconds"`
	CPUs             float64  `json:"cpus"`
	MemoryBytes      int64    `json:"memory_bytes"`
	Passed           bool     `json:"passed"`
	Failed           []string `json:"failed,omitempty"`
	Checks           []Check  `json:"checks"`
	// Lacks is what the backup could not hold, so what a restore of it
	// lacks (a view left out, a history not dumped), one sentence each;
	// the checks expect exactly the rest. Absent when it holds everything.
	Lacks []string `json:"lacks,omitempty"`
	// Scan is what the malware scan of scan.volumes found; absent when
	// nothing was scanned (and in reports older than the scan).
	Scan *scan.Report `json:"scan,omitempty"`
	// Checksums are CHECKSUM TABLE … EXTENDED of each base table after
	// the import, by "db.table", for dr diff --live --checksum; absent in
	// reports older than them. PostgreSQL's are postgres.Server.Checksums,
	// by "db.schema.table".
	Checksums map[string]uint64 `json:"checksums,omitempty"`
	// ArchiveSHA256 binds the report to the archive drilled: the sha256
	// of the archive object as the backup's sidecar records it, which the
	// archive check verified. A reader counts a pass only from a report
	// whose sum is the one of the sidecar beside it.
	ArchiveSHA256 string `json:"archive_sha256"`
	// Objects are the report's objects written, per destination.
	Objects map[string]string `json:"-"`
}

// Request says which backup to drill and how.
type Request struct {
	Name       string
	Before     time.Time
	Identities []age.Identity
	Logger     *slog.Logger
	// Step, when set, is told each step as it starts (for a terminal).
	Step         func(string)
	Now          func() time.Time
	Host         string
	ToolVersion  string
	ReadyTimeout time.Duration
}

// ErrFailed says a drill ran and at least one check failed; the report
// names them.
var ErrFailed = errors.New("drill failed")

// FailedError names the checks that failed.
type FailedError struct{ Checks []string }

func (e *FailedError) Error() string {
	return "drill failed: " + strings.Join(e.Checks, ", ")
}

func (e *FailedError) Is(target error) bool { return target == ErrFailed }

// LabelOwner is engine.LabelDrillOwner, under the name drill's callers use.
const LabelOwner = engine.LabelDrillOwner

// Owner is the owner label's value for a state dir.
func Owner(stateDir string) string { return lock.Owner(stateDir) }

// Cleanup removes every container and volume a killed drill of this state
// dir left (labelled dr.drill and with its owner), and nothing else. The
// caller holds the state dir's lock.
func Cleanup(ctx context.Context, eng Engine, stateDir string) (containers, volumes []string, err error) {
	containers, volumes, err = eng.RemoveLabelled(ctx, LabelOwner+"="+Owner(stateDir))
	if err != nil {
		return containers, volumes, fmt.Errorf("removing what earlier drills left: %w", err)
	}
	return containers, volumes, nil
}

// Run drills the backup the request names. The report is returned
// whenever a backup was chosen, also when a check failed (the error is
// then a *FailedError) or the report could not be written everywhere.
func Run(ctx context.Context, eng Engine, cfg *config.Config, dests []*storage.Destination, req Request) (*Report, error) {
	log := req.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := req.Now
	if now == nil {
		now = time.Now
	}
	step := req.Step
	if step == nil {
		step = func(string) {}
	}
	readyTimeout := req.ReadyTimeout
	if readyTimeout == 0 {
		readyTimeout = 5 * time.Minute
	}

	// What a drill killed with SIGKILL left goes first: it holds memory
	// and disk the next drill needs.
	if c, v, err := Cleanup(ctx, eng, cfg.StateDir); err != nil {
		return nil, err
	} else if len(c)+len(v) > 0 {
		step(fmt.Sprintf("removed %d container(s) and %d volume(s) an earlier drill left", len(c), len(v)))
		log.Warn("removed what an earlier drill left", "containers", len(c), "volumes", len(v))
	}

	chosen, err := restore.Choose(ctx, cfg, dests, req.Name, req.Before)
	if err != nil {
		return nil, err
	}
	if chosen.Backup.Encrypted && len(req.Identities) == 0 {
		return nil, restore.ErrNeedsIdentity
	}
	m := chosen.Manifest
	if m.Database == nil || len(m.Database.Chunks) == 0 {
		return nil, fmt.Errorf("backup %s holds no database dump: there is nothing to drill", chosen.Backup.Name)
	}
	started := now()
	rep := &Report{
		Tool: req.ToolVersion, Backup: chosen.Backup.Name, ArchiveSHA256: m.Object.SHA256, Stack: m.Stack, Source: chosen.Source.Name(),
		Host: req.Host, Started: started.UTC(), BackupAgeSeconds: started.Sub(m.FinishedAt).Seconds(),
		CPUs: cfg.Drill.CPUs, MemoryBytes: int64(cfg.Drill.Memory),
		Lacks: m.Database.Lacks(),
	}
	for _, l := range rep.Lacks {
		log.Warn("the backup lacks something: so will a restore of it", "missing", l)
	}
	d := &driller{eng: eng, cfg: cfg, req: req, log: log, step: step, rep: rep, chosen: chosen, now: now, readyTimeout: readyTimeout}
	d.run(ctx)
	rep.Finished = now().UTC()
	rep.DurationSeconds = rep.Finished.Sub(started).Seconds()
	for _, c := range rep.Checks {
		if !c.Passed && !c.Skipped {
			rep.Failed = append(rep.Failed, c.Name)
		}
	}
	rep.Passed = len(rep.Failed) == 0
	// "result", not "passed": the log redactor hides any key naming a pass(word).
	result := "all checks passed"
	if !rep.Passed {
		result = "failed"
	}
	log.Info("drill finished", "backup", rep.Backup, "result", result, "failed_checks", rep.Failed, "rto_seconds", rep.RTOSeconds)

	writeErr := writeReport(ctx, dests, chosen.Backup.Destinations, rep)
	if !rep.Passed {
		return rep, errors.Join(&FailedError{Checks: rep.Failed}, writeErr)
	}
	return rep, writeErr
}

// writeReport writes the report on every destination that holds the
// backup; one that fails does not stop the others.
func writeReport(ctx context.Context, dests []*storage.Destination, holding []string, rep *Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the drill report: %w", err)
	}
	data = append(data, '\n')
	rep.Objects = map[string]string{}
	var errs []error
	for _, d := range dests {
		if !slices.Contains(holding, d.Name()) {
			continue
		}
		// The report is written even when the drill was interrupted:
		// it is the proof either way.
		name, err := d.PutDrillReport(context.WithoutCancel(ctx), rep.Backup, rep.Started, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Objects[d.Name()] = name
	}
	return errors.Join(errs...)
}

type driller struct {
	eng          Engine
	cfg          *config.Config
	req          Request
	log          *slog.Logger
	step         func(string)
	rep          *Report
	chosen       *restore.Chosen
	now          func() time.Time
	readyTimeout time.Duration
}

func (d *driller) add(c Check) {
	d.rep.Checks = append(d.rep.Checks, c)
	if !c.Passed && !c.Skipped {
		d.log.Warn("drill check failed", "check", c.Name, "detail", c.Detail)
	}
}

func (d *driller) fail(name string, err error) {
	d.add(Check{Name: name, Detail: err.Error()})
}

// skipRest records every check that did not run because an earlier one
// failed, so the report always lists them all.
func (d *driller) skipRest(why string) {
	for _, name := range d.checkNames() {
		if !slices.ContainsFunc(d.rep.Checks, func(c Check) bool { return c.Name == name }) {
			d.add(Check{Name: name, Skipped: true, Detail: "not run: " + why})
		}
	}
}

// Checks are the built-in checks of every drill, in the order they run.
func Checks() []string {
	return []string{CheckArchive, CheckDisk, CheckImport, CheckTables, CheckCheckTable, CheckViews, CheckObjects, CheckVolumes, CheckScan, CheckEnv, CheckEnvKey}
}

func (d *driller) checkNames() []string {
	names := Checks()
	for _, q := range d.cfg.Drill.Queries {
		names = append(names, QueryPrefix+q.Name)
	}
	return names
}

func (d *driller) run(ctx context.Context) {
	m := d.chosen.Manifest
	d.step(fmt.Sprintf("verifying %s on %s", d.chosen.Backup.Name, d.chosen.Source.Name()))
	err := restore.VerifyChosen(ctx, d.chosen, d.req.Identities)
	for _, f := range d.chosen.Faults {
		d.step(fmt.Sprintf("passed over the copy on %s: %v", f.Destination, f.Err))
	}
	if err != nil {
		d.fail(CheckArchive, err)
		d.skipRest("the archive did not verify")
		return
	}
	// The copy that verified is the one drilled (a fallback's, when the
	// first was damaged or unreachable).
	d.rep.Source = d.chosen.Source.Name()
	d.add(Check{Name: CheckArchive, Passed: true, Detail: "the whole archive matches its sidecar",
		Figures: map[string]int64{"bytes": d.chosen.Backup.Size, "chunks": int64(len(m.Database.Chunks))}})

	image, err := d.image(ctx)
	if err != nil {
		d.fail(CheckDisk, err)
		d.skipRest("no image to drill in")
		return
	}
	d.rep.Image = image
	password, err := randomPassword()
	if err != nil {
		d.fail(CheckDisk, err)
		d.skipRest("no container")
		return
	}
	fl := flavorOf(m.Database.Kind)
	d.step("starting a throwaway database container from " + image)
	id, err := d.eng.RunThrowaway(ctx, engine.Throwaway{
		Image:    image,
		Env:      fl.env(password),
		Labels:   map[string]string{engine.LabelDrill: d.chosen.Backup.Name, LabelOwner: Owner(d.cfg.StateDir)},
		DataDir:  fl.dataDir,
		NanoCPUs: int64(d.cfg.Drill.CPUs * 1e9),
		Memory:   int64(d.cfg.Drill.Memory),
	})
	if err != nil {
		d.fail(CheckDisk, err)
		d.skipRest("no container")
		return
	}
	// The undo is registered the moment the container exists, and runs
	// on every path, an interrupt included (RemoveThrowaway outlives ctx).
	defer func() {
		if err := d.eng.RemoveThrowaway(ctx, id); err != nil {
			d.log.Error("the drill container could not be removed; the next drill (or dr drill cleanup) removes it", "container", id, "err", err)
		}
	}()
	srv := fl.open(d, id)
	if err := d.waitReady(ctx, srv); err != nil {
		d.fail(CheckDisk, err)
		d.skipRest("the drill database did not start")
		return
	}
	disk := d.checkDisk(ctx, id, fl.df)
	d.add(disk)
	if !disk.Passed {
		d.skipRest("not enough disk")
		return
	}
	d.rep.ServerVersion = srv.version(ctx)

	d.step(fmt.Sprintf("importing %s into the throwaway container", humanize.Bytes(m.Database.DumpSize)))
	st, err := d.stream(ctx, srv)
	if err != nil {
		d.fail(CheckImport, err)
		d.skipRest("the import failed")
		return
	}
	d.rep.RTOSeconds = d.now().Sub(d.rep.Started).Seconds()
	d.add(Check{Name: CheckImport, Passed: true, Detail: fl.imported,
		Figures: map[string]int64{"chunks": int64(st.chunks), "bytes": m.Database.DumpSize}})

	d.step("checking " + fl.checking + ", volumes and .env")
	srv.checkTables(ctx)
	srv.checkHealth(ctx)
	srv.checkViews(ctx)
	srv.checkObjects(ctx)
	d.add(st.volumes)
	d.add(st.scan)
	d.checkEnv(st)
	// Before the operator's queries, which might write: the sums are of
	// the data as the backup holds it.
	srv.recordChecksums(ctx)
	d.checkQueries(ctx, srv)
	if ctx.Err() != nil {
		d.skipRest("interrupted")
	}
}

// image is the production database container's image, or the one the
// manifest names when the stack is not running.
func (d *driller) image(ctx context.Context) (string, error) {
	stack, err := d.eng.FindStack(ctx, d.cfg.Stack.Project, d.cfg.Stack.Database.Service)
	if err == nil {
		if c, ok := stack.Service(d.cfg.Stack.Database.Service); ok && c.ImageID != "" {
			return c.ImageID, nil
		}
	}
	if img := d.chosen.Manifest.Database.Image; img != "" {
		return img, nil
	}
	return "", fmt.Errorf("no database container of the stack to take the image from, and the backup names no image: %v", err)
}

func (d *driller) waitReady(ctx context.Context, srv dbServer) error {
	ctx, cancel := context.WithTimeout(ctx, d.readyTimeout)
	defer cancel()
	var last error
	for {
		if last = srv.ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the drill database did not accept connections within %s (is drill.memory enough?): %w", d.readyTimeout, last)
		case <-time.After(time.Second):
		}
	}
}

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating the drill database's password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
