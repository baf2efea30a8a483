package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/usecase"
)

type restoreOptions struct {
	latest       bool
	before       string
	destinations []string
	only         []string
	volumes      []string
	merge        bool
	identity     string
	targetDir    string
	yes          bool
	dryRun       bool
	noSafetyDump bool
	// allowVersionChange restores a backup of another Appwrite version.
	allowVersionChange bool
	aside              asideOptions
	json               bool
}

func newRestoreCommand(a *app) *cobra.Command {
	var opts restoreOptions
	cmd := &cobra.Command{
		Use:   "restore (NAME | --latest | --before TIME) | --undo",
		Short: "Restore the database, stack files and volumes from a backup",
		Long: `Restore a complete backup: the newest (--latest), the newest taken before
a time (--before 2026-11-24T08:00:00Z or --before 36h), or one by NAME.

The sidecar manifest is fetched first and a plan printed: what is replaced,
from which backup, which services are stopped and started. Without --yes,
dr asks on a terminal and refuses elsewhere; --dry-run stops after the plan.
Then the whole backup is verified before anything is touched, the restore
journal is written to state_dir, the services that write to the database
(and those that mount the restored volumes) are stopped, the current
database's tables are moved aside into schemas of their own
(dr_aside_<db>_<time>; dr restore --undo swaps them back), and the archive
is streamed once: stack files written to --target-dir (replaced ones kept
as *.dr-replaced-<time>, .env with mode 0600), each dump chunk checked
against its sha256 before it reaches the database, volumes refilled (or,
with --merge, only missing files added). Every table's row count is
compared with the backup's, and the services are started again, also when
something failed or the restore was interrupted.

The restore journal (state_dir/restore-journal.json) records which backup,
which services were stopped and how far the restore got. When dr itself is
killed, the next dr restore reads it, says so, and also starts the services
the interrupted one left stopped; until a restore finishes, dr backup
refuses to back up the half-restored stack. Safety dumps beyond
restore.keep_safety_dumps (default 3) are deleted after a restore succeeds.

A backup of another Appwrite version than the stack's appwrite service
runs is refused (Appwrite restores only into the version that wrote the
data) unless --allow-version-change. With --before, a backup the
destination says was uploaded after that time, or further than
restore.upload_tolerance (default 6h) from the time in its name, is
passed over as possibly planted and named in the plan.

Where the tables cannot be moved aside (too little free space in the
database's datadir for a second copy, a definition dr cannot read, a
rename the server refuses) or restore.safety_net is dump, the current
database is saved to state_dir/safety first instead, and the output says
why (when that fails the restore is refused and nothing is changed, unless
--no-safety-dump). Aside schemas of restores beyond restore.keep_aside
(default 1) are dropped after a restore succeeds.

  dr restore --undo            swap the last restore's aside tables back
  dr aside list                list the aside schemas
  dr aside drop X              drop a schema, a restore's stamp, or all`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.aside.any() {
				return runRestoreAside(cmd, a, opts, args)
			}
			return runRestore(cmd, a, opts, args)
		},
	}
	addAsideFlags(cmd, &opts.aside)
	f := cmd.Flags()
	f.BoolVar(&opts.latest, "latest", false, "restore the newest complete backup")
	f.StringVar(&opts.before, "before", "", "restore the newest backup taken before this time (RFC 3339) or this long ago (e.g. 36h, 2d)")
	f.StringArrayVarP(&opts.destinations, "destination", "d", nil, "read from this destination only (repeatable)")
	f.StringSliceVar(&opts.only, "only", nil, "restore only these parts: db, files, volumes (default: all the backup holds)")
	f.StringArrayVar(&opts.volumes, "volume", nil, "restore only this volume (repeatable; default: every volume in the backup)")
	f.BoolVar(&opts.merge, "merge", false, "volumes: only add files that are missing, replace nothing")
	f.StringVarP(&opts.identity, "identity", "i", "", "age identity or SSH private key file for encrypted backups (default: $DR_IDENTITY)")
	f.StringVar(&opts.targetDir, "target-dir", "", "write the stack files here (default: stack.dir)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation (for scripts)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the plan and stop")
	f.BoolVar(&opts.json, "json", false, "print the plan and what was done (or, with --dry-run, the plan) as JSON; needs --yes or --dry-run")
	f.BoolVar(&opts.noSafetyDump, "no-safety-dump", false, "where the tables cannot be moved aside, import without the safety dump (when the database is too damaged to be dumped); the import then cannot be undone")
	f.BoolVar(&opts.allowVersionChange, "allow-version-change", false, "restore a backup of another Appwrite version than the running stack's (migrate by hand afterwards)")
	return cmd
}

