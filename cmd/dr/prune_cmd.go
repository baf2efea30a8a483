package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/storage"
	"github.com/appwrite-dr/dr/usecase"
)

type pruneOptions struct {
	destinations []string
	dryRun       bool
	json         bool
}

func newPruneCommand(a *app) *cobra.Command {
	var opts pruneOptions
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete the backups no retention rule keeps, and old leftovers",
		Long: `Apply each destination's retention policy (keep_last, keep_hourly,
keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_within; a backup is
kept when any rule keeps it; keep_within is in restic's calendar units, so
1m is a month; a bucket rule with room left also keeps the oldest backup)
and print, for every complete backup, keep or remove with the rules that
keep it; then delete what no rule keeps, sidecar first. The newest backup and pinned ones (dr pin) are never deleted; an
empty policy deletes nothing; a listing error deletes nothing. Uploads that
never committed are deleted once older than retention.incomplete_grace.
A destination with retention.mode append-only is refused: prune it from a
host whose credentials may delete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			res, err := usecase.Prune(cmd.Context(), a.env(), cfg, usecase.PruneRequest{Destinations: opts.destinations, DryRun: opts.dryRun})
			if res == nil {
				return err
			}
			if opts.json {
				if jerr := printPruneJSON(a, res.Reports); jerr != nil {
					return errors.Join(err, jerr)
				}
			} else {
				printPrune(a, res.Reports)
			}
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&opts.destinations, "destination", "d", nil, "prune only this destination (repeatable)")
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, "print the plan, delete nothing")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	return cmd
}

func printPrune(a *app, reports []*storage.PruneReport) {
	for _, r := range reports {
		verb := "pruned"
		if r.DryRun {
			verb = "would prune (dry run, nothing deleted)"
		}
		fmt.Fprintf(a.out, "%s %s: keep %d, remove %d\n", verb, r.Destination, len(r.Decisions)-r.Removed(), r.Removed())
		w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
		for _, d := range r.Decisions {
			action := "remove"
			if d.Keep {
				action = "keep"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", action, d.Name, d.Time.UTC().Format("2006-01-02 15:04"), strings.Join(d.Reasons, "; "))
		}
		for _, l := range r.Leftovers {
			action := "keep"
			if l.Delete {
				action = "remove"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", action, l.Name, l.ModTime.UTC().Format("2006-01-02 15:04"), l.Reason)
		}
		w.Flush()
		for _, b := range r.Blobs {
			if b.Kept+b.Young+b.Deleted == 0 {
				continue
			}
			verb := "removed"
			if r.DryRun {
				verb = "would remove"
			}
			fmt.Fprintf(a.out, "  blobs of %s: %s %d no kept backup needs (%s), keep %d kept backups need", b.Stack, verb, b.Deleted, humanize.Bytes(b.DeleteBytes), b.Kept)
			if b.Young > 0 {
				fmt.Fprintf(a.out, " and %d younger than the grace period (a backup may be uploading them)", b.Young)
			}
			fmt.Fprintln(a.out)
		}
	}
}

func printPruneJSON(a *app, reports []*storage.PruneReport) error {
	type item struct {
		Name    string    `json:"name"`
		Time    time.Time `json:"time"`
		Keep    bool      `json:"keep"`
		Reasons []string  `json:"reasons,omitempty"`
		Kind    string    `json:"kind"` // backup, or the leftover's kind
	}
	type dest struct {
		Destination string   `json:"destination"`
		DryRun      bool     `json:"dry_run"`
		Items       []item   `json:"items"`
		Deleted     []string `json:"deleted"`
		// Blobs: what was (or would be) done with each stack's blobs.
		Blobs []storage.BlobSweep `json:"blobs,omitempty"`
	}
	out := []dest{}
	for _, r := range reports {
		d := dest{Destination: r.Destination, DryRun: r.DryRun, Items: []item{}, Deleted: orEmpty(r.Deleted), Blobs: r.Blobs}
		for _, dec := range r.Decisions {
			d.Items = append(d.Items, item{Name: dec.Name, Time: dec.Time, Keep: dec.Keep, Reasons: dec.Reasons, Kind: "backup"})
		}
		for _, l := range r.Leftovers {
			d.Items = append(d.Items, item{Name: l.Name, Time: l.ModTime, Keep: !l.Delete, Reasons: []string{l.Reason}, Kind: l.Kind})
		}
		out = append(out, d)
	}
	return printJSON(a, "the prune plan", out)
}

func newPinCommand(a *app, pin bool) *cobra.Command {
	var destinations []string
	var note string
	var jsonOut bool
	use, short := "pin NAME", "Keep a backup from retention, on every destination that holds it"
	if !pin {
		use, short = "unpin NAME", "Let retention judge a pinned backup again"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `. A pin is an object of its own beside the archive
(NAME.pin), written once, so append-only buckets work; --note says why it
is kept (dr list shows it), and a pinned backup keeps its first note.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkPinFlags(true, note); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			res, err := usecase.Pin(cmd.Context(), a.env(), cfg, usecase.PinRequest{Name: args[0], Note: note, Destinations: destinations, Unpin: !pin})
			if res == nil {
				return err
			}
			if jsonOut {
				if jerr := printJSON(a, "the pins", pinResultDoc(res)); jerr != nil {
					return errors.Join(err, jerr)
				}
			} else if pin {
				printPins(a, res.Backup, note, res.Pins)
			} else {
				for _, p := range res.Pins {
					if p.Err == nil {
						fmt.Fprintf(a.out, "unpinned %s on %s\n", res.Backup, p.Destination)
					} else {
						fmt.Fprintf(a.out, "unpinning %s on %s FAILED: %v\n", res.Backup, p.Destination, p.Err)
					}
				}
			}
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&destinations, "destination", "d", nil, "only on this destination (repeatable)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print what was done on each destination as JSON")
	if pin {
		cmd.Flags().StringVar(&note, "note", "", "why it is kept, shown by dr list (one line, e.g. \"before 1.8.1\")")
	}
	return cmd
}
