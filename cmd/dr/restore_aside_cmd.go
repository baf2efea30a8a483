package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore"
)

// asideOptions are restore's flags that work on the tables a restore moved
// aside instead of restoring a backup.
type asideOptions struct {
	undo bool
	list bool
	drop []string
}

func (o asideOptions) any() bool { return o.undo || o.list || len(o.drop) > 0 }

func addAsideFlags(cmd *cobra.Command, o *asideOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.undo, "undo", false, "undo the last restore's database part: swap the tables it moved aside back in place of the restored ones")
	f.BoolVar(&o.list, "list-aside", false, "list the schemas restores moved the replaced tables into")
	f.StringArrayVar(&o.drop, "drop-aside", nil, "drop aside schemas: a schema name, a restore's stamp (all its schemas), or all (this configuration's restores; repeatable)")
	_ = f.MarkDeprecated("list-aside", "use dr aside list")
	_ = f.MarkDeprecated("drop-aside", "use dr aside drop")
}

// runRestoreAside runs restore's --undo, --list-aside or --drop-aside,
// which dr aside undo|list|drop also run.
func runRestoreAside(cmd *cobra.Command, a *app, opts restoreOptions, args []string) error {
	o := opts.aside
	n := 0
	for _, set := range []bool{o.undo, o.list, len(o.drop) > 0} {
		if set {
			n++
		}
	}
	if n > 1 || len(args) > 0 || opts.latest || opts.before != "" || len(opts.only) > 0 {
		return usagef("--undo, --list-aside and --drop-aside each stand alone: no backup NAME, --latest, --before or --only with them")
	}
	switch {
	case o.list:
		return asideList(cmd, a, opts.json)
	case len(o.drop) > 0:
		return asideDrop(cmd, a, o.drop, opts.yes, opts.dryRun)
	default:
		return asideUndo(cmd, a, opts.yes, opts.dryRun)
	}
}

// newAsideCommand is dr aside: the tables restores moved aside, the way
// back from a restore.
func newAsideCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aside",
		Short: "List, drop or swap back the tables restores moved aside",
		Long: `A restore moves the current database's tables aside into schemas of their
own (dr_aside_<db>_<time>) before it imports, so that it can be undone:
dr aside list shows them, dr aside undo swaps the last restore's back in
place of the restored ones, dr aside drop frees their space.`,
		Args: cobra.NoArgs,
	}
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the schemas restores moved the replaced tables into",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return asideList(cmd, a, listJSON) },
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var dropYes bool
	drop := &cobra.Command{
		Use:   "drop (SCHEMA | STAMP | all)...",
		Short: "Drop aside schemas: a schema, a restore's stamp (all its schemas), or all of this configuration's",
		Args:  cobra.MinimumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return asideDrop(cmd, a, args, dropYes, false) },
	}
	drop.Flags().BoolVarP(&dropYes, "yes", "y", false, "do not ask for confirmation (for scripts)")

	var undoYes, undoDry bool
	undo := &cobra.Command{
		Use:   "undo",
		Short: "Undo the last restore's database part: swap the tables it moved aside back (also dr restore --undo)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return asideUndo(cmd, a, undoYes, undoDry) },
	}
	undo.Flags().BoolVarP(&undoYes, "yes", "y", false, "do not ask for confirmation (for scripts)")
	undo.Flags().BoolVar(&undoDry, "dry-run", false, "print the plan and stop")
	cmd.AddCommand(list, drop, undo)
	return cmd
}

func asideList(cmd *cobra.Command, a *app, asJSON bool) error {
	ctx := cmd.Context()
	return a.onServer(ctx, func(cfg *config.Config, eng *engine.Client) error {
		l, err := restore.ListAside(ctx, eng, cfg)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(a, "the aside schemas", asideDoc(l))
		}
		printAside(a, l)
		return nil
	})
}

func asideDrop(cmd *cobra.Command, a *app, names []string, yes, dryRun bool) error {
	if dryRun {
		// The deprecated dr restore --drop-aside takes --dry-run: it says
		// what it would drop and drops nothing.
		fmt.Fprintf(a.out, "would drop the aside schemas %s and the tables they hold (dry run: nothing dropped)\n", strings.Join(names, ", "))
		return nil
	}
	if err := a.confirm(yes, "drop the aside schemas "+strings.Join(names, ", ")+" and the tables they hold"); err != nil {
		return err
	}
	ctx := cmd.Context()
	return a.onServer(ctx, func(cfg *config.Config, eng *engine.Client) error {
		held, err := lock.Acquire(cfg.StateDir, "restore")
		if err != nil {
			return err
		}
		defer held.Release()
		dropped, err := restore.DropAside(ctx, eng, cfg, names)
		for _, d := range dropped {
			fmt.Fprintf(a.out, "dropped %s\n", d)
		}
		return err
	})
}

