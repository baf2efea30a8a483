package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/usecase"
)

type drillOptions struct {
	latest       bool
	before       string
	destinations []string
	identity     string
	json         bool
	cleanup      bool
}

func newDrillCommand(a *app) *cobra.Command {
	var opts drillOptions
	cmd := &cobra.Command{
		Use:   "drill [NAME | --latest | --before TIME]",
		Short: "Prove a backup restorable: restore it into a throwaway container and check it",
		Long: `Restore a backup's database into a throwaway container and check it, row for
row. Without NAME, --latest or --before, the newest complete backup is drilled.

The whole archive is verified first. The container runs the production
database container's image, with no network, a generated root (superuser)
password, an anonymous data directory of its own, the label dr.drill, and the
limits drill.cpus and drill.memory from dr.yaml. It must have twice the dump's
size free on the engine's disk. The dump is imported through dr restore's own
chunk-verified path (PostgreSQL: through psql, each chunk verified the same
way, after the backup's roles are created), then checked: archive, disk,
import, tables (every table with the manifest's row count), check-table
(CHECK TABLE; PostgreSQL: amcheck's bt_index_check on every btree index, or,
in an image without amcheck, every row of every table read, as the detail
says), views (PostgreSQL: each also selected from), objects (triggers,
routines, events; PostgreSQL: functions, procedures, triggers), volumes (every volume file's sha256, streamed from the archive), scan
(every file of scan.volumes streamed to clamd at scan.clamd: it fails on
an infected file, one clamd could not scan, or a clamd that does not
answer; without scan.clamd it is skipped as "not scanned"), env (the
archived .env parses and holds the Appwrite keys), env-key (its
_APP_OPENSSL_KEY_V1 equals the one in stack.dir/.env, compared by digest),
and one "query: NAME" check per drill.queries entry (PostgreSQL: run in the
backup's first database by name).

The container and its volume are removed on every path, Ctrl-C and SIGTERM
included; what a drill killed with SIGKILL left is removed by the next drill
or by dr drill cleanup. The report (each check, the restore time or RTO,
the backup's age, and CHECKSUM TABLE ... EXTENDED of every imported table,
on PostgreSQL a sum of a hash of each row, for dr diff --live --checksum) is written once beside the backup on each destination as
<backup>.drill-<time>.json; dr list shows the last drill of each backup and
retention keeps the newest backup whose drill passed.

A drill whose checks all pass exits 0; one with a failed check exits 1 and
names each failed check.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDrill(cmd, a, opts, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.latest, "latest", false, "drill the newest complete backup (the default)")
	f.StringVar(&opts.before, "before", "", "drill the newest backup taken before this time (RFC 3339) or this long ago (e.g. 36h, 2d)")
	f.StringArrayVarP(&opts.destinations, "destination", "d", nil, "read from (and report to) this destination only (repeatable)")
	f.StringVarP(&opts.identity, "identity", "i", "", "age identity or SSH private key file for encrypted backups (default: $DR_IDENTITY)")
	f.BoolVar(&opts.json, "json", false, "print the report as JSON")
	f.BoolVar(&opts.cleanup, "cleanup", false, "only remove the containers and volumes killed drills left, and exit")
	_ = f.MarkDeprecated("cleanup", "use dr drill cleanup")
	cmd.AddCommand(newDrillCleanupCommand(a))
	return cmd
}

func runDrill(cmd *cobra.Command, a *app, opts drillOptions, args []string) error {
	if opts.cleanup {
		if _, _, chosen, err := chooseBackup(args, opts.latest, opts.before, time.Now()); err != nil || chosen > 0 {
			return usagef("dr drill cleanup removes leftovers only; it drills no backup")
		}
		return runDrillCleanup(cmd, a)
	}
	ctx := cmd.Context()
	req, err := drillRequest(opts, args, time.Now())
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if req.Identities, err = a.identitiesIfSet(opts.identity); err != nil {
		return err
	}
	eng, err := openEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	if isTerminal(a.err) {
		req.Step = func(s string) { fmt.Fprintf(a.err, "==> %s\n", s) }
	}
	rep, err := usecase.Drill(ctx, a.env(), eng, cfg, usecase.DrillRequest{Request: req, Destinations: opts.destinations})
	if rep != nil {
		if opts.json {
			if jerr := printJSON(a, "the drill report", rep); jerr != nil {
				return errors.Join(err, jerr)
			}
		} else {
			printDrillReport(a, rep)
		}
	}
	return err
}

func newDrillCleanupCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "cleanup",
		Short: "Remove the containers and volumes killed drills left",
		Long: `Remove the throwaway containers and volumes that drills killed with SIGKILL
left behind (a drill removes its own on every other path, and the next
drill removes what an earlier one left). It reads no destination, so it
works while the remotes are down; it takes the state dir's lock, so a
drill that is running keeps its container.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDrillCleanup(cmd, a) },
	}
}

func runDrillCleanup(cmd *cobra.Command, a *app) error {
	ctx := cmd.Context()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	eng, err := openEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	c, v, err := usecase.DrillCleanup(ctx, a.env(), eng, cfg)
	fmt.Fprintf(a.out, "removed %d drill container(s) and %d drill volume(s)\n", len(c), len(v))
	return err
}

func drillRequest(opts drillOptions, args []string, now time.Time) (drill.Request, error) {
	var req drill.Request
	var chosen int
	var err error
	req.Name, req.Before, chosen, err = chooseBackup(args, opts.latest, opts.before, now)
	if err != nil {
		return req, err
	}
	if chosen > 1 {
		return req, usagef("pick the backup with one of NAME, --latest or --before TIME (dr list shows the names)")
	}
	return req, nil
}

func printDrillReport(a *app, rep *drill.Report) {
	fmt.Fprintf(a.out, "drill of %s (from %s, image %s, server %s)\n", rep.Backup, rep.Source, rep.Image, rep.ServerVersion)
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tRESULT\tDETAIL")
	for _, c := range rep.Checks {
		result := "passed"
		switch {
		case c.Skipped:
			result = "skipped"
		case !c.Passed:
			result = "FAILED"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, result, c.Detail)
	}
	w.Flush()
	for _, l := range rep.Lacks {
		fmt.Fprintf(a.out, "missing from the backup, so from a restore of it: %s\n", l)
	}
	printScanSection(a, rep)
	fmt.Fprintf(a.out, "restore time (RTO): %s; whole drill: %s; backup age: %s\n",
		seconds(rep.RTOSeconds), seconds(rep.DurationSeconds), seconds(rep.BackupAgeSeconds))
	for _, dest := range slices.Sorted(maps.Keys(rep.Objects)) {
		fmt.Fprintf(a.out, "report: %s on %s\n", rep.Objects[dest], dest)
	}
	if rep.Passed {
		fmt.Fprintln(a.out, "drill passed")
	} else {
		fmt.Fprintf(a.out, "drill FAILED: %s\n", strings.Join(rep.Failed, ", "))
	}
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}
