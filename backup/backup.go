// Package backup makes one backup run: discover the stack, dump the
// database, add the stack's files (and volumes), stream the archive to every
// destination at once, commit it where it verified, and report.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/archive/dumpscan"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/postgres"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

// Engine is what a backup needs from the Docker engine.
type Engine interface {
	mariadb.Execer
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
	ImageDigest(ctx context.Context, imageID string) (string, error)
	EnvKeys(ctx context.Context, containerID string) ([]string, error)
	FindComposeVolume(ctx context.Context, project, key string) (*engine.VolumeInfo, error)
	VolumeMounts(ctx context.Context, stack *engine.Stack) ([]engine.VolumeMount, error)
	OpenVolumes(ctx context.Context, names []string, image string) ([]engine.VolumeReader, error)
	StopServices(ctx context.Context, stack *engine.Stack, services []string, timeout time.Duration) ([]string, error)
	StartServices(ctx context.Context, stack *engine.Stack, services []string) error
	RemoveLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
	NoteStart(ctx context.Context, containerID string) engine.ExecStart
	StoppedSince(ctx context.Context, containerID string, start engine.ExecStart) *engine.ContainerStoppedError
}

// quiesceTimeout is how long a service stopped for the volume capture gets
// to exit before it is killed (compose's own default).
const quiesceTimeout = 10 * time.Second

// Options are the knobs of one run besides the config.
type Options struct {
	// Destinations restricts the run to these configured destinations.
	Destinations []string
	ToolVersion  string
	Logger       *slog.Logger
	// Progress, when set, is called about twice a second while data flows.
	Progress func(Progress)
	// Now is the clock (tests pin it); nil means time.Now.
	Now func() time.Time
	// SkipPrune leaves retention for later (dr backup prunes by default).
	SkipPrune bool
	// Full reads and stores every volume file again, under a new blob
	// key, instead of only what changed (dr backup --full).
	Full bool
	// Unreachable are the destinations that could not be opened: each is
	// a failed destination of this run (see OpenDestinations).
	Unreachable []storage.Failure
}

// Progress is a snapshot of a running backup.
type Progress struct {
	Phase        string // "dump", "files", "volumes", "verify", "commit"
	DumpBytes    int64
	VolumeBytes  int64
	ArchiveBytes int64 // bytes sent to the destinations (compressed, encrypted)
	// Sent is what each destination has accepted so far, by name.
	Sent    map[string]int64
	Elapsed time.Duration
}

// DestinationResult is one destination's outcome.
type DestinationResult struct {
	Name   string
	Remote string
	Size   int64
	SHA256 string
	Err    error
}

// Result is what a run did.
type Result struct {
	Name         string
	Manifest     *archive.Manifest
	Destinations []DestinationResult
	RawBytes     int64
	ArchiveBytes int64
	Duration     time.Duration
	Warnings     []string
	// Prune is what retention did after the backup, per destination.
	Prune []*storage.PruneReport
}

// Committed lists the destinations that hold the backup.
func (r *Result) Committed() []string {
	var names []string
	for _, d := range r.Destinations {
		if d.Err == nil {
			names = append(names, d.Name)
		}
	}
	return names
}

// PartialError says the backup was committed on some destinations and
// failed on others: the run as a whole has failed, but a backup exists.
type PartialError struct{ Failed []DestinationResult }

func (e *PartialError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = fmt.Sprintf("%s: %v", f.Name, f.Err)
	}
	return "backup failed on some destinations: " + strings.Join(parts, "; ")
}

