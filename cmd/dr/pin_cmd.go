package main

import (
	"fmt"

	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/usecase"
)

// checkPinFlags refuses a --note that would be lost, or that dr list
// could not show, before anything is backed up or written.
func checkPinFlags(pin bool, note string) error {
	if note != "" && !pin {
		return usagef("--note goes with --pin: a note is kept in the pin (dr backup --pin --note %q)", note)
	}
	if err := storage.CheckNote(note); err != nil {
		return usagef("--note: %v", err)
	}
	return nil
}

// printPins says where a fresh backup was pinned, and where a pin that
// stood already kept its own note (pins are written once).
func printPins(a *app, name, note string, pins []usecase.PinOutcome) {
	for _, p := range pins {
		switch {
		case p.Err != nil:
			fmt.Fprintf(a.out, "pinning %s on %s FAILED: %v\n", name, p.Destination, p.Err)
		default:
			printPinned(a, name, p.Destination, note, p.Existing)
		}
	}
}

// printPinned is the line dr pin and dr backup --pin print for one
// destination.
func printPinned(a *app, name, dest, note string, existing *storage.PinInfo) {
	if existing == nil {
		fmt.Fprintf(a.out, "pinned %s on %s%s\n", name, dest, noteSuffix(note))
		return
	}
	fmt.Fprintf(a.out, "%s on %s was pinned already%s", name, dest, noteSuffix(existing.Note))
	if note != existing.Note {
		fmt.Fprint(a.out, "; pins are written once, so the note stays (dr unpin, then dr pin --note, changes it)")
	}
	fmt.Fprintln(a.out)
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return fmt.Sprintf(" (note: %s)", note)
}
