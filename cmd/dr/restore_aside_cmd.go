package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

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
}

// runRestoreAside runs --undo, --list-aside or --drop-aside.
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
	ctx := cmd.Context()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	eng, err := engine.New(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()

	if o.list {
		l, err := restore.ListAside(ctx, eng, cfg)
		if err != nil {
			return err
		}
		printAside(a, l)
		return nil
	}
	if len(o.drop) > 0 {
		if err := a.confirm(opts.yes || opts.dryRun, "drop the aside schemas "+strings.Join(o.drop, ", ")+" and the tables they hold"); err != nil {
			return err
		}
		held, err := lock.Acquire(cfg.StateDir, "restore")
		if err != nil {
			return err
		}
		defer held.Release()
		dropped, err := restore.DropAside(ctx, eng, cfg, o.drop)
		for _, d := range dropped {
			fmt.Fprintf(a.out, "dropped %s\n", d)
		}
		return err
	}

	plan, err := restore.PrepareUndo(ctx, eng, cfg)
	if err != nil {
		return err
	}
	printUndoPlan(a, plan)
	if opts.dryRun {
		fmt.Fprintln(a.out, "dry run: nothing was changed")
		return nil
	}
	if err := a.confirm(opts.yes, "undo the restore of "+plan.Group.Backup+": drop the restored databases and swap the tables aside back"); err != nil {
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
		fmt.Fprintf(a.out, "dr restore --undo swaps the newest back; dr restore --drop-aside STAMP|SCHEMA|all drops them\n")
	}
	if len(l.Others) > 0 {
		fmt.Fprintf(a.out, "\n%d other %s on this server replaced databases stack.database.databases does not name: another configuration's way back, which --undo, restore.keep_aside and --drop-aside all leave alone (--drop-aside STAMP drops one):\n",
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
