package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/restore"
)

func serverLost() *Runbook {
	return &Runbook{
		ID:     "server-lost",
		Title:  "The server is lost or does not respond",
		Crisis: "The host is gone (dead disk, deleted VM, provider outage) or cannot be brought back. A new host with Docker and dr gets the stack back: compose files, .env, database and volumes from the latest complete backup.",
		When:   "the old host cannot be reached or repaired in time; run this on the new host.",
		Usage:  "dr runbook run server-lost --config /etc/dr/dr.yaml -i /root/dr-key.txt\n# no dr.yaml on the new host: name the destination and the stack directory\ndr runbook run server-lost --remote gdrive:appwrite-backups --stack-dir /root/appwrite -i /root/dr-key.txt",
		Steps:  wholeStackSteps(),
	}
}

func hacked() *Runbook {
	return &Runbook{
		ID:     "hacked",
		Title:  "The server was hacked",
		Crisis: "An attacker had access: data, code or configuration after some moment cannot be trusted. On a clean host (or the wiped one), the stack comes back from the newest complete backup taken before that moment, verified in full before anything is used.",
		When:   "you know (or suspect) when the breach began; pick a --before well ahead of it.",
		Usage:  "dr runbook run hacked --before 2026-11-20T00:00:00Z --config /etc/dr/dr.yaml -i /root/dr-key.txt",
		Steps:  withDiff(withScan(wholeStackSteps())),
		Checklist: []string{
			"Rotate _APP_OPENSSL_KEY_V1 in .env: the attacker may have read it. Data Appwrite encrypted with the old key needs that key to be read, so follow Appwrite's own procedure for changing it.",
			"Rotate the database passwords (_APP_DB_PASS, _APP_DB_ROOT_PASS) in the server and in .env.",
			"Revoke and re-issue every Appwrite API key and project secret; give new keys the least scopes they need and an expiry.",
			"SSH: keys only, PasswordAuthentication no, PermitRootLogin prohibit-password; remove keys you do not know from authorized_keys.",
			"Firewall: only 80/443 (and SSH from known addresses) reach the host; the Docker API and the database never do.",
			"Give dr's backup credentials append-only rights where the remote allows it, and keep the age identity off the host.",
			"Read /var/log/auth.log (and journalctl) around the breach for how the attacker got in; fix that before going live.",
		},
	}
}

func dbCorrupted() *Runbook {
	return &Runbook{
		ID:     "db-corrupted",
		Title:  "The database is corrupted",
		Crisis: "Tables are missing, damaged or full of wrong rows (a bad migration, a broken disk, a mistaken DELETE) while the host is fine. The database is replaced by the latest complete backup's, row for row; the broken state is saved first, and the services that write to it are stopped during the import.",
		When:   "MariaDB errors about tables, or data you know to be wrong; the rest of the stack is fine.",
		Usage:  "dr runbook run db-corrupted --config /etc/dr/dr.yaml\n# only when the broken database cannot even be dumped (the run said so): import without a safety dump\ndr runbook run db-corrupted --config /etc/dr/dr.yaml --no-safety-dump",
		Steps: []Step{
			pickStep(),
			{
				Title:     "Restore the database",
				Does:      "Records the restore in state_dir's restore journal, stops the services that write to the database, moves the current (broken) database's tables aside into dr_aside_<db>_<time> schemas (where that cannot work, dumps it to state_dir/safety first instead, saying why), imports the backup's dump chunk by chunk (each checked against its sha256 first), compares every table's row count with the backup's, and starts the services again, also on failure. When neither can be done, nothing is stopped or changed.",
				OnFailure: "read the error: it names the chunk, table or service. The tables moved aside (dr restore --undo swaps them back) or the safety dump in state_dir/safety hold the state before the import; the error prints the command that puts it back. When the broken database cannot even be dumped (the error says so), run the runbook again with --no-safety-dump to import without a way back.",
				Run:       restorePart(restore.PartDB),
			},
			checkRowsStep(),
		},
	}
}