func runRestore(cmd *cobra.Command, a *app, opts restoreOptions, args []string) error {
	ctx := cmd.Context()
	req, err := restoreRequest(opts, args, time.Now())
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	eng, err := openEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	req.Identities, err = a.identitiesIfSet(opts.identity)
	if err != nil {
		return err
	}
	req.NoSafetyDump = opts.noSafetyDump

	plan, err := usecase.PrepareRestore(ctx, a.env(), eng, cfg, opts.destinations, req)
	if err != nil {
		return err
	}
	req.Command = restoreCommand(plan, opts, a.cfgPath)
	if opts.dryRun {
		if opts.json {
			return printJSON(a, "the restore plan", restoreDoc(plan, nil, true))
		}
		printRestorePlan(a, plan)
		fmt.Fprintln(a.out, "dry run: nothing was changed")
		return nil
	}
	if !opts.json {
		printRestorePlan(a, plan)
	}
	if err := a.confirm(opts.yes, "restore "+plan.Backup.Name+" over the current state"); err != nil {
		return err
	}

	req.Step = func(s string) { fmt.Fprintf(a.err, "==> %s\n", s) }
	res, err := usecase.RunRestore(ctx, a.env(), eng, cfg, plan, req)
	if opts.json {
		return errors.Join(err, printJSON(a, "the restore", restoreDoc(plan, res, false)))
	}
	printRestoreResult(a, res)
	return err
}

// restoreRequest turns the flags into a request; exactly one of NAME,
// --latest and --before picks the backup.
func restoreRequest(opts restoreOptions, args []string, now time.Time) (restore.Request, error) {
	var req restore.Request
	var chosen int
	var err error
	req.Name, req.Before, chosen, err = chooseBackup(args, opts.latest, opts.before, now)
	if err != nil {
		return req, err
	}
	if chosen != 1 {
		return req, usagef("pick the backup with exactly one of NAME, --latest or --before TIME (dr list shows the names)")
	}
	for _, p := range opts.only {
		p = strings.TrimSpace(p)
		switch p {
		case restore.PartDB, restore.PartFiles, restore.PartVolumes:
			req.Parts = append(req.Parts, p)
		default:
			return req, usagef("--only %q: want db, files or volumes", p)
		}
	}
	if (len(opts.volumes) > 0 || opts.merge) && len(req.Parts) > 0 && !contains(req.Parts, restore.PartVolumes) {
		return req, usagef("--volume and --merge apply to volumes; add volumes to --only")
	}
	req.Volumes = opts.volumes
	req.Merge = opts.merge
	req.AllowVersionChange = opts.allowVersionChange
	req.TargetDir = opts.targetDir
	return req, nil
}

// restoreCommand is the command line that runs this restore again, exactly:
// the backup by name, its parts, and the flags that change what it does.
// The restore journal records it for whoever must finish the job.
func restoreCommand(p *restore.Plan, opts restoreOptions, cfgPath string) string {
	args := []string{"dr", "restore", p.Backup.Name, "--only", strings.Join(p.Parts, ",")}
	for _, v := range opts.volumes {
		args = append(args, "--volume", v)
	}
	if opts.merge {
		args = append(args, "--merge")
	}
	if opts.targetDir != "" {
		args = append(args, "--target-dir", opts.targetDir)
	}
	for _, d := range opts.destinations {
		args = append(args, "-d", d)
	}
	if opts.identity != "" {
		args = append(args, "-i", opts.identity)
	}
	if opts.noSafetyDump {
		args = append(args, "--no-safety-dump")
	}
	if opts.allowVersionChange {
		args = append(args, "--allow-version-change")
	}
	if cfgPath != "" {
		args = append(args, "--config", cfgPath)
	}
	args = append(args, "--yes")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:=@+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseBefore reads --before: an RFC 3339 time, or a duration before now.
// chooseBackup reads the backup choice shared by restore and drill: NAME
// (args[0]), --latest and --before. chosen counts how many were given;
// each caller decides how many it accepts.
func chooseBackup(args []string, latest bool, before string, now time.Time) (name string, at time.Time, chosen int, err error) {
	if len(args) == 1 {
		name = args[0]
		chosen++
	}
	if latest {
		chosen++
	}
	if before != "" {
		chosen++
		if at, err = parseBefore(before, now); err != nil {
			return "", time.Time{}, chosen, err
		}
	}
	return name, at, chosen, nil
}

func parseBefore(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, usagef("--before %q: want an RFC 3339 time (2026-11-24T08:00:00Z) or a duration (36h, 2d)", s)
	}
	return now.Add(-d), nil
}

// identitiesIfSet loads --identity or $DR_IDENTITY when given; whether the
// backup needs one is decided once it is chosen.
func (a *app) identitiesIfSet(flag string) ([]age.Identity, error) {
	path := flag
	if path == "" {
		path = a.getenv("DR_IDENTITY")
	}
	if path == "" {
		return nil, nil
	}
	return archive.LoadIdentities(path)
}

// confirm asks on a terminal; elsewhere only --yes lets a change go ahead.
func (a *app) confirm(yes bool, what string) error {
	if yes {
		return nil
	}
	if !isTerminal(a.in) {
		return usagef("refusing to %s without confirmation: stdin is not a terminal; pass --yes", what)
	}
	fmt.Fprintf(a.err, "%s? Type yes to go on: ", what)
	answer, _ := bufio.NewReader(a.in).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return usagef("not confirmed; nothing was changed")
	}
	return nil
}

