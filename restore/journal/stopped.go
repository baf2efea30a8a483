package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StoppedFileName is the record, in the state directory, of the services
// a backup stopped for its volume capture (stack.stop_during_backup).
const StoppedFileName = "backup-stopped.json"

// Stopped is that record. A backup writes it before it asks the engine to
// stop anything and removes it once it started them again, so that a
// backup killed in between (kill -9, a power cut) leaves the names behind:
// the next backup or restore starts them, as it finishes a killed restore.
type Stopped struct {
	Version   int    `json:"version"`
	Project   string `json:"project"`
	DBService string `json:"db_service,omitempty"`
	// Services are those the backup stopped, or was about to stop.
	Services  []string  `json:"services"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
}

// StoppedPath is the record's path in stateDir.
func StoppedPath(stateDir string) string { return filepath.Join(stateDir, StoppedFileName) }

// WriteStopped records, durably, the services a backup is about to stop.
func WriteStopped(stateDir string, s *Stopped) error {
	s.Version = Version
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("recording the services the backup stops: %w", err)
	}
	if err := writeDurably(stateDir, StoppedFileName, data); err != nil {
		return fmt.Errorf("recording the services the backup stops: %w", err)
	}
	return nil
}

// ReadStopped returns the record in stateDir, or nil and no error when
// there is none: no backup left services stopped.
func ReadStopped(stateDir string) (*Stopped, error) {
	path := StoppedPath(stateDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var s Stopped
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("reading %s: it is damaged (%w); a backup was killed while it had services stopped: start them (docker compose start) and delete the file", path, err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("reading %s: format version %d, this dr reads %d", path, s.Version, Version)
	}
	return &s, nil
}

// RemoveStopped deletes the record durably: what it names runs again.
func RemoveStopped(stateDir string) error {
	if err := removeDurably(stateDir, StoppedFileName); err != nil {
		return fmt.Errorf("removing the record of the services the backup stopped: %w", err)
	}
	return nil
}

// Describe says in one sentence what the record means, for an operator.
func (s *Stopped) Describe() string {
	by := ""
	if s.PID != 0 {
		by = fmt.Sprintf(" by pid %d", s.PID)
	}
	return fmt.Sprintf("a backup (started %s%s) stopped %s of project %s for its volume capture and did not start them again",
		s.StartedAt.UTC().Format(time.RFC3339), by, strings.Join(s.Services, ", "), s.Project)
}
