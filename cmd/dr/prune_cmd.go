package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/storage"
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
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			dests, unreachable, err := a.openReachable(ctx, cfg, opts.destinations)
			if err != nil {
				return err
			}
			if !opts.dryRun {
				held, err := lock.Acquire(cfg.StateDir, "prune")
				if err != nil {
					return err
				}
				defer held.Release()
			}
			reports, err := backup.Prune(ctx, cfg, dests, backup.PruneOptions{DryRun: opts.dryRun, Logger: a.logger})
			if opts.json {
				if jerr := printPruneJSON(a, reports); jerr != nil {
					return jerr
				}
			} else {
				printPrune(a, reports)
			}
			return a.reportUnreachable(unreachable, err)
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
		d := dest{Destination: r.Destination, DryRun: r.DryRun, Items: []item{}, Deleted: r.Deleted, Blobs: r.Blobs}
		if d.Deleted == nil {
			d.Deleted = []string{}
		}
		for _, dec := range r.Decisions {
			d.Items = append(d.Items, item{Name: dec.Name, Time: dec.Time, Keep: dec.Keep, Reasons: dec.Reasons, Kind: "backup"})
		}
		for _, l := range r.Leftovers {
			d.Items = append(d.Items, item{Name: l.Name, Time: l.ModTime, Keep: !l.Delete, Reasons: []string{l.Reason}, Kind: l.Kind})
		}
		out = append(out, d)
	}
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("printing the prune plan: %w", err)
	}
	return nil
}

func newPinCommand(a *app, pin bool) *cobra.Command {
	var destinations []string
	var note string
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
			ctx := cmd.Context()
			if err := checkPinFlags(true, note); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			dests, unreachable, err := a.openReachable(ctx, cfg, destinations)
			if err != nil {
				return err
			}
			entry, listErr, err := storage.ChooseFrom(ctx, dests, storage.Query{Stack: cfg.Stack.Project, Name: args[0]})
			if err != nil {
				return a.warnUnreachable(unreachable, err)
			}
			for _, d := range dests {
				if !contains(entry.Destinations, d.Name()) {
					continue
				}
				if pin {
					existing, err := d.PinWithNote(ctx, entry.Name, time.Now(), note)
					if err != nil {
						return err
					}
					printPinned(a, entry.Name, d.Name(), note, existing)
					continue
				}
				if err := d.Unpin(ctx, entry.Name); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "unpinned %s on %s\n", entry.Name, d.Name())
			}
			if listErr != nil {
				return a.warnUnreachable(unreachable, listErr)
			}
			return a.warnUnreachable(unreachable, nil)
		},
	}
	cmd.Flags().StringArrayVarP(&destinations, "destination", "d", nil, "only on this destination (repeatable)")
	if pin {
		cmd.Flags().StringVar(&note, "note", "", "why it is kept, shown by dr list (one line, e.g. \"before 1.8.1\")")
	}
	return cmd
}
