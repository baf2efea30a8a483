package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/onboard"
)

type initOptions struct {
	project     string
	dir         string
	destination string
	write       string
	force       bool
	// ask: several candidates are put to the operator (stdin is a
	// terminal) instead of failing with the list.
	ask bool
}

func newInitCommand(a *app) *cobra.Command {
	var opts initOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Find the compose stack on this host and write a dr.yaml for it",
		Long: `Ask the Docker engine for the compose project that runs a MariaDB or
MySQL service, and write a commented dr.yaml (mode 0600) for it: the
project's directory and compose files (from the compose labels), the .env
beside them, and the named volumes its services mount. The database's own
volume is left out (the dump covers it), and so are caches that rebuild
themselves (appwrite-cache, appwrite-redis); each is named with the reason.

With several candidate projects, dr init asks which one on a terminal, and
otherwise fails with the list: choose with --project NAME. An existing
file is never replaced without --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.ask = isTerminal(a.in)
			return runInit(cmd.Context(), a, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.project, "project", "", "the compose project to protect, when several run a database")
	f.StringVar(&opts.dir, "stack-dir", "", "the stack's directory on this host (default: the compose working_dir label)")
	f.StringVar(&opts.dir, "dir", "", "the same as --stack-dir")
	_ = f.MarkDeprecated("dir", "use --stack-dir, as dr runbook run does")
	f.StringVar(&opts.destination, "remote", "", "rclone remote path backups go to (default: /var/backups/PROJECT on this host)")
	// The flag's first name, kept so that scripts written for it still run.
	f.StringVar(&opts.destination, "destination", "", "the same as --remote")
	_ = f.MarkDeprecated("destination", "use --remote, as every other command does")
	f.StringVarP(&opts.write, "out", "o", onboard.DefaultConfigPath, "the file to write")
	f.StringVar(&opts.write, "write", onboard.DefaultConfigPath, "the same as --out")
	_ = f.MarkDeprecated("write", "use --out, as dr keygen does")
	f.BoolVar(&opts.force, "force", false, "replace the file if it exists")
	return cmd
}

func runInit(ctx context.Context, a *app, opts initOptions) error {
	if err := checkOutFile("out", opts.write, filepath.Base(onboard.DefaultConfigPath)); err != nil {
		return err
	}
	eng, err := engine.New(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	found, err := onboard.Discover(ctx, eng, onboard.Options{Project: opts.project, Dir: opts.dir})
	var several *onboard.SeveralError
	if errors.As(err, &several) {
		if !opts.ask {
			return usageError{err}
		}
		choice, cerr := onboard.Choose(a.in, a.err, several.Projects)
		if cerr != nil {
			return usageError{cerr}
		}
		found, err = onboard.Discover(ctx, eng, onboard.Options{Project: choice, Dir: opts.dir})
	}
	if err != nil {
		return err
	}
	data, err := onboard.RenderConfig(onboard.ConfigInput{Stack: found, Destination: opts.destination})
	if err != nil {
		return err
	}
	if err := onboard.WriteFile(opts.write, data, opts.force); err != nil {
		if errors.Is(err, onboard.ErrExists) {
			return usageError{err}
		}
		return err
	}
	printInit(a, found, opts)
	return nil
}

func printInit(a *app, s *onboard.Stack, opts initOptions) {
	remote := opts.destination
	if remote == "" {
		remote = onboard.DefaultDestination(s.Project) + " (a directory on this host: add an off-host remote)"
	}
	fmt.Fprintf(a.out, "found compose project %s in %s\n", s.Project, s.Dir)
	fmt.Fprintf(a.out, "  database   service %s (%s)\n", s.DBService, s.DBImage)
	fmt.Fprintf(a.out, "  files      %s\n", strings.Join(s.Files, ", "))
	fmt.Fprintf(a.out, "  volumes    %s\n", orNone(s.Volumes))
	for _, sk := range s.Skipped {
		fmt.Fprintf(a.out, "  skipped    %s: %s\n", sk.Name, sk.Reason)
	}
	fmt.Fprintf(a.out, "  backups to %s\n", remote)
	for _, n := range s.Notes {
		fmt.Fprintf(a.out, "  note       %s\n", n)
	}
	cfgFlag := ""
	if opts.write != onboard.DefaultConfigPath {
		cfgFlag = " -c " + opts.write
	}
	fmt.Fprintf(a.out, "wrote %s (mode 0600)\n", opts.write)
	fmt.Fprintf(a.out, "next: dr keygen --out key.txt (then add the recipient it prints to encryption.recipients), dr%s doctor, dr%s backup\n", cfgFlag, cfgFlag)
}
