package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/usecase"
)

// Exit codes are part of dr's interface: scripts and monitors rely on them.
// They are decided here and nowhere else, and docs/scripting.md lists them.
const (
	exitOK          = 0
	exitFailed      = 1   // the operation failed
	exitUsage       = 2   // bad usage or bad config
	exitLocked      = 3   // another run holds the lock
	exitPartial     = 4   // done on some destinations, failed on others
	exitInterrupted = 130 // SIGINT or SIGTERM, as a shell reports a SIGINT
)

// exitMeaning is each code's line in a command's help.
func exitMeaning(code int) string {
	switch code {
	case exitOK:
		return "success"
	case exitFailed:
		return "the operation failed"
	case exitUsage:
		return "bad usage or bad configuration"
	case exitLocked:
		return "another dr run holds the state dir's lock"
	case exitPartial:
		return "partly done: done on some destinations, failed on or could not reach others"
	case exitInterrupted:
		return "interrupted (SIGINT or SIGTERM); what was begun was undone"
	}
	return ""
}

// exitCodesOf lists the codes a command can return, by its path ("dr
// backup"). A command that takes the state dir's lock can exit 3; one
// that writes to several destinations can exit 4.
func exitCodesOf(path string) []int {
	switch path {
	case "dr backup", "dr prune":
		return []int{exitOK, exitFailed, exitUsage, exitLocked, exitPartial, exitInterrupted}
	case "dr pin", "dr unpin":
		return []int{exitOK, exitFailed, exitUsage, exitPartial, exitInterrupted}
	case "dr restore", "dr drill", "dr drill cleanup", "dr runbook run", "dr aside undo", "dr aside drop":
		return []int{exitOK, exitFailed, exitUsage, exitLocked, exitInterrupted}
	case "dr daemon":
		// A stop (SIGTERM) is the daemon's normal end: it exits 0.
		return []int{exitOK, exitFailed, exitUsage}
	}
	return []int{exitOK, exitFailed, exitUsage, exitInterrupted}
}

// exitStatusHelp is the table that ends a command's help.
func exitStatusHelp(path string) string {
	var b strings.Builder
	b.WriteString("\nExit status:\n")
	for _, code := range exitCodesOf(path) {
		fmt.Fprintf(&b, "  %-3d  %s\n", code, exitMeaning(code))
	}
	return b.String()
}

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

const statusExitStatusHelp = `
Exit status:
  0    healthy
  1    unhealthy: the last backup failed or was skipped, a destination's
       newest backup is too old (or missing, or cannot be listed), or a
       restore is unfinished
  2    bad usage or bad configuration
  130  interrupted
`

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
	var partial *usecase.PartialError
	switch {
	case errors.Is(err, context.Canceled):
		return exitInterrupted
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
	case errors.As(err, &partial):
		return exitPartial
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
