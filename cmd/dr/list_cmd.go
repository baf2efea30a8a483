package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/usecase"
)

type listOptions struct {
	destinations []string
	json         bool
}

func newListCommand(a *app) *cobra.Command {
	var opts listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List complete backups on the destinations, newest first",
		Long: `List the complete backups (archive and verified sidecar present) on every
destination, newest first, of the configured stack (stack.project; all
stacks when it is empty). Uploads that never committed are not shown. A
destination that cannot be reached is named on stderr and the others are
listed; the command still succeeds.

A backup whose upload time on a destination (the server's own, where the
backend keeps one) is further than restore.upload_tolerance from the time
in its name is named below the table as suspicious: possibly planted by
whoever held the host. --json shows each destination's upload time
("uploaded") beside the time in the name ("time").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			entries, listErr := usecase.List(cmd.Context(), a.env(), cfg, opts.destinations)
			tolerance := time.Duration(cfg.Restore.UploadTolerance)
			if opts.json {
				if err := printListJSON(a, entries, tolerance); err != nil {
					return err
				}
			} else {
				printList(a, entries)
				printSuspects(a, entries, tolerance)
			}
			return listErr
		},
	}
	cmd.Flags().StringArrayVarP(&opts.destinations, "destination", "d", nil, "list only this destination (repeatable)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	return cmd
}

type listedBackup struct {
	Name         string    `json:"name"`
	Stack        string    `json:"stack"`
	Time         time.Time `json:"time"`
	Size         int64     `json:"size"`
	Tables       int       `json:"tables"`
	Rows         int64     `json:"rows"`
	Encrypted    bool      `json:"encrypted"`
	Destinations []string  `json:"destinations"`
	// LastDrill is the newest drill report's verdict, when there is one.
	LastDrill *listedDrill `json:"last_drill,omitempty"`
	// Pinned backups are kept from retention; Note says why (dr backup
	// --pin --note).
	Pinned bool   `json:"pinned"`
	Note   string `json:"note,omitempty"`
	// Uploaded is each destination's upload time of the backup (Time is
	// the time in its name); Suspicious says why copies are not trusted.
	Uploaded   map[string]time.Time `json:"uploaded,omitempty"`
	Suspicious []string             `json:"suspicious,omitempty"`
}

type listedDrill struct {
	Started time.Time `json:"started"`
	// Passed is true only for a passing report bound to this backup's
	// archive; Binding says how the report relates to it (bound, unbound
	// for a report of a dr from before the binding, invalid), and
	// ReportPassed is what the report itself says.
	Passed       bool     `json:"passed"`
	Binding      string   `json:"binding"`
	ReportPassed bool     `json:"report_passed"`
	RTOSeconds   float64  `json:"rto_seconds"`
	Failed       []string `json:"failed,omitempty"`
	Report       string   `json:"report"`
}

func listed(entries []storage.CatalogEntry) []listedBackup {
	out := make([]listedBackup, 0, len(entries))
	for _, e := range entries {
		b := listedBackup{Name: e.Name, Stack: e.Stack, Time: e.Time, Size: e.Size, Encrypted: e.Encrypted, Destinations: e.Destinations}
		b.Pinned, b.Note = e.Pinned, e.PinNote
		if d := e.LastDrill; d != nil {
			b.LastDrill = &listedDrill{Started: d.Started, Passed: d.ProvesPass(), Binding: d.Binding, ReportPassed: d.Passed, RTOSeconds: d.RTOSeconds, Failed: d.Failed, Report: d.Object}
		}
		if e.Manifest != nil {
			b.Tables, b.Rows = e.Manifest.Database.Counts()
		}
		out = append(out, b)
	}
	return out
}

func printListJSON(a *app, entries []storage.CatalogEntry, tolerance time.Duration) error {
	out := listed(entries)
	for i, e := range entries {
		out[i].Uploaded = e.Uploaded
		for _, s := range storage.Suspicious(e, time.Time{}, tolerance) {
			out[i].Suspicious = append(out[i].Suspicious, s.Destination+": "+s.Reason)
		}
	}
	return printJSON(a, "the list", out)
}

func printList(a *app, entries []storage.CatalogEntry) {
	if len(entries) == 0 {
		fmt.Fprintln(a.out, "no complete backups")
		return
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTIME (UTC)\tSIZE\tTABLES\tROWS\tENCRYPTED\tDESTINATIONS\tLAST DRILL\tPINNED")
	for _, b := range listed(entries) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%v\t%s\t%s\t%s\n", b.Name, b.Time.UTC().Format("2006-01-02 15:04:05"), humanize.Bytes(b.Size), b.Tables, b.Rows, b.Encrypted, strings.Join(b.Destinations, ","), lastDrill(b.LastDrill), pinned(b))
	}
	w.Flush()
}

// lastDrill is the LAST DRILL column: the verdict and the restore time,
// and why a report is not taken at its word.
func lastDrill(d *listedDrill) string {
	switch {
	case d == nil:
		return "-"
	case d.Binding == storage.DrillInvalid:
		return "FAILED (" + strings.Join(d.Failed, ", ") + ")"
	case d.Binding == storage.DrillUnbound && d.ReportPassed:
		return "passed (unbound report), RTO " + seconds(d.RTOSeconds)
	case d.Binding == storage.DrillUnbound:
		return "FAILED (unbound report)"
	case d.Passed:
		return "passed, RTO " + seconds(d.RTOSeconds)
	default:
		return "FAILED"
	}
}

// pinned is the PINNED column: the note, when the pin has one.
func pinned(b listedBackup) string {
	switch {
	case !b.Pinned:
		return "-"
	case b.Note == "":
		return "yes"
	default:
		return "yes: " + b.Note
	}
}
