// Package lock keeps two dr runs from working on the same host at once.
//
// The lock is an flock(2) on a file in the state directory, so it is
// released by the kernel when the holder dies, however it dies: a crash
// never leaves a stale lock that an operator must delete by hand.
package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FileName is the lock file inside the state directory.
const FileName = "dr.lock"

// HeldError says another process holds the lock, and which.
type HeldError struct {
	Path   string
	Holder string // "pid 123 (backup) since 2026-11-25T05:00:00Z", as the holder wrote it
}

func (e *HeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("another dr run holds the lock %s; wait for it to finish", e.Path)
	}
	return fmt.Sprintf("another dr run holds the lock %s (%s); wait for it to finish", e.Path, e.Holder)
}

// Lock is a held lock; Release gives it back.
type Lock struct {
	file *os.File
}

// Acquire takes the lock in dir without waiting. what names the operation
// for whoever finds the lock held (e.g. "backup").
func Acquire(dir, what string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder, _ := os.ReadFile(path)
			return nil, &HeldError{Path: path, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// The holder line is informational only; the flock is the lock.
	info := "pid " + strconv.Itoa(os.Getpid()) + " (" + what + ") since " + time.Now().UTC().Format(time.RFC3339)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(info+"\n"), 0)
	}
	return &Lock{file: f}, nil
}

// Release unlocks. The file stays: removing it would race with a run that
// has just opened it.
func (l *Lock) Release() error {
	if l == nil || l.file == nil {
		return nil
	}
	_ = l.file.Truncate(0)
	err := syscall.Flock(int(l.file.Fd()), syscall.LOCK_UN)
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.file = nil
	if err != nil {
		return fmt.Errorf("releasing lock: %w", err)
	}
	return nil
}

// Owner names the state dir dir for labels on what a run holding its lock
// makes (drill containers, volume helpers): a run holding the lock knows
// that anything else with its owner label is a killed run's leftover,
// while what runs of another state dir (another dr on the same engine)
// make is left alone. It is a short hash of dir's absolute path.
func Owner(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:6])
}
