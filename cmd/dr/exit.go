package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore"
)

// Exit codes are part of dr's interface: scripts and monitors rely on them.
// They are decided here and nowhere else.
const (
	exitOK     = 0
	exitFailed = 1 // the operation failed (or partly failed)
	exitUsage  = 2 // bad usage or bad config
	exitLocked = 3 // another run holds the lock
)

// exitStatusHelp ends every command's help.
const exitStatusHelp = `
Exit status:
  0  success
  1  the operation failed (or failed on some destinations)
  2  bad usage or bad configuration
  3  another dr run holds the lock
`

// dr diff answers as diff(1) does, for scripts that test "did anything
// change": 0 the same, 1 different, 2 trouble (bad usage, or the
// comparison could not be made).
const (
	exitDiffers     = 1
	exitDiffTrouble = 2
)

// exitStatusAnnotation holds a command's own exit status table, which
// then ends its help instead of exitStatusHelp.
const exitStatusAnnotation = "dr.exit-status"

const diffExitStatusHelp = `
Exit status (as diff(1)):
  0  no differences
  1  differences found (printed)
  2  trouble: bad usage or configuration, or the comparison could not be made
`

// differencesFound is dr diff's outcome when the two sides differ.
type differencesFound struct {
	n    int
	a, b string
}

func (e *differencesFound) Error() string {
	if e.n == 1 {
		return fmt.Sprintf("1 difference between %s and %s", e.a, e.b)
	}
	return fmt.Sprintf("%d differences between %s and %s", e.n, e.a, e.b)
}

// diffTrouble is any failure of dr diff: exit 2, never 1, which says
// "different".
type diffTrouble struct{ err error }

func (e diffTrouble) Error() string { return e.err.Error() }
func (e diffTrouble) Unwrap() error { return e.err }

// usageError marks a mistake in flags or arguments.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var (
		differs *differencesFound
		trouble diffTrouble
		usage   usageError
		cfg     *config.Error
		held    *lock.HeldError
	)
	switch {
	case errors.As(err, &differs):
		return exitDiffers
	case errors.As(err, &trouble):
		return exitDiffTrouble
	case errors.As(err, &held):
		return exitLocked
	case errors.As(err, &usage), errors.As(err, &cfg), errors.Is(err, backup.ErrUnknownDestination), errors.Is(err, restore.ErrNeedsIdentity):
		return exitUsage
	case isCobraUsage(err):
		return exitUsage
	default:
		return exitFailed
	}
}

// isCobraUsage recognises the errors cobra makes itself for unknown
// commands and bad arguments, which do not pass through our flag hook.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") ||
		strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") ||
		strings.HasPrefix(msg, "invalid argument")
}
