package restore

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/journal"
)

// stopTimeout is how long a stopped service gets to exit before it is
// killed.
const stopTimeout = 30 * time.Second

// WrittenFile is a stack file a restore wrote.
type WrittenFile struct {
	Target   string
	Replaced string // where the file that was there went, or ""
	// Unchanged: the file already held the backup's content and mode.
	Unchanged bool
}

// Result is what a restore did.
type Result struct {
	Backup string
	// SafetyDump is the dump of the database as it was before the import.
	SafetyDump string
	// Aside are the schemas the database as it was before was moved into
	// (dr restore --undo swaps them back); AsideFallback says why the
	// tables could not be moved aside, when a safety dump was taken
	// instead; AsideDropped are older aside schemas dropped by retention.
	Aside         *AsideGroup
	AsideFallback string
	AsideDropped  []string
	Files         []WrittenFile
	Volumes       []string
	// TablesChecked is how many tables' row counts were compared with the
	// manifest after the import.
	TablesChecked int
	Stopped       []string
	// Interrupted is the earlier restore that did not finish and whose job
	// this one took over; Inherited are the services it had left stopped,
	// which this restore started again.
	Interrupted *journal.Journal
	Inherited   []string
	Duration    time.Duration
	Warnings    []string
}

// Execute carries out a plan: it verifies the whole backup first (nothing
// is stopped or written before it passed), saves the current database
// (refusing the restore, with nothing changed, when that fails and the
// operator did not pass NoSafetyDump), writes the restore journal, stops
// the services the plan names, and streams the archive once, writing the
// stack files, importing each dump chunk after its sha256 matched, and
// refilling the volumes; it checks every table's row count, and starts the
// services again on every path, failure and interrupt included, together
// with those an earlier interrupted restore left stopped. The journal,
// updated before each part is changed, is removed once the job is done.
func Execute(ctx context.Context, eng Engine, plan *Plan, req Request) (res *Result, err error) {
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
	started := now()
	res = &Result{Backup: plan.Backup.Name}
	x := &executor{eng: eng, plan: plan, req: req, log: log, res: res, now: now, stamp: started.UTC().Format("20060102T150405Z")}
	if !req.Verified {
		// The survey of what moving aside would move only reads the
		// server: it runs beside the verification, which only reads the
		// backup, rather than after it.
		x.survey = x.startSurvey(ctx)
		defer x.survey.wait()
		step(fmt.Sprintf("verifying %s on %s", plan.Backup.Name, plan.Source.Name()))
		passed := len(plan.Faults)
		err := VerifyPlan(ctx, plan, req.Identities)
		for _, f := range plan.Faults[passed:] {
			step(fmt.Sprintf("passed over the copy on %s: %v", f.Destination, f.Err))
		}
		if err != nil {
			return res, err
		}
		if len(plan.Faults) > passed {
			step(fmt.Sprintf("verified the copy on %s; restoring from it", plan.Source.Name()))
		}
		log.Info("backup verified", "backup", plan.Backup.Name, "destination", plan.Source.Name())
	}

	if plan.StateDir == "" {
		return res, errors.New("the plan names no state directory for the restore journal; nothing was stopped or changed")
	}
	// Read again: the caller holds the lock now, so a journal here is one
	// a dead run left, not one being written.
	prev, err := journal.Read(plan.StateDir)
	if err != nil {
		return res, fmt.Errorf("%w; nothing was stopped or changed", err)
	}
	if prev != nil {
		res.Interrupted = prev
		msg := prev.Describe() + "; this restore finishes the job"
		if len(prev.Stopped) > 0 {
			msg += " and starts " + strings.Join(prev.Stopped, ", ") + " when it ends"
		}
		step(msg)
		log.Warn("an interrupted restore is finished by this one", "backup", prev.Backup, "phase", prev.Phase,
			"stopped", prev.Stopped, "unfinished", prev.Unfinished)
	}

	// A run killed while it wrote (or read) a volume left that volume's
	// helper, mounted; the caller holds the lock, so none is in use.
	x.removeLeftHelpers(ctx, step)

	// A backup killed while it had stop_during_backup stopped left their
	// names; this restore starts them when it ends, as it does for an
	// interrupted restore's, and its journal takes the names over.
	if err := x.takeOverStoppedByBackup(step); err != nil {
		return res, fmt.Errorf("%w; nothing was stopped or changed", err)
	}

	// The safety net is chosen, and a safety dump written, before
	// anything is stopped: when no way back can be made (a full state
	// dir, a database too damaged to dump), the restore is refused with
	// the stack exactly as it was.
	if plan.Has(PartDB) {
		if err := x.prepareNet(ctx, prev, step); err != nil {
			return res, err
		}
	}

	// The journal is on disk before the first service stops, naming every
	// service this run may stop: after a kill -9 from here on, the next
	// restore knows what to start.
	x.journal = x.newJournal(prev, started)
	if err := x.writeJournal(journal.PhaseStopping); err != nil {
		return res, fmt.Errorf("%w; nothing was stopped or changed", err)
	}
	defer func() { err = x.finish(ctx, step, err) }()
	if len(x.stoppedByBackup) > 0 {
		// The journal names them now. Should the removal fail, the next
		// backup starts what this restore already started: no harm.
		if err := journal.RemoveStopped(plan.StateDir); err != nil {
			log.Warn("the restore journal took over the services a killed backup left stopped", "err", err)
		}
	}

	if len(plan.Stop) > 0 {
		step("stopping " + strings.Join(plan.Stop, ", "))
		stopped, stopErr := eng.StopServices(ctx, plan.stack, plan.Stop, stopTimeout)
		res.Stopped = stopped
		if stopErr != nil {
			return res, fmt.Errorf("stopping services before the restore: %w", stopErr)
		}
		// Now exact: what was running and got stopped.
		x.journal.Stopped = journal.AddUnique(slices.Clone(x.inherited()), stopped...)
		if err := x.writeJournal(journal.PhaseStopping); err != nil {
			return res, err
		}
	}

	if x.asidePrep != nil {
		if err := x.moveAside(ctx, step); err != nil {
			return res, x.explain(err)
		}
	}

	step("restoring " + strings.Join(plan.Parts, ", ") + " from " + plan.Backup.Name)
	if plan.Has(PartDB) {
		x.imp = x.server().newImport(plan.Manifest.Database)
		// Recorded before the first byte reaches the server: from then
		// until the import and the row check pass, the database may be
		// half imported, and (MariaDB) its packet limit raised.
		x.imp.BeforeFirst = func() error {
			x.notePacketLimit(ctx)
			return x.mark(journal.PhaseDB, journal.ItemDB)
		}
		x.imp.Connections = plan.ImportConnections
		defer x.imp.Close()
	}
	if err := x.stream(ctx); err != nil {
		return res, x.explain(err)
	}
	if plan.Has(PartDB) {
		step("checking the row count of every table")
		if err := x.writeJournal(journal.PhaseChecking); err != nil {
			return res, x.explain(err)
		}
		if err := x.checkRows(ctx); err != nil {
			x.rowsWrong = true
			return res, x.explain(err)
		}
	}
	res.Duration = now().Sub(started)
	return res, nil
}