func printRestorePlan(a *app, p *restore.Plan) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	m := p.Manifest
	fmt.Fprintf(w, "restore plan\n")
	fmt.Fprintf(w, "  backup\t%s (taken %s, from %s on %s)\n", p.Backup.Name, p.Backup.Time.UTC().Format(time.RFC3339), m.Host, p.Source.Name())
	fmt.Fprintf(w, "  parts\t%s\n", strings.Join(p.Parts, ", "))
	printAppwritePlan(w, p)
	for _, s := range p.Suspects {
		fmt.Fprintf(w, "  refused\t%s as suspicious (possibly planted): %s\n", s.Backup, s.Reason)
	}
	if p.Has(restore.PartDB) {
		saved := "the current one is saved to " + p.SafetyDir + " first (if it cannot be, nothing is changed)"
		if p.SafetyNet != config.SafetyNetDump {
			saved = "the current " + p.AsideWhat() + " are moved aside first (dr restore --undo swaps them back), or saved to " + p.SafetyDir + " where they cannot be"
		}
		if p.NoSafetyDump {
			saved = "the current one is NOT saved first (--no-safety-dump): the import cannot be undone"
			if p.SafetyNet != config.SafetyNetDump {
				saved = "the current " + p.AsideWhat() + " are moved aside first (dr restore --undo swaps them back); where they cannot be, nothing is saved (--no-safety-dump)"
			}
		}
		fmt.Fprintf(w, "  database\treplace %s in %s with the backup's (%d tables, %d rows); %s\n",
			strings.Join(p.Databases, ", "), p.DBService, p.Tables, p.Rows, saved)
	}
	for _, f := range p.Files {
		action := "write"
		if f.Exists {
			action = "replace (the current one is kept as *.dr-replaced-<time>)"
		}
		fmt.Fprintf(w, "  file\t%s: %s\n", f.Target, action)
	}
	for _, v := range p.Volumes {
		action := "replace the contents of"
		if p.Merge {
			action = "add the missing files to"
		}
		if !v.Exists {
			action = "create and fill"
		}
		fmt.Fprintf(w, "  volume\t%s: %s %s (%d files, %s)\n", v.Key, action, v.Docker, v.Files, humanize.Bytes(v.Bytes))
	}
	fmt.Fprintf(w, "  stopped\t%s (started again afterwards)\n", orNone(p.Stop))
	if j := p.Interrupted; j != nil {
		fmt.Fprintf(w, "  interrupted\t%s\n", j.Describe())
		if len(j.Stopped) > 0 {
			fmt.Fprintf(w, "  \tthis restore also starts %s when it ends\n", strings.Join(j.Stopped, ", "))
		}
	}
	w.Flush()
}

func printRestoreResult(a *app, r *restore.Result) {
	if r == nil {
		return
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "restore from %s\n", r.Backup)
	if r.SafetyDump != "" {
		fmt.Fprintf(w, "  safety dump\t%s\n", r.SafetyDump)
	}
	if r.AsideFallback != "" {
		fmt.Fprintf(w, "  safety net\tnot moved aside: %s\n", r.AsideFallback)
	}
	if r.Aside != nil {
		fmt.Fprintf(w, "  moved aside\t%s (undo: %s)\n", strings.Join(r.Aside.Names(), ", "), restore.UndoCommand)
	}
	if len(r.AsideDropped) > 0 {
		fmt.Fprintf(w, "  dropped\t%s (beyond restore.keep_aside)\n", strings.Join(r.AsideDropped, ", "))
	}
	for _, f := range r.Files {
		if f.Unchanged {
			fmt.Fprintf(w, "  file\t%s (already as in the backup)\n", f.Target)
		} else if f.Replaced != "" {
			fmt.Fprintf(w, "  file\t%s (was kept as %s)\n", f.Target, f.Replaced)
		} else {
			fmt.Fprintf(w, "  file\t%s\n", f.Target)
		}
	}
	if r.TablesChecked > 0 {
		fmt.Fprintf(w, "  database\timported; %d tables have the backup's row counts\n", r.TablesChecked)
	}
	for _, v := range r.Volumes {
		fmt.Fprintf(w, "  volume\t%s restored\n", v)
	}
	if len(r.Stopped) > 0 {
		fmt.Fprintf(w, "  services\t%s stopped during the restore\n", strings.Join(r.Stopped, ", "))
	}
	if len(r.Inherited) > 0 {
		fmt.Fprintf(w, "  services\t%s started again (an interrupted restore had left them stopped)\n", strings.Join(r.Inherited, ", "))
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "  warning\t%s\n", warning)
	}
	if r.Duration > 0 {
		fmt.Fprintf(w, "  duration\t%s\n", r.Duration.Round(100*time.Millisecond))
	}
	w.Flush()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