// Unwrap gives each destination's error, so that callers can tell a full
// disk (remote.ErrNoSpace) or a taken name from other failures.
func (e *PartialError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// ErrNotSupported is returned for database kinds dr cannot dump.
var ErrNotSupported = dbkind.ErrNotSupported

// Run makes one backup. dests are the destinations to write to, opened by
// the caller (see OpenDestinations); opts.Unreachable the ones that could
// not be. The backup commits on every destination where it verified, each
// as soon as it did; the others are named in a *PartialError, and
// retention runs on each destination where this run committed. The
// returned Result is valid also when err is a *PartialError.
func Run(ctx context.Context, eng Engine, cfg *config.Config, dests []*storage.Destination, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if len(dests) == 0 {
		if len(opts.Unreachable) > 0 {
			return nil, fmt.Errorf("no destination to back up to: %w: %w", storage.ErrNoDestination, &storage.Unreachable{Failed: opts.Unreachable})
		}
		return nil, errors.New("no destination to back up to")
	}
	for _, f := range opts.Unreachable {
		log.Error("destination unreachable; backing up to the others", "destination", f.Destination, "err", f.Err)
	}
	// The run's real start: its duration and progress count from it. The
	// name only takes its second (see storage.FreeName).
	started := now().UTC()

	// Before the stack is looked at: a service a killed backup left
	// stopped would otherwise be taken for one an operator stopped.
	leftStopped, err := startLeftStopped(ctx, eng, cfg.StateDir, log)
	if err != nil {
		return nil, err
	}
	leftHelpers := removeLeftHelpers(ctx, eng, cfg.StateDir, log)
	plan, err := prepare(ctx, eng, cfg)
	if err != nil {
		return nil, err
	}
	// The volumes are listed from here on, beside the run's questions to
	// the server and the destinations, which mostly wait.
	ahead := listAhead(ctx, eng, plan)
	defer ahead.close()
	recipients, fingerprints, err := loadRecipients(cfg.Encryption)
	if err != nil {
		return nil, err
	}
	// A name after every one of the stack's on the destinations: a run in
	// the same second as the last must never write over (or then delete)
	// its objects, and must never look older than it to --latest.
	name, err := storage.FreeName(ctx, dests, plan.project, started, len(recipients) > 0)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: name}
	warn := func(msg string, args ...any) {
		w := fmt.Sprintf(msg, args...)
		res.Warnings = append(res.Warnings, w)
		log.Warn(w)
	}
	for _, w := range []string{leftStopped, leftHelpers} {
		if w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	if len(recipients) == 0 {
		// Once per run, whatever the destinations: a local copy is as
		// readable to whoever gets root or the disk.
		warn("%s", config.Unencrypted)
	}
	if len(plan.absent) > 0 {
		log.Info("default volumes this stack does not have (an older Appwrite); skipped", "volumes", plan.absent)
	}
	for _, w := range plan.unlisted {
		warn("%s", w)
	}
	for _, w := range plan.envWarnings {
		warn("%s", w)
	}
	if plan.mountErr != nil {
		warn("could not check which volumes the stack mounts: %v", plan.mountErr)
	}
	var info *mariadb.Info
	var pgInfo *postgres.Info
	var omitted []archive.Omission
	var databases []string
	if plan.pg != nil {
		if pgInfo, err = plan.pg.Inspect(ctx, cfg.Stack.Database.Databases); err != nil {
			return nil, err
		}
		databases = pgInfo.Databases
	} else {
		if info, err = plan.db.Inspect(ctx, cfg.Stack.Database.Databases); err != nil {
			return nil, err
		}
		for key, eng := range info.Engines {
			if !strings.EqualFold(eng, "InnoDB") && eng != "" {
				warn("table %s uses engine %s: it is not part of the consistent snapshot (only InnoDB is)", key, eng)
			}
		}
		omitted = omissions(info)
		for _, o := range omitted {
			warn("%s", o)
		}
		databases = info.Databases
	}
	sort.Strings(res.Warnings)

	var counters progressCounters
	var capt *capture
	if len(plan.volumes) > 0 {
		enc := archive.NewBlobEncoder(cfg.Archive.ZstdLevel, recipients, "")
		capt, err = prepareCapture(ctx, cfg, plan.project, dests, enc, opts.Full, started, &counters.volumes, log)
		if err != nil {
			return nil, err
		}
		defer capt.wait()
	}

	log.Info("backup starting", "name", name, "project", plan.project, "databases", databases, "destinations", destNames(dests))

	upload := storage.NewUpload(ctx, dests, name)
	if capt != nil {
		capt.fail = upload.Fail
	}
	counters.sent = upload.Written
	stopProgress := counters.report(ctx, opts.Progress, started, now)
	defer stopProgress()

	sent := &countingWriter{w: upload, n: &counters.archive}
	aw, err := archive.NewWriter(sent, archive.WriterOptions{
		ChunkSize:   int64(cfg.Archive.ChunkSize),
		Level:       cfg.Archive.ZstdLevel,
		Concurrency: cfg.Archive.Concurrency,
		Recipients:  recipients,
	})
	if err != nil {
		upload.Abort(ctx)
		return nil, fmt.Errorf("starting the archive: %w", err)
	}

	manifest := &archive.Manifest{
		Format:    archive.FormatVersion,
		Tool:      opts.ToolVersion,
		Stack:     plan.project,
		Host:      hostname(),
		Name:      name,
		StartedAt: started,
		Status:    archive.StatusWritten,
		Appwrite:  plan.appwrite,
	}
	if pgInfo != nil {
		err = writePostgresArchive(ctx, aw, eng, plan, pgInfo, cfg, manifest, &counters, log)
	} else {
		err = writeArchive(ctx, aw, eng, plan, info, cfg, manifest, &counters, log)
	}
	if err != nil {
		upload.Abort(ctx)
		return nil, err
	}
	manifest.Database.Omitted = omitted
	counters.phase.Store("volumes")
	volumeWarnings, err := writeVolumes(ctx, eng, aw, plan, manifest, capt, ahead, opts.Full, log)
	for _, w := range volumeWarnings {
		warn("%s", w)
	}
	if err != nil {
		upload.Abort(ctx)
		return nil, err
	}
	capt.lastLook(ctx)
	manifest.FinishedAt = now().UTC()
	manifest.Warnings = res.Warnings
	if len(fingerprints) > 0 {
		manifest.Encryption = &archive.Encryption{Scheme: "age", Recipients: fingerprints}
	}
	if err := aw.Close(manifest); err != nil {
		upload.Abort(ctx)
		return nil, fmt.Errorf("finishing the archive: %w", err)
	}
	counters.phase.Store("verify")
	// Each destination commits as soon as its own copy verified.
	commit := func(dest *storage.Destination, ur remote.UploadResult) error {
		sidecar := *manifest
		sidecar.Status = archive.StatusComplete
		sidecar.Object = &archive.ObjectInfo{Size: ur.Size, SHA256: ur.SHA256}
		err := capt.checkBlobs(ctx, dest, &sidecar)
		if err == nil {
			err = dest.Commit(ctx, &sidecar)
		}
		if err == nil {
			log.Info("backup committed", "destination", dest.Name(), "object", name, "bytes", ur.Size, "sha256", ur.SHA256)
			return nil
		}
		// A sidecar already there is another run's commit: the archive
		// under it may be that run's too. Only an archive no one
		// committed is this run's to undo.
		if errors.Is(err, remote.ErrNameTaken) {
			log.Error("the backup name was taken on the destination by another run; its objects are left alone", "destination", dest.Name(), "object", name)
		} else if derr := dest.DeleteObject(context.WithoutCancel(ctx), name); derr != nil {
			log.Error("could not delete the uncommitted archive", "destination", dest.Name(), "object", name, "err", derr)
		}
		return fmt.Errorf("committing: %w", err)
	}
	if err := upload.Finish(commit); err != nil {
		log.Debug("upload finished with errors", "err", err)
	}
	res.RawBytes = aw.RawBytes()
	res.ArchiveBytes = counters.archive.Load()

	counters.phase.Store("commit")
	var failed []DestinationResult
	var committed []*storage.Destination
	for _, ur := range upload.Results() {
		d := DestinationResult{Name: ur.Destination, Size: ur.Size, SHA256: ur.SHA256, Err: ur.Err}
		dest := findDest(dests, ur.Destination)
		if dest != nil {
			d.Remote = dest.Remote()
		}
		if d.Err != nil {
			failed = append(failed, d)
			log.Error("destination failed", "destination", d.Name, "err", d.Err)
		} else if dest != nil {
			committed = append(committed, dest)
		}
		res.Destinations = append(res.Destinations, d)
	}
	for _, f := range opts.Unreachable {
		d := DestinationResult{Name: f.Destination, Err: f.Err}
		if dc, ok := cfg.Destination(f.Destination); ok {
			d.Remote = redact.String(dc.Remote)
		}
		failed = append(failed, d)
		res.Destinations = append(res.Destinations, d)
	}
	manifest.Status = archive.StatusComplete
	res.Manifest = manifest
	if capt != nil && len(committed) > 0 {
		// What was read is known whatever the destinations did; only
		// a backup that exists somewhere makes it worth keeping.
		if err := saveIndex(cfg.StateDir, plan.project, capt.next); err != nil {
			warn("the next backup will read every volume file again: %v", err)
		}
	}
	res.Duration = now().Sub(started)
	if len(failed) == len(res.Destinations) {
		return res, fmt.Errorf("backup %s failed on every destination: %w", name, &PartialError{Failed: failed})
	}
	// Retention runs where this run committed, also when another
	// destination failed: one that stays dead for days must not make the
	// healthy ones fill up.
	var pruneErr error
	if !opts.SkipPrune {
		counters.phase.Store("prune")
		res.Prune, pruneErr = pruneAfterBackup(ctx, cfg, committed, name, now(), log)
	}
	if len(failed) > 0 {
		if pruneErr != nil {
			log.Error("pruning failed too", "err", pruneErr)
		}
		return res, &PartialError{Failed: failed}
	}
	return res, pruneErr
}

// writeArchive adds everything to the archive in the order of the format:
// the stack's files, the database dump, then the volumes.
func writeArchive(ctx context.Context, aw *archive.Writer, eng Engine, plan *stackPlan, info *mariadb.Info, cfg *config.Config, m *archive.Manifest, counters *progressCounters, log *slog.Logger) error {
	counters.phase.Store("files")
	for _, f := range plan.files {
		if err := addStackFile(aw, cfg.Stack.Dir, f); err != nil {
			return err
		}
	}

	if err := addBrokenViews(aw, info.BrokenViews, m.StartedAt); err != nil {
		return err
	}

	counters.phase.Store("dump")
	args := info.DumpArgs(cfg.Stack.Database.IncludeGrants)
	// The accounts are read beside the dump, so that their exec's round
	// trips add nothing to the backup's time.
	users := make(chan []string, 1)
	go func() { users <- recordUsers(ctx, plan.db, log) }()
	dr, err := dumpInto(ctx, aw, eng, plan.dbContainer.ID, dumpscan.New(), `"-- Dump completed"`, &counters.dump, func(w io.Writer) error { return plan.db.Dump(ctx, args, w) })
	recorded := <-users
	if err != nil {
		return err
	}
	tables := dr.Tables
	for i := range tables {
		if e, ok := info.Engines[tables[i].Database+"."+tables[i].Name]; ok && tables[i].Engine == "" {
			tables[i].Engine = e
		}
	}
	m.Database = &archive.Database{
		Kind:          plan.kind,
		Service:       cfg.Stack.Database.Service,
		Container:     plan.dbContainer.Name,
		Image:         plan.dbContainer.Image,
		ImageDigest:   plan.imageDigest,
		ServerVersion: info.ServerVersion,
		Client:        info.Client,
		ClientVersion: info.ClientVersion,
		DumpOptions:   args[:len(args)-len(info.Databases)-1],
		Databases:     info.Databases,
		IncludeGrants: cfg.Stack.Database.IncludeGrants,
		ChunkSize:     int64(cfg.Archive.ChunkSize),
		Chunks:        dr.Chunks,
		DumpSize:      dr.Size,
		Tables:        tables,
		Objects:       dr.Objects,
	}
	m.Database.Users = recorded
	nTables, nRows := m.Database.Counts()
	log.Info("database dumped", "bytes", dr.Size, "tables", nTables, "rows", nRows, "chunks", len(dr.Chunks))
	return nil
}

// dumpInto runs dump with its output going straight into the archive's
// dump entries, read by scan as it passes. The archive's pipeline returns
// its own error to the writes once it failed (a destination failed, a
// full disk), and that ends the dump.
func dumpInto(ctx context.Context, aw *archive.Writer, eng Engine, dbContainer string, scan archive.DumpScanner, trailer string, n *atomic.Int64, dump func(io.Writer) error) (*archive.DumpResult, error) {
	start := eng.NoteStart(ctx, dbContainer)
	dw, err := aw.StartDumpScanned(ctx, scan)
	if err != nil {
		return nil, fmt.Errorf("archiving the dump: %w", err)
	}
	if err := dump(&countingWriter{w: dw, n: n}); err != nil {
		dw.Abort()
		// When the archive gave up first, the dump only saw its writes
		// fail: the archive's error is the cause. Otherwise the dump's
		// own failure is.
		if aerr := dw.Err(); aerr != nil {
			return nil, fmt.Errorf("archiving the dump: %w", aerr)
		}
		return nil, err
	}
	dr, err := dw.Finish()
	if err != nil {
		return nil, fmt.Errorf("archiving the dump: %w", err)
	}
	if !dr.Completed {
		cut := fmt.Errorf("dumping the database: the dump ended without its completion trailer (%s), so it was cut short; nothing was committed", trailer)
		// The engine can record exit code 0 for a client that the
		// container's end killed; then the container is the cause to name.
		if stopped := eng.StoppedSince(ctx, dbContainer, start); stopped != nil {
			return nil, engine.ExplainStopped(fmt.Errorf("%w: %w", cut, stopped), "dump")
		}
		return nil, cut
	}
	return dr, nil
}

// omissions are what a backup of the server Inspect saw cannot hold: the
// views the dump leaves out, and the history of the system-versioned
// tables when the client cannot dump it.
func omissions(info *mariadb.Info) []archive.Omission {
	var out []archive.Omission
	for _, v := range info.BrokenViews {
		out = append(out, archive.Omission{Kind: archive.OmittedView, Database: v.Database, Name: v.Name, Reason: v.Problem})
	}
	if reason := info.HistoryLeftOut(); reason != "" {
		for _, key := range info.Versioned {
			db, name, _ := strings.Cut(key, ".")
			out = append(out, archive.Omission{Kind: archive.OmittedHistory, Database: db, Name: name, Reason: reason})
		}
	}
	return out
}

// addBrokenViews stores the definitions of the views the dump leaves out
// as an entry of their own, beside the dump rather than in it: CREATE VIEW
// fails while what a view uses is missing, and one failing statement
// would stop the whole import.
func addBrokenViews(aw *archive.Writer, views []mariadb.BrokenView, at time.Time) error {
	if len(views) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("-- Views dr left out of the dump: each could not be opened when the backup\n" +
		"-- was made, and the dump client stops on such a view. Create one again\n" +
		"-- once what it uses exists, e.g. mariadb < this file, or statement by statement.\n")
	for _, v := range views {
		fmt.Fprintf(&b, "\n-- %s.%s: %s\n", v.Database, v.Name, strings.ReplaceAll(v.Problem, "\n", " "))
		if v.Definition == "" {
			b.WriteString("-- (its definition could not be read)\n")
			continue
		}
		fmt.Fprintf(&b, "USE %s;\n%s;\n", mariadb.QuoteIdent(v.Database), v.Definition)
	}
	text := b.String()
	hdr := archive.FileHeader{Name: archive.BrokenViewsEntry, Mode: 0o600, ModTime: at, Size: int64(len(text))}
	if err := aw.AddFile(hdr, strings.NewReader(text)); err != nil {
		return fmt.Errorf("archiving the definitions of the views left out: %w", err)
	}
	return nil
}

func addStackFile(aw *archive.Writer, dir, rel string) error {
	path := filepath.Join(dir, rel)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading stack file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading stack file: %w", err)
	}
	uid, gid := fileOwner(st)
	hdr := archive.FileHeader{
		Name:    archive.ComposePrefix + filepath.ToSlash(rel),
		Mode:    int64(st.Mode().Perm()),
		ModTime: st.ModTime(),
		UID:     uid,
		GID:     gid,
		Size:    st.Size(),
	}
	if err := aw.AddFile(hdr, f); err != nil {
		return fmt.Errorf("archiving %s: %w", path, err)
	}
	return nil
}

