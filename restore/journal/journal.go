// Package journal is the restore journal: the durable record, in
// state_dir, of a restore in progress. A restore writes it before it stops
// any service and updates it before each part it changes, so that after a
// kill -9 (or a power cut) the next run knows which backup was being
// restored, which services were left stopped, and which parts may be half
// done. The next restore finishes the job and starts those services; a
// backup refuses to save a half-restored stack.
//
// It is a leaf package (standard library only) so that backup, restore and
// the daemon can all read it without importing each other.
package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileName is the journal's file inside the state directory.
const FileName = "restore-journal.json"

// Version is the journal format this build writes and reads.
const Version = 1

// Phases of a restore, in the order it goes through them.
const (
	PhaseStopping = "stopping services"
	PhaseFiles    = "writing stack files"
	PhaseAside    = "moving the database aside"
	PhaseDB       = "importing the database"
	PhaseVolumes  = "restoring volumes"
	PhaseChecking = "checking row counts"
	PhaseStarting = "starting services"
	PhaseDone     = "done"
	PhaseFailed   = "failed"
)

// Items a restore may leave half done: the database, the stack files, and
// each volume as "volume:<configured name>".
const (
	ItemDB    = "database"
	ItemFiles = "stack files"
)

// VolumeItem names one volume as an unfinished item.
func VolumeItem(key string) string { return "volume:" + key }