func volumesMissing() *Runbook {
	return &Runbook{
		ID:     "volumes-missing",
		Title:  "Files are missing from the volumes",
		Crisis: "Uploaded files, function deployments, builds or certificates are gone or damaged, or a whole volume was deleted. The chosen volumes are made equal to the latest complete backup's, file for file, with modes and owners.",
		When:   "Appwrite reports missing files, or docker volume ls lacks a volume.",
		Usage:  "dr runbook run volumes-missing --config /etc/dr/dr.yaml [--volume appwrite-uploads]…",
		Steps: []Step{
			pickStep(),
			{
				Title:     "Restore the volumes",
				Does:      "Stops the services that mount each volume, empties it (or creates it with its compose labels when it is gone), refills it from the backup through the Docker API, and starts the services again, also on failure. Default: every configured volume the backup holds; --volume picks some.",
				OnFailure: "read the error: it names the volume and the file. Entries that would land outside a volume refuse the restore before anything is written.",
				Run:       restorePart(restore.PartVolumes),
			},
		},
	}
}

// wholeStackSteps bring a whole stack back, on a new host or over a
// compromised one.
func wholeStackSteps() []Step {
	return []Step{
		pickStep(),
		{
			Title:     "Write the compose files and .env",
			Does:      "Writes the backup's stack files to stack.dir (.env with mode 0600); files already there are kept as *.dr-replaced-<time>, identical ones are left alone.",
			OnFailure: "check that stack.dir (or --stack-dir) is a writable directory on this host.",
			Run:       restorePart(restore.PartFiles),
		},
		{
			Title:     "Start the database service only",
			Does:      "Runs docker compose up -d for the database service (docker-compose where the plugin is missing), with the backup's project name, so nothing else writes yet.",
			OnFailure: "run docker compose up -d <database service> in stack.dir by hand and read its error (images must be pullable or present on this host).",
			Run:       startDatabase,
		},
		{
			Title:     "Wait until the database accepts connections",
			Does:      "Asks the server over TCP inside its container until it answers (a fresh container initialises first).",
			OnFailure: "read docker compose logs <database service>: a wrong root password in .env or a full disk are the usual causes.",
			Run:       waitDatabase,
		},
		{
			Title:     "Import the database",
			Does:      "Imports the backup's dump chunk by chunk, each checked against its sha256 before it reaches the server; whatever the server held is moved aside first (dr restore --undo swaps it back; a safety dump in state_dir/safety where that cannot work); every table's row count is compared with the backup's.",
			OnFailure: "read the error: it names the chunk or table. Run the runbook again once fixed; the import replaces the databases whole.",
			Run:       restorePart(restore.PartDB),
		},
		{
			Title:     "Restore the volumes",
			Does:      "Creates each volume with its compose labels when it is missing, and fills it from the backup so it equals it, file for file.",
			OnFailure: "read the error: it names the volume. docker volume ls shows what exists.",
			Run:       restorePart(restore.PartVolumes),
		},
		{
			Title:     "Start the whole stack",
			Does:      "Runs docker compose up -d in stack.dir for every service.",
			OnFailure: "run docker compose up -d in stack.dir and read docker compose logs.",
			Run:       startStack,
		},
		checkRowsStep(),
	}
}

func pickStep() Step {
	return Step{
		Title:     "Pick the backup and verify it",
		Does:      "Lists the complete backups on the destinations, picks the newest (before --before, when given, passing over and naming any backup the destination says was uploaded after that time or further than restore.upload_tolerance from the time in its name: possibly planted), refuses a backup of another Appwrite version than the running stack's unless --allow-version-change, fetches its sidecar manifest and downloads and checks the whole archive against it, decrypting with --identity. Nothing is changed.",
		OnFailure: "dr list shows what the destinations hold (and flags suspicious backups); a damaged copy on one destination can be skipped with -d naming another; an encrypted backup needs -i with the age identity or SSH key; for a version refusal, put the stack's appwrite image back to the backup's version or pass --allow-version-change.",
		Run:       pickBackup,
	}
}

