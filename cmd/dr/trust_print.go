package main

import (
	"fmt"
	"io"
	"time"

	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

// printAppwritePlan says which Appwrite the backup was taken from and,
// when they differ, which one the stack runs (the restore only got this
// far with --allow-version-change).
func printAppwritePlan(w io.Writer, p *restore.Plan) {
	aw := p.Manifest.Appwrite
	if aw == nil || aw.Version == "" {
		return
	}
	switch p.AppwriteRunning {
	case "", aw.Version:
		fmt.Fprintf(w, "  appwrite\t%s (%s)\n", aw.Version, aw.Image)
	default:
		fmt.Fprintf(w, "  appwrite\tthe backup is of %s, the stack runs %s: restoring anyway (--allow-version-change); migrate by hand afterwards\n", aw.Version, p.AppwriteRunning)
	}
}

// printSuspects names, below dr list's table, the backups whose upload
// time is far from the time in their name (see storage.Suspicious).
func printSuspects(a *app, entries []storage.CatalogEntry, tolerance time.Duration) {
	for _, e := range entries {
		for _, s := range storage.Suspicious(e, time.Time{}, tolerance) {
			fmt.Fprintf(a.out, "suspicious: %s\n", s)
		}
	}
}