func asideUndo(cmd *cobra.Command, a *app, yes, dryRun bool) error {
	ctx := cmd.Context()
	return a.onServer(ctx, func(cfg *config.Config, eng *engine.Client) error {
		plan, err := restore.PrepareUndo(ctx, eng, cfg)
		if err != nil {
			return err
		}
		printUndoPlan(a, plan)
		if dryRun {
			fmt.Fprintln(a.out, "dry run: nothing was changed")
			return nil
		}
		if err := a.confirm(yes, "undo the restore of "+plan.Group.Backup+": drop the restored databases and swap the tables aside back"); err != nil {
			return err
		}
		held, err := lock.Acquire(cfg.StateDir, "restore")
		if err != nil {
			return err
		}
		defer held.Release()
		res, err := restore.ExecuteUndo(ctx, eng, plan, a.logger, func(s string) { fmt.Fprintf(a.err, "==> %s\n", s) })
		if err == nil {
			fmt.Fprintf(a.out, "undone: %s are as they were before the restore of %s (%s)\n", strings.Join(origins(plan.Group), ", "), plan.Group.Backup, res.Duration.Round(100*time.Millisecond))
		}
		return err
	})
}

// onServer runs a command that works on the stack's database server and
// reads no destination (dr aside): the config, then the engine.
func (a *app) onServer(ctx context.Context, run func(*config.Config, *engine.Client) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	eng, err := engine.New(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	return run(cfg, eng)
}

type asideSchemaJSON struct {
	Stamp    string `json:"stamp"`
	Backup   string `json:"backup"`
	Schema   string `json:"schema"`
	Origin   string `json:"origin"`
	Existed  bool   `json:"existed"`
	Complete bool   `json:"complete"`
	Tables   int    `json:"tables"`
	Bytes    int64  `json:"bytes"`
	// Mine is false for another configuration's restore on this server,
	// which undo and drop all leave alone.
	Mine bool `json:"mine"`
}

func asideDoc(l *restore.AsideList) []asideSchemaJSON {
	out := []asideSchemaJSON{}
	add := func(groups []*restore.AsideGroup, mine bool) {
		for _, g := range groups {
			for _, s := range g.Schemas {
				out = append(out, asideSchemaJSON{Stamp: g.Stamp, Backup: g.Backup, Schema: s.Schema, Origin: s.Origin, Existed: s.Existed, Complete: s.Complete, Tables: s.Held, Bytes: s.Bytes, Mine: mine})
			}
		}
	}
	add(l.Mine, true)
	add(l.Others, false)
	return out
}

func origins(g *restore.AsideGroup) []string {
	var out []string
	for _, s := range g.Schemas {
		if s.Origin != "" {
			out = append(out, s.Origin)
		}
	}
	return out
}

func printUndoPlan(a *app, p *restore.UndoPlan) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "undo plan\n")
	fmt.Fprintf(w, "  restore\tof %s, at %s\n", nonEmpty(p.Group.Backup), p.Group.Stamp)
	for _, s := range p.Group.Schemas {
		switch {
		case !s.Complete:
			fmt.Fprintf(w, "  schema\t%s: left incomplete by a killed restore, holds no table; dropped\n", s.Schema)
		case !s.Existed:
			fmt.Fprintf(w, "  database\t%s: did not exist before the restore; dropped\n", s.Origin)
		default:
			fmt.Fprintf(w, "  database\t%s: the restored one dropped; %d %s (%s) back from %s, with its views, triggers, routines and events\n", s.Origin, s.Held, plural(s.Held, "table", "tables"), humanize.Bytes(s.Bytes), s.Schema)
		}
	}
	fmt.Fprintf(w, "  stopped\t%s (started again afterwards)\n", orNone(p.Stop))
	if j := p.Interrupted; j != nil {
		fmt.Fprintf(w, "  interrupted\t%s\n", j.Describe())
	}
	w.Flush()
}

// printAside lists this configuration's restores' aside schemas, then,
// apart, another configuration's on the same server, which --undo and
// --drop-aside all leave alone.
func printAside(a *app, l *restore.AsideList) {
	if len(l.Mine) == 0 && len(l.Others) == 0 {
		fmt.Fprintln(a.out, "no aside schemas")
		return
	}
	if len(l.Mine) == 0 {
		fmt.Fprintln(a.out, "no aside schemas of this configuration's databases")
	} else {
		printAsideGroups(a, l.Mine)
		fmt.Fprintf(a.out, "dr aside undo swaps the newest back; dr aside drop STAMP|SCHEMA|all drops them\n")
	}
	if len(l.Others) > 0 {
		fmt.Fprintf(a.out, "\n%d other %s on this server replaced databases stack.database.databases does not name: another configuration's way back, which dr aside undo, restore.keep_aside and dr aside drop all leave alone (dr aside drop STAMP drops one):\n",
			len(l.Others), plural(len(l.Others), "restore", "restores"))
		printAsideGroups(a, l.Others)
	}
}

func printAsideGroups(a *app, groups []*restore.AsideGroup) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RESTORE AT\tBACKUP\tSCHEMA\tFROM\tTABLES\tSIZE")
	for _, g := range groups {
		for _, s := range g.Schemas {
			from := s.Origin
			switch {
			case !s.Complete:
				from = "(incomplete)"
			case !s.Existed:
				from += " (new)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", g.Stamp, nonEmpty(g.Backup), s.Schema, from, s.Held, humanize.Bytes(s.Bytes))
		}
	}
	w.Flush()
}

func nonEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