// VerifyPlan downloads the plan's backup and checks all of it against the
// sidecar the plan was made from, touching nothing. When the source's copy
// cannot be read or does not verify, it tries the next copy of the same
// backup (its sidecar must agree with the plan's) and makes the first that
// verifies the plan's source; plan.Faults then says why each copy before
// it was passed over. When none verifies, the error is a *NoCopyError
// listing each copy's fault.
func VerifyPlan(ctx context.Context, plan *Plan, ids []age.Identity) error {
	p := &Chosen{Backup: plan.Backup, Source: plan.Source, Manifest: plan.Manifest, Copies: plan.Copies, Faults: plan.Faults}
	err := p.verify(ctx, ids)
	plan.Source, plan.Faults = p.Source, p.Faults
	return err
}

type executor struct {
	eng   Engine
	plan  *Plan
	req   Request
	log   *slog.Logger
	res   *Result
	now   func() time.Time
	stamp string

	// journal is this run's restore journal, as last written; prev is
	// the one an interrupted restore left, or nil.
	journal *journal.Journal
	prev    *journal.Journal
	// stoppedByBackup are the services a killed backup left stopped.
	stoppedByBackup []string

	// imp is the import of the dump, through the path drills share.
	imp *DumpImport
	// db is the server the plan restores into (see server).
	db dbServer

	vol *volumeStream

	// asidePrep is the move aside chosen before the writers stop; aside
	// the tables moved aside (by this run or an interrupted one).
	asidePrep *asidePrep
	aside     *AsideGroup
	// survey, when set, is the survey of the databases to move aside,
	// begun before the verification (see startSurvey).
	survey *pendingSurvey
	// movedHere: this run moved aside.aside (not an interrupted run);
	// asideCleared: the interrupted run's aside schemas were put back.
	movedHere    bool
	asideCleared bool
	// rowsWrong: the import finished but the row check failed (or could
	// not run), so the database is not the backup's.
	rowsWrong bool
}

