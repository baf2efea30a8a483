// Package health is the record the daemon keeps and the verdict drawn
// from it: every job run (the history in state_dir, which dr status reads
// without a daemon), what the daemon looks like at one instant, and the
// status that dr status prints and the daemon's /healthz, /status and
// /metrics serve. It depends on the configuration only, so the daemon, its
// HTTP surface and its notifications share one vocabulary without
// importing each other.
package health

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/appwrite-dr/dr/config"
)

// HistoryFile is the daemon's job history inside the state directory.
const HistoryFile = "daemon-history.json"

// historyVersion is the format this build writes and reads.
const historyVersion = 1

// MaxRuns bounds the history: at one backup and one drill a day this is
// more than a year, and the file stays under a few hundred KiB.
const MaxRuns = 1000

// Job kinds.
const (
	KindBackup = "backup"
	KindDrill  = "drill"
	KindVerify = "verify"
)

// Kinds are the job kinds, in the order they run when due together.
var Kinds = []string{KindBackup, KindDrill, KindVerify}

// Spec is the configured schedule of a job kind ("" when off).
func Spec(cfg *config.Config, kind string) string {
	switch kind {
	case KindBackup:
		return cfg.Schedule.Backup
	case KindDrill:
		return cfg.Schedule.Drill
	case KindVerify:
		return cfg.Schedule.Verify
	}
	return ""
}

// Outcomes of a run.
const (
	OutcomeSuccess = "success"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped"
)

// Triggers: why a run started.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerRunNow   = "run-now"
)

// Run is one job run as the history records it.
type Run struct {
	Kind     string        `json:"kind"`
	Trigger  string        `json:"trigger"`
	Started  time.Time     `json:"started"`
	Ended    time.Time     `json:"ended"`
	Outcome  string        `json:"outcome"`
	Error    string        `json:"error,omitempty"`
	Backup   string        `json:"backup,omitempty"`
	Bytes    int64         `json:"bytes,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Destinations is each destination's outcome of a backup.
	Destinations []DestinationOutcome `json:"destinations,omitempty"`
	// Drill is a drill's verdict, absent from backups and from drills that
	// stopped before a backup was picked (and from histories written
	// before drills were recorded: the field is optional, the format
	// version unchanged).
	Drill *DrillOutcome `json:"drill,omitempty"`
	// Lacks is what a backup could not hold, one sentence each (a view
	// it left out, a history it could not dump): a restore of it lacks
	// them. Absent when it holds everything.
	Lacks []string `json:"lacks,omitempty"`
}

// DrillOutcome is what a drill run measured.
type DrillOutcome struct {
	// RTOSeconds is the time from the drill's start until the database was
	// back; zero when the drill stopped before the import finished.
	RTOSeconds float64 `json:"rto_seconds,omitempty"`
	// BackupAgeSeconds is how old the drilled backup was when the drill
	// started: the data a restore at that moment would have lost.
	BackupAgeSeconds float64  `json:"backup_age_seconds"`
	Passed           bool     `json:"passed"`
	Checks           int      `json:"checks"`
	Failed           []string `json:"failed_checks,omitempty"`
}

// LastDrillRTO returns the newest drill run that measured an RTO, or nil:
// a drill that failed before the import keeps the last measured RTO in
// view rather than hiding it.
func (h *History) LastDrillRTO() *Run {
	for i := len(h.Runs) - 1; i >= 0; i-- {
		if r := h.Runs[i]; r.Kind == KindDrill && r.Drill != nil && r.Drill.RTOSeconds > 0 {
			return &h.Runs[i]
		}
	}
	return nil
}

// DestinationOutcome is one destination's part of a backup run.
type DestinationOutcome struct {
	Name  string `json:"name"`
	Error string `json:"error,omitempty"`
}

// History is what the daemon persists between runs: the last scheduled
// time handled per job kind (what catch-up compares against) and the runs,
// oldest first.
type History struct {
	Version int                  `json:"version"`
	LastDue map[string]time.Time `json:"last_due"`
	Runs    []Run                `json:"runs"`
}

// Last returns the newest run of kind, or nil.
func (h *History) Last(kind string) *Run {
	for i := len(h.Runs) - 1; i >= 0; i-- {
		if h.Runs[i].Kind == kind {
			return &h.Runs[i]
		}
	}
	return nil
}

// LastSuccess returns the newest successful run of kind, or nil.
func (h *History) LastSuccess(kind string) *Run {
	for i := len(h.Runs) - 1; i >= 0; i-- {
		if h.Runs[i].Kind == kind && h.Runs[i].Outcome == OutcomeSuccess {
			return &h.Runs[i]
		}
	}
	return nil
}

// Add appends a run and drops the oldest beyond MaxRuns.
func (h *History) Add(r Run) {
	h.Runs = append(h.Runs, r)
	if n := len(h.Runs) - MaxRuns; n > 0 {
		h.Runs = append([]Run(nil), h.Runs[n:]...)
	}
}

// LoadHistory reads the history in stateDir; a missing file is an empty
// history (a daemon that never ran).
func LoadHistory(stateDir string) (*History, error) {
	path := filepath.Join(stateDir, HistoryFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &History{Version: historyVersion, LastDue: map[string]time.Time{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading job history: %w", err)
	}
	var h History
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("reading job history %s: not valid JSON (%v); move it aside to start a new history", path, err)
	}
	if h.Version != historyVersion {
		return nil, fmt.Errorf("reading job history %s: format version %d, this dr reads %d", path, h.Version, historyVersion)
	}
	if h.LastDue == nil {
		h.LastDue = map[string]time.Time{}
	}
	return &h, nil
}

// Save writes the history atomically: a temporary file, synced, renamed
// over the old one, so a kill -9 or power cut leaves the old or the new
// history, never half of one.
func (h *History) Save(stateDir string) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("creating state directory %s: %w", stateDir, err)
	}
	h.Version = historyVersion
	data, err := json.MarshalIndent(h, "", " ")
	if err != nil {
		return fmt.Errorf("encoding job history: %w", err)
	}
	tmp, err := os.CreateTemp(stateDir, HistoryFile+".tmp*")
	if err != nil {
		return fmt.Errorf("writing job history: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing job history: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing job history: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing job history: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(stateDir, HistoryFile)); err != nil {
		return fmt.Errorf("writing job history: %w", err)
	}
	if d, err := os.Open(stateDir); err == nil {
		_ = d.Sync() // the rename itself survives a power cut
		d.Close()
	}
	return nil
}