// loadRecipients reads the configured age recipients. It returns the
// recipients and the strings recorded in the manifest.
func loadRecipients(enc config.Encryption) ([]age.Recipient, []string, error) {
	keys := append([]string{}, enc.Recipients...)
	if enc.RecipientsFile != "" {
		more, err := archive.ReadRecipientsFile(enc.RecipientsFile)
		if err != nil {
			return nil, nil, fmt.Errorf("encryption.recipients_file: %w", err)
		}
		keys = append(keys, more...)
	}
	if len(keys) == 0 {
		return nil, nil, nil
	}
	recipients, err := archive.ParseRecipients(keys)
	if err != nil {
		return nil, nil, fmt.Errorf("encryption.recipients: %w", err)
	}
	return recipients, keys, nil
}

func destNames(dests []*storage.Destination) []string {
	names := make([]string, len(dests))
	for i, d := range dests {
		names[i] = d.Name()
	}
	return names
}

func findDest(dests []*storage.Destination, name string) *storage.Destination {
	for _, d := range dests {
		if d.Name() == name {
			return d
		}
	}
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

type progressCounters struct {
	phase   atomic.Value
	dump    atomic.Int64
	volumes atomic.Int64
	archive atomic.Int64
	sent    func() map[string]int64
}

// report calls fn about twice a second until the returned stop is called.
func (c *progressCounters) report(ctx context.Context, fn func(Progress), started time.Time, now func() time.Time) (stop func()) {
	c.phase.Store("prepare")
	if fn == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
				phase, _ := c.phase.Load().(string)
				p := Progress{Phase: phase, DumpBytes: c.dump.Load(), VolumeBytes: c.volumes.Load(), ArchiveBytes: c.archive.Load(), Elapsed: now().Sub(started)}
				if c.sent != nil {
					p.Sent = c.sent()
				}
				fn(p)
			}
		}
	}()
	return func() { close(done); <-finished }
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