// explain adds what to do next to a failure after the database was touched.
func (x *executor) explain(err error) error {
	if x.imp == nil || !x.imp.Touched() {
		return err
	}
	// The oldest safety dump of an unfinished job is the database as it
	// was before the first, interrupted, restore.
	if x.aside != nil {
		// The failed restore puts the tables aside back, and says so.
		return err
	}
	dump := x.res.SafetyDump
	if x.prev != nil && len(x.prev.SafetyDumps) > 0 {
		dump = x.prev.SafetyDumps[0]
	}
	if dump == "" {
		return fmt.Errorf("%w; the database may be partly restored, and there is no safety dump: restore again once the cause is fixed", err)
	}
	return fmt.Errorf("%w; the database may be partly restored: restore again once the cause is fixed. To go back to how it was before: zstd -dc %s | %s",
		err, dump, x.server().byHandImport(x.plan.DBContainer))
}

// stream reads the archive once and hands each entry to its part.
func (x *executor) stream(ctx context.Context) (err error) {
	rc, err := x.plan.Source.Open(ctx, x.plan.Backup.Name)
	if err != nil {
		return err
	}
	defer rc.Close()
	plain, closeDec, err := archive.Decompress(rc, x.plan.Backup.Encrypted, x.req.Identities)
	if err != nil {
		return err
	}
	defer closeDec()
	defer func() {
		// On any failure, end what is still running with the error, so
		// neither the import nor a volume writer sees a clean end.
		if err != nil {
			x.abort(err)
		}
	}()

	files := map[string]FilePlan{}
	for _, f := range x.plan.Files {
		files[f.Entry.Name] = f
	}
	volumes := map[string]VolumePlan{}
	for _, v := range x.plan.Volumes {
		volumes[v.Key] = v
	}
	ar := archive.NewReader(ctx, plain, x.plan.Manifest, archive.ReaderOptions{Identities: x.req.Identities, Blobs: x.plan.Source})
	defer ar.Close()
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		if x.imp != nil && x.imp.Active() && item.Kind != archive.ItemDumpChunk {
			// The dump is over: let the import finish before the volumes.
			if err := x.finishImport(); err != nil {
				return err
			}
		}
		switch item.Kind {
		case archive.ItemDumpChunk:
			if x.plan.Has(PartDB) {
				if err := x.finishVolume(); err != nil {
					return err
				}
				if err := x.imp.Chunk(ctx, item, ar); err != nil {
					return err
				}
			}
		case archive.ItemFile:
			if f, ok := files[item.Name]; ok {
				if err := x.mark(journal.PhaseFiles, journal.ItemFiles); err != nil {
					return err
				}
				if err := x.writeFile(item.Header, ar, f); err != nil {
					return err
				}
			}
		case archive.ItemVolume:
			v, ok := volumes[item.Volume]
			if !ok || x.req.excluded(item.Header) {
				continue
			}
			if err := x.volumeEntry(ctx, v, item.Header, ar); err != nil {
				return err
			}
		}
	}
	if err := x.finishVolume(); err != nil {
		return err
	}
	return x.finishImport()
}

func (x *executor) finishImport() error {
	if !x.plan.Has(PartDB) || x.imp == nil || x.imp.Finished() {
		return nil
	}
	if err := x.imp.Finish(); err != nil {
		return err
	}
	x.log.Info("database imported", "chunks", x.imp.Chunks(), "bytes", x.plan.Manifest.Database.DumpSize, "connections", x.imp.Streams())
	return nil
}

// abort ends the import and a volume write with err.
func (x *executor) abort(err error) {
	if x.imp != nil {
		x.imp.Abort(err)
	}
	if x.vol != nil {
		x.vol.pw.CloseWithError(err)
		<-x.vol.done
		x.vol = nil
	}
}

