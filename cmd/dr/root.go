package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/redact"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/usecase"
)

type streams struct {
	in       io.Reader
	out, err io.Writer
}

// app is what every command gets: the streams, the environment and the
// global flags. Commands load the config through it so that --config,
// DR_CONFIG and the default locations behave the same everywhere.
type app struct {
	streams
	getenv    func(string) string
	cfgPath   string
	logFormat string
	logLevel  string
	logger    *slog.Logger
	// cpuProfile names the file a CPU profile of the command is written
	// to (--cpuprofile, for the benchmarks); stopProfile ends it.
	cpuProfile  string
	stopProfile func() error
	// now is the use cases' clock; nil is the wall clock. Tests move it
	// instead of sleeping.
	now func() time.Time
}

func execute(ctx context.Context, args []string, s streams, getenv func(string) string) int {
	return executeAt(ctx, args, s, getenv, nil)
}

// executeAt is execute with the use cases' clock (nil: the wall clock).
func executeAt(ctx context.Context, args []string, s streams, getenv func(string) string, now func() time.Time) int {
	// Everything dr prints passes the redactor: remotes, URLs and the
	// errors that quote them can carry credentials, and stdout and stderr
	// end up in the daemon's logs. (A command that ever streams backup
	// data to stdout must write to the Unwrap()ped stream instead.)
	s.out, s.err = redact.NewWriter(s.out), redact.NewWriter(s.err)
	a := &app{streams: s, getenv: getenv, now: now}
	root := newRootCommand(a)
	root.SetArgs(args)
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	cmd, err := root.ExecuteContextC(ctx)
	if a.stopProfile != nil {
		if perr := a.stopProfile(); perr != nil && err == nil {
			err = perr
		}
	}
	code := exitCode(err)
	if err == nil {
		return code
	}
	if cmd != nil && wantsJSON(cmd) {
		// One line a script can parse, whatever the log said before it.
		line, _ := json.Marshal(errorJSON{MessageType: "exit_error", Code: code, Message: err.Error()})
		fmt.Fprintf(s.err, "%s\n", line)
		return code
	}
	fmt.Fprintf(s.err, "dr: %v\n", err)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(s.err, "dr: interrupted; everything begun was undone")
	}
	return code
}

// wantsJSON says whether the command ran with --json.
func wantsJSON(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "dr",
		Short: "Backups, restores and restore drills for a Docker Compose stack on MariaDB (self-hosted Appwrite)",
		Long: `dr makes consistent backups of a Docker Compose stack (database dump,
compose files, .env and data volumes) into one zstd archive, optionally
age-encrypted, streams it to any rclone remote, commits it only when
verified, prunes by a retention policy, and proves it restorable.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(a.err, a.logFormat, a.logLevel, cmd.Name() == "daemon")
			if err != nil {
				return usageError{err}
			}
			a.logger = logger
			if a.cpuProfile != "" {
				stop, err := startCPUProfile(a.cpuProfile)
				if err != nil {
					return usageError{err}
				}
				a.stopProfile = stop
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.cfgPath, "config", "c", "", "config file (default: $DR_CONFIG, then ./dr.yaml, then /etc/dr/dr.yaml)")
	pf.StringVar(&a.logFormat, "log-format", "", "log format: text or json (default: text, json for the daemon)")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof reads it)")
	_ = pf.MarkHidden("cpuprofile")

	root.AddCommand(
		newVersionCommand(a),
		newInitCommand(a),
		newKeygenCommand(a),
		newDoctorCommand(a),
		newConfigCommand(a),
		newBackupCommand(a),
		newListCommand(a),
		newVerifyCommand(a),
		newRestoreCommand(a),
		newAsideCommand(a),
		newDrillCommand(a),
		newRunbookCommand(a),
		newPruneCommand(a),
		newPinCommand(a, true),
		newPinCommand(a, false),
		newDaemonCommand(a),
		newStatusCommand(a),
		newDiffCommand(a),
	)
	appendExitStatus(root)
	return root
}

// appendExitStatus ends the help of every command with the exit codes.
func appendExitStatus(cmd *cobra.Command) {
	if cmd.Long == "" {
		cmd.Long = cmd.Short
	}
	status := exitStatusHelp(cmd.CommandPath())
	if own, ok := cmd.Annotations[exitStatusAnnotation]; ok {
		status = own
	}
	cmd.Long = strings.TrimRight(cmd.Long, "\n") + "\n" + status
	for _, c := range cmd.Commands() {
		appendExitStatus(c)
	}
}

func newLogger(w io.Writer, format, level string, daemon bool) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	if format == "" {
		format = "text"
		if daemon {
			format = "json"
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	// Redacted before formatting too, so a JSON log stays valid JSON.
	switch format {
	case "text":
		return slog.New(redact.NewHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(redact.NewHandler(slog.NewJSONHandler(w, opts))), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// loadConfig finds and loads dr.yaml the same way for every command.
func (a *app) loadConfig() (*config.Config, error) {
	path, err := config.ResolvePath(a.cfgPath, a.getenv, fileExists)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(path, a.getenv)
	if err != nil {
		return nil, err
	}
	a.cfgPath = path
	return cfg, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// isTerminal says whether w is an interactive terminal (progress bars and
// confirmation prompts only make sense there).
func isTerminal(w any) bool {
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// env is what the use cases get from a command: its logger, the tool's
// version, the environment, and the lock taken at once (a second run
// exits 3 instead of waiting, as the daemon's jobs do).
func (a *app) env() usecase.Env {
	return usecase.Env{
		Logger:      a.logger,
		ToolVersion: toolVersion(),
		Getenv:      a.getenv,
		Now:         a.now,
		Lock: func(stateDir, what string) (func() error, error) {
			held, err := lock.Acquire(stateDir, what)
			if err != nil {
				return nil, err
			}
			return held.Release, nil
		},
	}
}

// openEngine connects to the Docker engine. Every command that works on
// the stack holds the state dir's lock while it does, so its helpers may
// carry the lock's owner label.
func openEngine(ctx context.Context, cfg *config.Config) (*engine.Client, error) {
	return engine.New(ctx, engine.WithOwner(lock.Owner(cfg.StateDir)))
}
