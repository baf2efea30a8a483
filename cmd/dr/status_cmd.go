package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/usecase"
)

type statusOptions struct{ json bool }

func newStatusCommand(a *app) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the last backup and drill, the next runs and each destination's newest backup; exit 1 when unhealthy",
		Long: `Show the daemon's last backup and drill (with the drill's RTO and failed
checks) and, with schedule.verify set, its last verify (from state_dir's
job history), the next scheduled runs, each destination's newest complete
backup, and any unfinished restore. It exits 1 when the last backup failed or was skipped,
when a destination's newest complete backup is older than twice the
backup schedule's interval (or it has none, or cannot be listed), or when
a restore is unfinished: it works as a monitoring probe. The daemon's
/healthz answers 503 in the same cases.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{exitStatusAnnotation: statusExitStatusHelp},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), a, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	return cmd
}

// errUnhealthy is dr status's verdict; it exits 1.
var errUnhealthy = errors.New("unhealthy")

func runStatus(ctx context.Context, a *app, opts statusOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	var lister usecase.LabelLister
	if eng, err := engine.New(ctx); err == nil {
		defer eng.Close()
		lister = eng
	}
	st, err := usecase.Status(ctx, a.env(), cfg, lister)
	if err != nil {
		return err
	}
	if opts.json {
		if err := printJSON(a, "the status", st); err != nil {
			return err
		}
	} else {
		printStatus(a, st)
	}
	if !st.Healthy {
		return fmt.Errorf("%w: %d problem(s)", errUnhealthy, len(st.Problems))
	}
	return nil
}

func printStatus(a *app, st health.Status) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	verdict := "healthy"
	if !st.Healthy {
		verdict = "UNHEALTHY"
	}
	fmt.Fprintf(w, "status\t%s\n", verdict)
	fmt.Fprintf(w, "last backup\t%s\n", describeRun(st.LastBackup))
	if st.LastSuccessfulBackup != nil && st.LastSuccessfulBackup != st.LastBackup && st.LastBackup != nil && st.LastBackup.Outcome != health.OutcomeSuccess {
		fmt.Fprintf(w, "last success\t%s\n", describeRun(st.LastSuccessfulBackup))
	}
	fmt.Fprintf(w, "last drill\t%s\n", describeRun(st.LastDrill))
	if st.LastVerify != nil || slices.ContainsFunc(st.Next, func(n health.NextRun) bool { return n.Kind == health.KindVerify }) {
		fmt.Fprintf(w, "last verify\t%s\n", describeRun(st.LastVerify))
	}
	for _, n := range st.Next {
		fmt.Fprintf(w, "next %s\t%s (%s)\n", n.Kind, n.At.Format(time.RFC3339), n.Schedule)
	}
	for _, d := range st.Destinations {
		switch {
		case d.Error != "":
			fmt.Fprintf(w, "%s\tERROR: %s\n", d.Name, d.Error)
		case d.Newest == "":
			fmt.Fprintf(w, "%s\tno complete backup\n", d.Name)
		default:
			fmt.Fprintf(w, "%s\t%s, %s, taken %s (%s ago)\n", d.Name, d.Newest, humanize.Bytes(d.Size),
				d.Time.UTC().Format(time.RFC3339), st.Now.Sub(d.Time).Round(time.Minute))
		}
	}
	for _, p := range st.Problems {
		fmt.Fprintf(w, "problem\t%s\n", p)
	}
	w.Flush()
}

func describeRun(r *health.Run) string {
	if r == nil {
		return "none recorded"
	}
	s := fmt.Sprintf("%s %s (%s, %s)", r.Started.UTC().Format(time.RFC3339), r.Outcome, r.Trigger, r.Duration.Round(100*time.Millisecond))
	if r.Backup != "" {
		s += " " + r.Backup
		if r.Bytes > 0 {
			s += ", " + humanize.Bytes(r.Bytes)
		}
	}
	if d := r.Drill; d != nil {
		s += fmt.Sprintf(", RTO %s, backup %s old when drilled", drillRTO(d.RTOSeconds), time.Duration(d.BackupAgeSeconds*float64(time.Second)).Round(time.Minute))
		if len(d.Failed) > 0 {
			s += ", failed checks: " + strings.Join(d.Failed, ", ")
		} else if d.Passed {
			s += fmt.Sprintf(", %d checks passed", d.Checks)
		}
	}
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// drillRTO prints an RTO, or says none was measured (the drill stopped
// before its database was back).
func drillRTO(seconds float64) string {
	if seconds <= 0 {
		return "not measured"
	}
	return time.Duration(seconds * float64(time.Second)).Round(100 * time.Millisecond).String()
}