// checkRows compares every table's rows with the manifest's count.
func (x *executor) checkRows(ctx context.Context) error {
	var wrong []string
	var checked int
	if stored := x.imp.StoredRows(); stored != nil {
		// The server's own count of what it stored, table by table, as
		// the import went: counting every table again would read the
		// whole database once more.
		wrong = archive.WrongRows(x.plan.Manifest.Database.Tables, stored)
		checked, _ = x.plan.Manifest.Database.Counts()
	} else {
		var err error
		if wrong, checked, err = x.server().compareRows(ctx, x.plan.Manifest.Database); err != nil {
			return err
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("after the import: %s", strings.Join(wrong, "; "))
	}
	x.res.TablesChecked = checked
	// What the backup itself could not hold is missing from the restored
	// database too: the operator hears it here, not when a page breaks.
	x.res.Warnings = append(x.res.Warnings, x.plan.Manifest.Database.Lacks()...)
	return nil
}

// CompareRows counts the rows of every table the backup's dump holds and
// lists those whose count differs from the manifest's, or that are gone.
func CompareRows(ctx context.Context, srv *mariadb.Server, db *archive.Database) (wrong []string, checked int, err error) {
	var refs []mariadb.TableRef
	for _, t := range db.Tables {
		if !t.View {
			// A versioned table's rows in the dump are its row versions.
			refs = append(refs, mariadb.TableRef{Database: t.Database, Name: t.Name, AllVersions: t.Versioned})
		}
	}
	counts, err := srv.RowCounts(ctx, refs)
	if err != nil {
		return nil, 0, err
	}
	wrong = archive.WrongRows(db.Tables, counts)
	return wrong, len(refs), nil
}

// writeFile writes one stack file next to its target, checks it, keeps
// the file it replaces as *.dr-replaced-<time>, and moves it in place.
func (x *executor) writeFile(hdr *tar.Header, r *archive.Reader, f FilePlan) error {
	if hdr.Typeflag != tar.TypeReg || hdr.Size != f.Entry.Size {
		return fmt.Errorf("archive entry %s does not match the manifest", f.Entry.Name)
	}
	dir := filepath.Dir(f.Target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Target)+".dr-restore-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.Target, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// r is the archive reader: a content that is not the manifest's
	// fails at its end, before the file is moved in place.
	if _, err := io.Copy(tmp, r); err != nil {
		return fmt.Errorf("writing %s: %w; %s was left as it was", f.Target, err, f.Target)
	}
	mode := os.FileMode(f.Entry.Mode).Perm()
	if filepath.Base(f.Target) == ".env" {
		mode = 0o600 // secrets, whatever the mode was
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", f.Target, err)
	}
	if os.Geteuid() == 0 {
		_ = tmp.Chown(f.Entry.UID, f.Entry.GID)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", f.Target, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", f.Target, err)
	}
	written := WrittenFile{Target: f.Target}
	if sameFile(f.Target, f.Entry, mode) {
		written.Unchanged = true
		x.res.Files = append(x.res.Files, written)
		return nil
	}
	if _, err := os.Lstat(f.Target); err == nil {
		written.Replaced = f.Target + ".dr-replaced-" + x.stamp
		if err := os.Rename(f.Target, written.Replaced); err != nil {
			return fmt.Errorf("keeping the current %s: %w", f.Target, err)
		}
	}
	if err := os.Rename(tmp.Name(), f.Target); err != nil {
		return fmt.Errorf("moving the restored %s in place: %w", f.Target, err)
	}
	committed = true
	x.res.Files = append(x.res.Files, written)
	x.log.Info("stack file restored", "file", f.Target, "replaced", written.Replaced)
	return nil
}

// volumeStream is the tar stream into one volume being written.
type volumeStream struct {
	plan     VolumePlan
	pw       *io.PipeWriter
	tw       *tar.Writer
	done     chan error
	existing map[string]bool // merge mode: paths already in the volume
}