func checkRowsStep() Step {
	return Step{
		Title:     "Check the database against the backup",
		Does:      "Counts the rows of every table the backup holds and compares each with the backup's count.",
		OnFailure: "a difference means something wrote to the database after the import; stop it and run the runbook again.",
		Run:       checkRows,
	}
}

func pickBackup(ctx context.Context, env *Env) error {
	return pickVerified(ctx, env, restore.Request{Before: env.Before})
}

// pickVerified picks the backup the request means (by name, else before
// a time, else the newest), verifies it in full, and keeps it for the
// later steps.
func pickVerified(ctx context.Context, env *Env, req restore.Request) error {
	req.Parts, req.Identities, req.Logger = []string{restore.PartFiles}, env.Identities, env.Logger
	req.AllowVersionChange = env.acrossVersions || env.AllowVersionChange
	plan, err := restore.Prepare(ctx, env.Engine, env.Config, env.Destinations, req)
	if err != nil {
		return err
	}
	for _, s := range plan.Suspects {
		fmt.Fprintf(env.Out, "      refused %s as suspicious (possibly planted): %s\n", s.Backup, s.Reason)
	}
	fmt.Fprintf(env.Out, "      backup %s, taken %s on %s, read from %s\n", plan.Backup.Name, plan.Backup.Time.UTC().Format(time.RFC3339), plan.Manifest.Host, plan.Source.Name())
	if err := restore.CheckAppwriteVersion(ctx, env.Engine, plan.Project, env.Config.Stack.Database.Service, plan.Backup.Name, plan.Manifest, req.AllowVersionChange); err != nil {
		return err
	}
	if j := plan.Interrupted; j != nil {
		fmt.Fprintf(env.Out, "      %s; this run finishes the job and starts what it left stopped\n", j.Describe())
	}
	err = restore.VerifyPlan(ctx, plan, env.Identities)
	for _, f := range plan.Faults {
		fmt.Fprintf(env.Out, "      passed over the copy on %s: %v\n", f.Destination, f.Err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "      verified on %s: every entry matches its manifest\n", plan.Source.Name())
	env.source = plan.Source.Name()
	env.backup = plan.Backup.Name
	env.project = plan.Project
	env.manifest = plan.Manifest
	return nil
}

// restorePart restores one part of the picked backup.
func restorePart(part string) func(context.Context, *Env) error {
	return func(ctx context.Context, env *Env) error {
		if env.backup == "" {
			return errors.New("no backup picked: the first step did not run")
		}
		req := restore.Request{
			Name: env.backup, Parts: []string{part}, Identities: env.Identities,
			Logger: env.Logger, Verified: true, From: env.source,
			Step:         func(s string) { fmt.Fprintf(env.Out, "      %s\n", s) },
			NoSafetyDump: env.NoSafetyDump, Command: env.Command,
			AllowVersionChange: env.acrossVersions || env.AllowVersionChange,
			SafetyDump:         env.acrossVersions,
			Exclude:            env.exclude,
		}
		if part == restore.PartVolumes {
			req.Volumes = env.volumesToRestore()
			if len(req.Volumes) == 0 {
				fmt.Fprintln(env.Out, "      the backup holds none of the configured volumes; nothing to do")
				return nil
			}
		}
		if part != restore.PartFiles && !env.holds(part) {
			fmt.Fprintf(env.Out, "      the backup holds no %s; nothing to do\n", part)
			return nil
		}
		// Without stack.project, restore finds the stack by its database
		// service; the runbook already knows the project it picked (and
		// may have started), so it says which, in case the host runs more
		// than one.
		cfg := env.Config
		if cfg.Stack.Project == "" && env.project != "" {
			c := *cfg
			c.Stack.Project = env.project
			cfg = &c
		}
		plan, err := restore.Prepare(ctx, env.Engine, cfg, env.Destinations, req)
		if err != nil {
			return err
		}
		// Verified skips the second download, so the sidecar read again
		// here must be the one the first step verified the archive
		// against, not one replaced on the remote since.
		if what := archive.Differs(env.manifest, plan.Manifest); what != "" {
			return fmt.Errorf("the sidecar of backup %s on %s changed its %s since the first step verified the backup; nothing was restored in this step: find out who writes to the destination, then run the runbook again", env.backup, plan.Source.Name(), what)
		}
		res, err := restore.Execute(ctx, env.Engine, plan, req)
		if res != nil {
			env.results = append(env.results, res)
		}
		return err
	}
}

func (e *Env) holds(part string) bool {
	switch part {
	case restore.PartDB:
		return e.manifest != nil && e.manifest.Database != nil
	case restore.PartVolumes:
		return e.manifest != nil && len(e.manifest.Volumes) > 0
	}
	return true
}

// volumesToRestore are the --volume names, else every configured volume
// the backup holds.
func (e *Env) volumesToRestore() []string {
	if len(e.Volumes) > 0 {
		return e.Volumes
	}
	// Only the volumes the configuration backs up: restore refuses any
	// other (see restore.volumeKeyAllowed).
	var out []string
	for _, v := range e.manifest.Volumes {
		if slices.Contains(e.Config.Stack.Volumes, v.Name) {
			out = append(out, v.Name)
		}
	}
	return out
}

func startDatabase(ctx context.Context, env *Env) error {
	return env.Compose.Up(ctx, env.Config.Stack.Dir, env.project, env.Config.Stack.Database.Service)
}

func startStack(ctx context.Context, env *Env) error {
	return env.Compose.Up(ctx, env.Config.Stack.Dir, env.project)
}

func waitDatabase(ctx context.Context, env *Env) error {
	deadline := time.Now().Add(env.WaitTimeout)
	var last error
	for {
		stack, err := env.Engine.FindStack(ctx, env.project, env.Config.Stack.Database.Service)
		if err == nil {
			if db, ok := stack.Service(env.Config.Stack.Database.Service); ok && db.Running {
				kind, err := env.databaseKind(ctx, db)
				if err != nil {
					return err
				}
				if last = restore.DatabaseReady(ctx, env.Engine, kind, db.ID); last == nil {
					return nil
				}
			} else {
				last = fmt.Errorf("the %s container is not running", env.Config.Stack.Database.Service)
			}
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the database did not accept connections within %s: %w", env.WaitTimeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func checkRows(ctx context.Context, env *Env) error {
	if env.manifest == nil || env.manifest.Database == nil {
		fmt.Fprintln(env.Out, "      the backup holds no database; nothing to check")
		return nil
	}
	stack, err := env.Engine.FindStack(ctx, env.project, env.Config.Stack.Database.Service)
	if err != nil {
		return err
	}
	db, ok := stack.Service(env.Config.Stack.Database.Service)
	if !ok || !db.Running {
		return fmt.Errorf("the %s container is not running", env.Config.Stack.Database.Service)
	}
	kind, err := env.databaseKind(ctx, db)
	if err != nil {
		return err
	}
	wrong, checked, err := restore.CompareServerRows(ctx, env.Engine, kind, db.ID, env.manifest.Database)
	if err != nil {
		return err
	}
	if len(wrong) > 0 {
		return fmt.Errorf("the database differs from the backup: %s", strings.Join(wrong, "; "))
	}
	fmt.Fprintf(env.Out, "      %d tables hold the backup's row counts\n", checked)
	return nil
}

// databaseKind is the kind of the stack's database server: the backup's,
// once the first step picked it (the restore refuses a server of another
// kind), else what the configuration and the container say.
func (e *Env) databaseKind(ctx context.Context, db engine.Container) (string, error) {
	if e.manifest != nil && e.manifest.Database != nil && e.manifest.Database.Kind != "" {
		return e.manifest.Database.Kind, nil
	}
	return restore.ServerKind(ctx, e.Engine, e.Config, db)
}
