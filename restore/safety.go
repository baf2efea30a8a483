package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/restore/journal"
)

// safetySuffix ends every safety dump's name; partialSuffix is added while
// one is being written, so a dump cut short never has the final name.
const (
	safetySuffix  = ".before-restore.sql.zst"
	partialSuffix = ".partial"
)

// SafetyDumpError refuses a restore whose safety dump could not be
// written. Nothing was stopped or changed when it is returned.
type SafetyDumpError struct {
	Dir string
	Err error
}

func (e *SafetyDumpError) Error() string {
	return fmt.Sprintf("saving the current database to %s before the restore: %v; the restore was refused and nothing was stopped or changed. "+
		"Fix the cause (free space in state_dir, a database container that answers) and run it again, or, when the database is too damaged to be dumped, "+
		"run it again with --no-safety-dump to import without a way back", e.Dir, e.Err)
}

func (e *SafetyDumpError) Unwrap() error { return e.Err }

// safetyDump saves every database of the server as it is now, compressed,
// into the safety directory, so a restore can be undone.
// A path of "" means the server held nothing to save.
func (x *executor) safetyDump(ctx context.Context) (string, error) {
	return x.server().safetyDump(ctx, x.log, x.plan.SafetyDir, x.plan.Project+"-"+x.stamp)
}

// writeSafetyDump writes dump's output, zstd-compressed, to
// dir/<base>.before-restore.sql.zst and returns its path. It writes to a
// .partial name first and renames only a dump that completed (the dump
// client's trailer seen), fsynced, so that no dump cut short by an error,
// a full disk or a kill ever sits under the name of a good one.
func writeSafetyDump(dir, base, trailer string, dump func(io.Writer) error) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	final := filepath.Join(dir, base+safetySuffix)
	for i := 2; fileExists(final) || fileExists(final+partialSuffix); i++ {
		final = filepath.Join(dir, fmt.Sprintf("%s-%d%s", base, i, safetySuffix))
	}
	partial := final + partialSuffix
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("creating the safety dump: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(partial)
		}
	}()
	// The file's own write error (ENOSPC, say) is the one worth telling;
	// through zstd and the exec stream it would arrive as a broken pipe.
	fw := &firstErrWriter{w: f}
	zw, err := zstd.NewWriter(fw)
	if err != nil {
		return "", fmt.Errorf("starting the safety dump's compressor: %w", err)
	}
	tail := &tailWriter{max: 256}
	dumpErr := dump(io.MultiWriter(zw, tail))
	closeErr := zw.Close()
	if fw.err != nil {
		return "", fmt.Errorf("writing %s: %w", partial, fw.err)
	}
	if err := errors.Join(dumpErr, closeErr); err != nil {
		return "", fmt.Errorf("dumping the database: %w", err)
	}
	if !bytes.Contains(tail.buf, []byte(trailer)) {
		return "", errors.New("dumping the database: the dump ended without its completion trailer")
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("writing %s: %w", partial, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", partial, err)
	}
	if err := os.Rename(partial, final); err != nil {
		return "", fmt.Errorf("naming the safety dump %s: %w", final, err)
	}
	renamed = true
	if err := journal.SyncDir(dir); err != nil {
		return "", fmt.Errorf("naming the safety dump %s: %w", final, err)
	}
	return final, nil
}

// firstErrWriter remembers the first error of the writer it wraps.
type firstErrWriter struct {
	w   io.Writer
	err error
}

func (f *firstErrWriter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.w.Write(p)
	if err != nil {
		f.err = err
	}
	return n, err
}

// pruneSafetyDumps keeps the keep newest safety dumps of the project in dir
// and every one named in protect (the dumps an unfinished restore may need),
// and deletes the others, and the .partial files runs that died left. It
// runs under the lock, so no .partial there is being written.
func pruneSafetyDumps(dir, project string, keep int, protect []string) (removed []string, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	name := regexp.MustCompile(`^` + regexp.QuoteMeta(project) + `-(\d{8}T\d{6}Z)(-(\d+))?` + regexp.QuoteMeta(safetySuffix) + `(` + regexp.QuoteMeta(partialSuffix) + `)?$`)
	type dump struct {
		name, stamp string
		seq         int
	}
	var dumps []dump
	var errs []error
	for _, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		if m[4] != "" {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, e.Name())
			}
			continue
		}
		seq := 1
		if m[3] != "" {
			fmt.Sscan(m[3], &seq)
		}
		dumps = append(dumps, dump{name: e.Name(), stamp: m[1], seq: seq})
	}
	// Newest first: by the time in the name, then by the sequence number a
	// second dump in the same second got.
	slices.SortFunc(dumps, func(a, b dump) int {
		if c := strings.Compare(b.stamp, a.stamp); c != 0 {
			return c
		}
		return b.seq - a.seq
	})
	keep = max(keep, 1)
	for i, d := range dumps {
		path := filepath.Join(dir, d.name)
		if i < keep || slices.Contains(protect, path) {
			continue
		}
		if err := os.Remove(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, d.name)
	}
	return removed, errors.Join(errs...)
}
