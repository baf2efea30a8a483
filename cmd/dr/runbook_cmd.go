package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore/runbook"
	"github.com/appwrite-dr/dr/usecase"
)

type runbookOptions struct {
	before       string
	volumes      []string
	identity     string
	destinations []string
	remote       string
	stackDir     string
	project      string
	yes          bool
	noSafetyDump bool
	// allowVersionChange restores a backup of another Appwrite version.
	allowVersionChange bool
	keepInfected       bool
	json               bool
}

func newRunbookCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "Show and run the tested runbook for each crisis",
		Long: `The crises dr exists for each have a runbook: server-lost, hacked,
db-corrupted, volumes-missing, upgrade-failed. dr runbook list names them, show prints one,
run carries it out step by step with a numbered log, stopping at the first
failed step with what to do next. Every step is safe to repeat: after
fixing the cause, run the runbook again.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the runbooks",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			for _, rb := range runbook.All() {
				fmt.Fprintf(w, "%s\t%s\n", rb.ID, rb.Title)
			}
			return w.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show ID",
		Short: "Print a runbook: the crisis, when to use it, its steps",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rb, err := runbook.Find(args[0])
			if err != nil {
				return usageError{err}
			}
			fmt.Fprint(a.out, runbook.Text(rb, ""))
			return nil
		},
	})
	cmd.AddCommand(newRunbookRunCommand(a))
	return cmd
}

func newRunbookRunCommand(a *app) *cobra.Command {
	var opts runbookOptions
	cmd := &cobra.Command{
		Use:   "run ID",
		Short: "Carry out a runbook, step by step",
		Long: `Carry out a runbook with a numbered log of each step. It stops at the
first step that fails and says what to do; run it again once fixed.

On a new host without a dr.yaml, --remote names the destination (any
rclone remote path; RCLONE_CONFIG_* variables or --config's rclone_config
define named remotes) and --stack-dir where the stack goes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbook(cmd, a, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.before, "before", "", "hacked: use the newest backup taken before this time (RFC 3339) or this long ago (36h, 2d)")
	f.StringArrayVar(&opts.volumes, "volume", nil, "volumes-missing: restore only this volume (repeatable)")
	f.StringVarP(&opts.identity, "identity", "i", "", "age identity or SSH private key file for encrypted backups (default: $DR_IDENTITY)")
	f.StringArrayVarP(&opts.destinations, "destination", "d", nil, "read from this configured destination only (repeatable)")
	f.StringVar(&opts.remote, "remote", "", "without a dr.yaml: the rclone remote path the backups are on")
	f.StringVar(&opts.stackDir, "stack-dir", "/root/appwrite", "with --remote: where the stack's compose files and .env go")
	f.StringVar(&opts.project, "project", "", "with --remote: the compose project (default: the backup's)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation (for scripts)")
	f.BoolVar(&opts.noSafetyDump, "no-safety-dump", false, "where the current tables cannot be moved aside, import the database without the safety dump (db-corrupted, when the damage is what prevents the dump); the import then cannot be undone")
	f.BoolVar(&opts.allowVersionChange, "allow-version-change", false, "restore a backup of another Appwrite version than the running stack's (migrate by hand afterwards)")
	f.BoolVar(&opts.json, "json", false, "print the outcome of each step as JSON on stdout (the step log goes to stderr)")
	f.BoolVar(&opts.keepInfected, "keep-infected", false, "hacked: restore the uploads the malware scan found infected instead of leaving them out")
	return cmd
}