// volumeEntry writes one entry into the volume's stream; r is the
// archive reader, which checks the content as it goes.
func (x *executor) volumeEntry(ctx context.Context, v VolumePlan, hdr *tar.Header, r *archive.Reader) error {
	if x.vol != nil && x.vol.plan.Key != v.Key {
		if err := x.finishVolume(); err != nil {
			return err
		}
	}
	if x.vol == nil {
		if err := x.startVolume(ctx, v); err != nil {
			return err
		}
	}
	prefix := archive.VolumePrefix(v.Key)
	rel := strings.TrimPrefix(hdr.Name, prefix)
	if x.vol.existing != nil && x.vol.existing[strings.TrimSuffix(rel, "/")] {
		return nil
	}
	nh := &tar.Header{
		Typeflag: hdr.Typeflag, Name: archive.VolumeRoot + "/" + rel, Mode: hdr.Mode,
		Uid: hdr.Uid, Gid: hdr.Gid, ModTime: hdr.ModTime, PAXRecords: hdr.PAXRecords, Format: tar.FormatPAX,
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		nh.Linkname = hdr.Linkname
	case tar.TypeLink:
		nh.Linkname = archive.VolumeRoot + "/" + strings.TrimPrefix(hdr.Linkname, prefix)
	case tar.TypeReg:
		nh.Size = hdr.Size
	}
	if err := x.vol.tw.WriteHeader(nh); err != nil {
		return x.volumeWriteError(v, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	src := &readErr{r: r}
	if _, err := io.Copy(x.vol.tw, src); err != nil {
		if src.err != nil {
			// The archive's side failed (a damaged content): that is
			// the cause, not the pipe the engine then sees broken.
			x.vol.pw.CloseWithError(src.err)
			<-x.vol.done
			x.vol = nil
			return fmt.Errorf("restoring volume %s: %w", v.Key, src.err)
		}
		return x.volumeWriteError(v, err)
	}
	return nil
}

// readErr keeps the error its reader gave.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}

// volumeWriteError prefers the engine's own error over the broken pipe.
func (x *executor) volumeWriteError(v VolumePlan, err error) error {
	x.vol.pw.CloseWithError(err)
	if werr := <-x.vol.done; werr != nil {
		err = werr
	}
	x.vol = nil
	return fmt.Errorf("restoring volume %s: %w", v.Key, err)
}

func (x *executor) startVolume(ctx context.Context, v VolumePlan) error {
	if err := x.mark(journal.PhaseVolumes, journal.VolumeItem(v.Key)); err != nil {
		return err
	}
	if !v.Exists {
		if err := x.eng.CreateVolume(ctx, v.Docker, v.Labels); err != nil {
			return err
		}
		x.log.Info("volume created", "volume", v.Key, "name", v.Docker)
	}
	s := &volumeStream{plan: v, done: make(chan error, 1)}
	if x.plan.Merge && v.Exists {
		existing, err := x.listVolume(ctx, v.Docker)
		if err != nil {
			return err
		}
		s.existing = existing
	}
	pr, pw := io.Pipe()
	s.pw, s.tw = pw, tar.NewWriter(pw)
	write := x.eng.ReplaceVolume
	if x.plan.Merge {
		write = x.eng.WriteVolume
	}
	go func() {
		err := write(ctx, v.Docker, x.plan.helperImage, pr)
		pr.CloseWithError(errOr(err, errors.New("the engine stopped reading the volume stream")))
		s.done <- err
	}()
	x.vol = s
	return nil
}

func (x *executor) finishVolume() error {
	if x.vol == nil {
		return nil
	}
	s := x.vol
	x.vol = nil
	closeErr := s.tw.Close()
	s.pw.CloseWithError(closeErr)
	if err := errors.Join(closeErr, <-s.done); err != nil {
		return fmt.Errorf("restoring volume %s: %w", s.plan.Key, err)
	}
	x.res.Volumes = append(x.res.Volumes, s.plan.Key)
	x.log.Info("volume restored", "volume", s.plan.Key, "name", s.plan.Docker, "merge", x.plan.Merge)
	return nil
}

// listVolume returns the paths a volume holds, relative to its root.
func (x *executor) listVolume(ctx context.Context, name string) (map[string]bool, error) {
	rc, err := x.eng.ReadVolume(ctx, name, x.plan.helperImage)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out := map[string]bool{}
	err = archive.WalkVolume(ctx, rc, archive.VolumeRoot, func(f archive.VolumeFile) error {
		if f.Rel != "" {
			out[f.Rel] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing volume %s: %w", name, err)
	}
	return out, nil
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	buf []byte
	max int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = slices.Clone(t.buf[len(t.buf)-t.max:])
	}
	return len(p), nil
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// sameFile says whether path already is the entry: same content and mode.
func sameFile(path string, e archive.Entry, mode os.FileMode) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() != e.Size || st.Mode().Perm() != mode {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == e.SHA256
}
