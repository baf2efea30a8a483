package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/usecase"
)

type backupOptions struct {
	dryRun       bool
	destinations []string
	pin          bool
	note         string
	full         bool
	json         bool
}

func newBackupCommand(a *app) *cobra.Command {
	var opts backupOptions
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back up the stack now: database, stack files, to every destination",
		Long: `Dump the database through the Docker API, bundle it with the stack's
files into one zstd archive (age-encrypted when recipients are configured),
stream it to every destination at once, verify each upload against the
remote, and commit it there by writing its sidecar manifest. A backup that
fails anywhere leaves nothing behind on that destination. A destination
that is down, refuses, or stops answering for its timeout fails alone: the
backup commits on the others (and retention runs there), and the exit
status is 1, naming the failed one.

--pin keeps the backup out of retention once it is committed (as dr pin
does), with --note saying why: take one before an upgrade, and the
upgrade-failed runbook restores it. dr list shows the note; it is stored
unencrypted beside the backup, so it must say nothing secret.

Volumes are backed up incrementally: a file whose size, times and inode
are those the last backup recorded (in state_dir) is not read again, and
a content a destination already holds is not stored there again. Every
backup still restores on its own. --full reads every file and stores
every content again, under new names (volumes.full_every does it on a
schedule).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackup(cmd, a, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, "check everything and print the plan; dump and write nothing")
	cmd.Flags().StringArrayVarP(&opts.destinations, "destination", "d", nil, "back up only to this destination (repeatable)")
	cmd.Flags().BoolVar(&opts.pin, "pin", false, "pin the backup once committed: retention keeps it (dr unpin releases it)")
	cmd.Flags().StringVar(&opts.note, "note", "", "with --pin: why it is kept, shown by dr list (one line, e.g. \"before 1.8.1\")")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the summary (or, with --dry-run, the plan) as JSON")
	cmd.Flags().BoolVar(&opts.full, "full", false, "read and store every volume file again, not only what changed since the last backup")
	return cmd
}

func runBackup(cmd *cobra.Command, a *app, opts backupOptions) error {
	ctx := cmd.Context()
	if err := checkPinFlags(opts.pin, opts.note); err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	// backup.Run warns about an unencrypted backup itself, once per run.
	if w := cfg.FileModeWarning(a.cfgPath); w != "" {
		a.logger.Warn(w)
	}
	eng, err := openEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer eng.Close()

	if opts.dryRun {
		plan, err := usecase.BackupPlan(ctx, a.env(), eng, cfg, opts.destinations)
		if plan != nil {
			if opts.json {
				return errors.Join(err, printJSON(a, "the backup plan", planJSON(plan)))
			}
			printPlan(a, plan)
		}
		return err
	}

	progress := newProgressPrinter(a.err, isTerminal(a.err) && !opts.json)
	res, err := usecase.Backup(ctx, a.env(), eng, cfg, usecase.BackupRequest{
		Destinations: opts.destinations,
		Full:         opts.full,
		Pin:          opts.pin,
		Note:         opts.note,
		Progress:     progress.update,
	})
	progress.done()
	if res == nil {
		return err
	}
	if opts.json {
		return errors.Join(err, printJSON(a, "the backup's summary", backupDoc(res)))
	}
	printBackupSummary(a, res.Result)
	if opts.pin {
		printPins(a, res.Name, opts.note, res.Pins)
	}
	return err
}

func printPlan(a *app, p *backup.Plan) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "backup plan (dry run, nothing dumped or written)\n")
	fmt.Fprintf(w, "  archive\t%s\n", p.Name)
	fmt.Fprintf(w, "  project\t%s\n", p.Project)
	fmt.Fprintf(w, "  database\t%s in %s (%s), server %s\n", p.Kind, p.Container, p.Image, p.Server)
	fmt.Fprintf(w, "  dump\t%s %s\n", p.Client, strings.Join(p.DumpOptions, " "))
	fmt.Fprintf(w, "  client\t%s\n", p.ClientVersion)
	fmt.Fprintf(w, "  databases\t%s\n", strings.Join(p.Databases, ", "))
	fmt.Fprintf(w, "  files\t%s\n", strings.Join(p.Files, ", "))
	fmt.Fprintf(w, "  volumes\t%s\n", orNone(p.Volumes))
	if len(p.Absent) > 0 {
		fmt.Fprintf(w, "  skipped\t%s: default volumes this stack does not have\n", strings.Join(p.Absent, ", "))
	}
	if len(p.Quiesce) > 0 {
		fmt.Fprintf(w, "  stopped\t%s, while the volumes are captured\n", strings.Join(p.Quiesce, ", "))
	}
	fmt.Fprintf(w, "  encrypted\t%v\n", p.Encrypted)
	fmt.Fprintf(w, "  destinations\t%s\n", strings.Join(p.Destinations, ", "))
	for _, d := range p.Spooled {
		fmt.Fprintf(w, "  note\t%s cannot take a streamed upload: rclone spools the archive to a temporary file in $TMPDIR first\n", d)
	}
	for _, warning := range p.Warnings {
		fmt.Fprintf(w, "  warning\t%s\n", warning)
	}
	w.Flush()
}

func printBackupSummary(a *app, r *backup.Result) {
	var tables int
	var rows int64
	if r.Manifest != nil {
		tables, rows = r.Manifest.Database.Counts()
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "backup %s\n", r.Name)
	fmt.Fprintf(w, "  size\t%s raw, %s archived\n", humanize.Bytes(r.RawBytes), humanize.Bytes(r.ArchiveBytes))
	fmt.Fprintf(w, "  database\t%d tables, %d rows\n", tables, rows)
	if r.Manifest != nil {
		for _, v := range r.Manifest.Volumes {
			fmt.Fprintf(w, "  volume\t%s: %d files, %s; read %d changed or new (%s)\n", v.Name, v.Files, humanize.Bytes(v.Bytes), v.ReadFiles, humanize.Bytes(v.ReadBytes))
		}
	}
	fmt.Fprintf(w, "  duration\t%s\n", r.Duration.Round(100*time.Millisecond))
	for _, d := range r.Destinations {
		status := "committed"
		if d.Err != nil {
			status = "FAILED: " + d.Err.Error()
		}
		fmt.Fprintf(w, "  %s\t%s (%s)\n", d.Name, status, d.Remote)
	}
	for _, p := range r.Prune {
		fmt.Fprintf(w, "  pruned\t%s: kept %d, removed %d", p.Destination, len(p.Decisions)-p.Removed(), p.Removed())
		for _, b := range p.Blobs {
			if b.Deleted > 0 {
				fmt.Fprintf(w, "; %d blobs no kept backup needs (%s)", b.Deleted, humanize.Bytes(b.DeleteBytes))
			}
		}
		fmt.Fprintln(w)
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "  warning\t%s\n", warning)
	}
	w.Flush()
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
