package main

import (
	"fmt"

	"github.com/appwrite-dr/dr/drill"
)

// printScanSection lists what the drill's malware scan found, one file a
// line, below the checks (whose scan row holds the summary).
func printScanSection(a *app, rep *drill.Report) {
	s := rep.Scan
	if s == nil || (len(s.Infected) == 0 && len(s.Unscanned) == 0) {
		return
	}
	if len(s.Infected) > 0 {
		fmt.Fprintf(a.out, "infected files (dr runbook run hacked leaves them out):\n")
		for _, f := range s.Infected {
			fmt.Fprintf(a.out, "  %s  %s\n", f.File, f.Signature)
		}
	}
	if len(s.Unscanned) > 0 {
		fmt.Fprintf(a.out, "files clamd could not scan:\n")
		for _, f := range s.Unscanned {
			fmt.Fprintf(a.out, "  %s  %s\n", f.File, f.Reason)
		}
	}
}