func runRunbook(cmd *cobra.Command, a *app, id string, opts runbookOptions) error {
	ctx := cmd.Context()
	rb, err := runbook.Find(id)
	if err != nil {
		return usageError{err}
	}
	var before time.Time
	if opts.before != "" {
		if before, err = parseBefore(opts.before, time.Now()); err != nil {
			return err
		}
	} else if rb.ID == "hacked" {
		return usagef("the hacked runbook needs --before TIME: a moment before the breach began")
	}
	cfg, err := a.runbookConfig(opts)
	if err != nil {
		return err
	}
	dests, err := usecase.OpenDestinations(ctx, a.env(), cfg, opts.destinations, "restoring from the others")
	if err != nil {
		return err
	}
	eng, err := openEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	ids, err := a.identitiesIfSet(opts.identity)
	if err != nil {
		return err
	}
	if !opts.json {
		fmt.Fprint(a.out, runbook.Text(rb, ""))
		fmt.Fprintln(a.out)
	}
	if err := a.confirm(opts.yes, "run the "+rb.ID+" runbook"); err != nil {
		return err
	}

	// With --json the step log goes to stderr, the document to stdout.
	out := a.out
	if opts.json {
		out = a.err
	}
	env := &runbook.Env{
		Engine: eng, Config: cfg, Destinations: dests.Reachable, Identities: ids,
		Before: before, Volumes: opts.volumes, Compose: runbook.CLICompose{},
		Out: out, AllowVersionChange: opts.allowVersionChange,
		NoSafetyDump: opts.noSafetyDump, Command: runbookCommand(rb.ID, opts, a.cfgPath),
		Confirm:      func(what string) error { return a.confirm(opts.yes, what) },
		KeepInfected: opts.keepInfected,
	}
	err = usecase.RunRunbook(ctx, a.env(), cfg, rb, env)
	if opts.json {
		doc := runbookJSON{Runbook: rb.ID, Backup: env.Backup(), Done: err == nil, Steps: env.Steps, Checklist: rb.Checklist}
		if doc.Steps == nil {
			doc.Steps = []runbook.StepOutcome{}
		}
		if !doc.Done {
			doc.Checklist = nil
		}
		return errors.Join(err, printJSON(a, "the runbook's outcome", doc))
	}
	return err
}

// runbookJSON is dr runbook run --json's document.
type runbookJSON struct {
	Runbook string                `json:"runbook"`
	Backup  string                `json:"backup"`
	Done    bool                  `json:"done"`
	Steps   []runbook.StepOutcome `json:"steps"`
	// Checklist is what is left to do by hand, once every step is done.
	Checklist []string `json:"checklist,omitempty"`
}

// runbookCommand is the command line that runs the runbook again.
func runbookCommand(id string, opts runbookOptions, cfgPath string) string {
	args := []string{"dr", "runbook", "run", id}
	if opts.before != "" {
		args = append(args, "--before", opts.before)
	}
	for _, v := range opts.volumes {
		args = append(args, "--volume", v)
	}
	for _, d := range opts.destinations {
		args = append(args, "-d", d)
	}
	if opts.identity != "" {
		args = append(args, "-i", opts.identity)
	}
	if opts.remote != "" {
		// Not the remote itself: it may carry credentials, and this line
		// is printed and logged.
		args = append(args, "--remote", "<the same remote>", "--stack-dir", opts.stackDir)
		if opts.project != "" {
			args = append(args, "--project", opts.project)
		}
	} else if cfgPath != "" {
		args = append(args, "--config", cfgPath)
	}
	if opts.noSafetyDump {
		args = append(args, "--no-safety-dump")
	}
	if opts.allowVersionChange {
		args = append(args, "--allow-version-change")
	}
	if opts.keepInfected {
		args = append(args, "--keep-infected")
	}
	args = append(args, "--yes")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// runbookConfig is dr.yaml, or with --remote a config made of the flags,
// for a new host that has none yet.
func (a *app) runbookConfig(opts runbookOptions) (*config.Config, error) {
	if opts.remote == "" {
		return a.loadConfig()
	}
	if a.cfgPath != "" {
		return nil, usagef("give either --config or --remote, not both")
	}
	doc := fmt.Sprintf("stack: {dir: %q, project: %q}\ndestinations: [{name: remote, remote: %q}]\n", opts.stackDir, opts.project, opts.remote)
	cfg, err := config.Parse([]byte(doc), "--remote", a.getenv)
	if err != nil {
		return nil, usagef("%s", strings.ReplaceAll(err.Error(), "--remote:", "flags:"))
	}
	return cfg, nil
}