// Journal is one restore's record.
type Journal struct {
	Version int `json:"version"`
	// Backup is the backup being restored.
	Backup  string `json:"backup"`
	Project string `json:"project"`
	// DBService is the database service (to find the stack again).
	DBService string   `json:"db_service,omitempty"`
	Parts     []string `json:"parts"`
	// Phase is how far the restore got.
	Phase string `json:"phase"`
	// Stopped are the services the restore stopped (or was about to stop
	// when the journal was written), including those an earlier interrupted
	// restore left stopped: whoever finishes the job starts them.
	Stopped []string `json:"stopped,omitempty"`
	// Unfinished are the items the restore began to change and did not
	// finish: they may hold part old, part restored data.
	Unfinished []string `json:"unfinished,omitempty"`
	// SafetyDumps are the dumps of the database as it was before: the
	// newest restore's last, an interrupted one's first.
	SafetyDumps []string `json:"safety_dumps,omitempty"`
	// Aside are the schemas the current tables were (or were about to be)
	// moved into: the database as it was before, which dr restore --undo
	// swaps back.
	Aside []string `json:"aside,omitempty"`
	// PacketLimit is the server's GLOBAL max_allowed_packet before the
	// import raised it for itself: a kill -9 skips putting it back, and the
	// run that finishes the job finds the raised value, so it puts this one
	// back instead. 0: not read yet.
	PacketLimit int64 `json:"max_allowed_packet,omitempty"`
	// Command is what the operator runs to finish the job.
	Command   string    `json:"command,omitempty"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Path is the journal's path in stateDir.
func Path(stateDir string) string { return filepath.Join(stateDir, FileName) }

// Read returns the journal in stateDir, or nil and no error when there is
// none. A journal that cannot be read or parsed is an error: a restore
// may have been interrupted, and guessing could leave the stack down.
func Read(stateDir string) (*Journal, error) {
	path := Path(stateDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the restore journal %s: %w", path, err)
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("reading the restore journal %s: it is damaged (%w); a restore was interrupted: see which services it left stopped (docker compose ps -a), delete the file, run the restore again, and start those services", path, err)
	}
	if j.Version != Version {
		return nil, fmt.Errorf("reading the restore journal %s: format version %d, this dr reads %d; finish the restore with the dr that wrote it", path, j.Version, Version)
	}
	return &j, nil
}

// Write replaces the journal in stateDir atomically and durably (see
// writeDurably).
func Write(stateDir string, j *Journal) error {
	j.Version = Version
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("writing the restore journal: %w", err)
	}
	if err := writeDurably(stateDir, FileName, data); err != nil {
		return fmt.Errorf("writing the restore journal: %w", err)
	}
	return nil
}

// writeDurably replaces stateDir/name atomically and durably: a temporary
// file, fsynced, renamed over the file, and the directory fsynced, so a
// crash at any moment leaves either the old file or the new one whole.
func writeDurably(stateDir, name string, data []byte) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("creating state directory %s: %w", stateDir, err)
	}
	tmp, err := os.CreateTemp(stateDir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("in %s: %w", stateDir, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600 already; say so, the file names
	// services and paths only but state_dir is private by rule.
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(stateDir, name)); err != nil {
		return err
	}
	done = true
	if err := SyncDir(stateDir); err != nil {
		return err
	}
	// A run killed in the middle of a write leaves its temporary file;
	// only one run writes at a time (the lock), so any other is stale.
	stale, _ := filepath.Glob(filepath.Join(stateDir, "."+name+".*"))
	for _, f := range stale {
		os.Remove(f)
	}
	return nil
}

// Remove deletes the journal durably: the restore it recorded is over.
func Remove(stateDir string) error {
	if err := removeDurably(stateDir, FileName); err != nil {
		return fmt.Errorf("removing the restore journal: %w", err)
	}
	return nil
}

func removeDurably(stateDir, name string) error {
	if err := os.Remove(filepath.Join(stateDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return SyncDir(stateDir)
}

// SyncDir fsyncs a directory, making a rename or removal in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// HalfDone says whether the restore left data part old, part restored.
func (j *Journal) HalfDone() bool { return len(j.Unfinished) > 0 }

// Describe says in one sentence what the journal records, for an operator.
func (j *Journal) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "a restore of %s (started %s", j.Backup, j.StartedAt.UTC().Format(time.RFC3339))
	if j.PID != 0 {
		fmt.Fprintf(&b, " by pid %d", j.PID)
	}
	b.WriteString(") did not finish")
	if j.Phase != "" {
		fmt.Fprintf(&b, "; it got as far as %s", j.Phase)
	}
	if len(j.Unfinished) > 0 {
		fmt.Fprintf(&b, "; %s may be half restored", strings.Join(j.Unfinished, ", "))
	}
	if len(j.Stopped) > 0 {
		fmt.Fprintf(&b, "; it stopped %s", strings.Join(j.Stopped, ", "))
	}
	return b.String()
}

// FinishCommand is the command that finishes the restore.
func (j *Journal) FinishCommand() string {
	if j.Command != "" {
		return j.Command
	}
	cmd := "dr restore " + j.Backup
	if len(j.Parts) > 0 {
		cmd += " --only " + strings.Join(j.Parts, ",")
	}
	return cmd + " --yes"
}

// UnfinishedError is a backup refused because a restore left the stack
// half restored.
type UnfinishedError struct {
	Journal *Journal
	Path    string
}

func (e *UnfinishedError) Error() string {
	j := e.Journal
	msg := fmt.Sprintf("refusing to back up: %s (journal %s), so a backup now would save a half-restored stack. Finish the restore first: %s",
		j.Describe(), e.Path, j.FinishCommand())
	if len(j.SafetyDumps) > 0 {
		msg += fmt.Sprintf(" (the database as it was before the restore is in %s)", j.SafetyDumps[0])
	} else if len(j.Aside) > 0 {
		msg += fmt.Sprintf(" (the database as it was before the restore is aside in %s: dr restore --undo swaps it back)", strings.Join(j.Aside, ", "))
	}
	return msg + fmt.Sprintf("; only if the stack was made whole another way, delete %s instead", e.Path)
}

// CheckBackup is what every backup asks before it dumps: it refuses while
// the journal in stateDir says a restore left data half restored, and
// while a journal exists that cannot be read. A journal that records only
// stopped services (the restore was killed before it changed anything)
// does not stop a backup: the data is whole.
func CheckBackup(stateDir string) (*Journal, error) {
	j, err := Read(stateDir)
	if err != nil {
		return nil, fmt.Errorf("refusing to back up: %w", err)
	}
	if j != nil && j.HalfDone() {
		return j, &UnfinishedError{Journal: j, Path: Path(stateDir)}
	}
	return j, nil
}

// AddUnique appends the items not in list yet, keeping the order.
func AddUnique(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
