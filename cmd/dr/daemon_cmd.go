package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/httpapi"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/notify"
	"github.com/appwrite-dr/dr/scheduler"
	"github.com/appwrite-dr/dr/usecase"
)

type daemonOptions struct {
	runNow      bool
	jitter      time.Duration
	lockWait    time.Duration
	stopTimeout time.Duration
	identity    string
}

func newDaemonCommand(a *app) *cobra.Command {
	var opts daemonOptions
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run backups (and drills) on schedule.backup/schedule.drill; serve /healthz, /metrics and a status page",
		Long: `Run as a service: back up (then prune, as dr backup does) on the cron
schedule schedule.backup in schedule.timezone, and drill the latest backup
(what dr drill --latest does) on schedule.drill, and, when set, verify it
(what dr verify --latest does) on schedule.verify; an encrypted backup's
drill or verify needs the identity (-i or DR_IDENTITY), read once at start.
Jobs take the same lock as dr backup and dr restore: a job that finds it
held waits up to --lock-wait, then is recorded as skipped with the holder.
A run missed while the daemon was down or the host asleep is run once when
the daemon notices. Every run is kept in state_dir/daemon-history.json
(what dr status reads). http.listen serves /healthz (503 when dr status
would fail), /metrics (Prometheus), /status (JSON) and / (a status page);
with http.token_file, all but /healthz need "Authorization: Bearer TOKEN".
An http.listen other hosts can reach (anything but 127.0.0.0/8, [::1] or
localhost) without http.token_file is refused: dr daemon does not start.

SIGTERM or SIGINT stops taking jobs and cancels the running one, which
undoes what it began; dr exits 0 once it has (1 after --stop-timeout).
SIGHUP reloads dr.yaml; an invalid file is refused with a log line and the
running configuration kept. Logs are JSON lines by default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), a, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.runNow, "run-now", false, "start with a backup")
	f.StringVarP(&opts.identity, "identity", "i", "", "age identity (or SSH private key) file for drills and verifies of encrypted backups (default $DR_IDENTITY)")
	f.DurationVar(&opts.jitter, "jitter", 0, "delay each scheduled run by a random duration below this (e.g. 10m)")
	f.DurationVar(&opts.lockWait, "lock-wait", 10*time.Minute, "how long a job waits for another dr run's lock before it is skipped")
	f.DurationVar(&opts.stopTimeout, "stop-timeout", 2*time.Minute, "on SIGTERM, how long the running job gets to undo what it began")
	return cmd
}

func runDaemon(ctx context.Context, a *app, opts daemonOptions) error {
	if opts.jitter < 0 || opts.lockWait < 0 || opts.stopTimeout <= 0 {
		return usagef("--jitter and --lock-wait must not be negative, --stop-timeout must be positive")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if w := cfg.FileModeWarning(a.cfgPath); w != "" {
		a.logger.Warn(w)
	}
	if err := checkDaemonConfig(cfg); err != nil {
		return usageError{err}
	}
	token, err := readToken(cfg.HTTP.TokenFile)
	if err != nil {
		return err
	}
	// Read once at start: a key on a mount that goes away later must not
	// turn every later drill into a failure of another kind.
	identities, err := a.identitiesIfSet(opts.identity)
	if err != nil {
		return err
	}
	// Each job holds the state dir's lock (state_dir cannot change on a
	// reload), so the helpers it makes may carry the lock's owner label.
	eng, err := engine.New(ctx, engine.WithOwner(lock.Owner(cfg.StateDir)))
	if err != nil {
		return err
	}
	defer eng.Close()

	// A stop (SIGTERM, SIGINT) cancels ctx: the daemon takes no more jobs
	// and the running one undoes what it began; the shutdown below waits
	// for that, up to --stop-timeout.
	notifier := &notify.Notifier{Logger: a.logger}
	defer notifier.Wait(30 * time.Second)
	d, err := scheduler.New(scheduler.Options{
		Config: cfg,
		Reload: func() (*config.Config, error) {
			next, err := config.Load(a.cfgPath, a.getenv)
			if err == nil {
				err = checkDaemonConfig(next)
			}
			return next, err
		},
		OnStart: notifier.Started,
		OnRun:   notifier.Notify,
		Jobs: map[string]scheduler.JobFunc{
			health.KindBackup: scheduler.BackupJob(eng, toolVersion(), a.logger),
			health.KindDrill:  scheduler.DrillJob(eng, identities, toolVersion(), a.logger),
			health.KindVerify: scheduler.VerifyJob(identities, a.logger),
		},
		Destinations: usecase.ListDestinations,
		Logger:       a.logger,
		LockWait:     opts.lockWait,
		Jitter:       opts.jitter,
		RunNow:       opts.runNow,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	srv := &http.Server{Handler: httpapi.Handler(d, token, toolVersion()), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server stopped", "err", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			a.logger.Info("SIGHUP: reloading the configuration", "config", a.cfgPath)
			d.Reload()
		}
	}()

	a.logger.Info("daemon started", "version", toolVersion(), "http", "http://"+ln.Addr().String(), "config", a.cfgPath,
		"schedule_backup", cfg.Schedule.Backup, "schedule_drill", cfg.Schedule.Drill, "schedule_verify", cfg.Schedule.Verify, "timezone", cfg.Schedule.Timezone)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	a.logger.Info("stopping: cancelling the running job, if any", "timeout", opts.stopTimeout.String())
	select {
	case err := <-done:
		return err
	case <-time.After(opts.stopTimeout):
		return fmt.Errorf("stopping the daemon: the running job did not finish its undo within --stop-timeout %s", opts.stopTimeout)
	}
}

// checkDaemonConfig refuses what the daemon cannot run with, at start and
// at every reload: a notify URL no service can take, or an HTTP endpoint
// other hosts could read without a token. The other commands load the same
// file and are not stopped by either: a restore must never wait for the
// daemon's settings.
func checkDaemonConfig(cfg *config.Config) error {
	err := notify.Check(cfg)
	if p := cfg.ExposedWithoutTokenProblem(); p != "" {
		err = errors.Join(err, errors.New(p))
	}
	return err
}

// readToken reads http.token_file; "" when none is set.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("http.token_file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("http.token_file %s is empty: write a token in it (e.g. openssl rand -hex 32 > %s) or unset the key", path, path)
	}
	return token, nil
}
