package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

func newConfigCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check and print the configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Load and validate dr.yaml, then print the effective config with secrets redacted",
		Long: `Load dr.yaml (with defaults and DR_* environment overrides applied),
validate it, and print the effective configuration with secrets redacted.
Every problem found is listed with its key and line.

When the Docker engine answers, the stack's containers are also checked
for named volumes that are neither in stack.volumes nor in
stack.exclude_volumes; each is a warning on stderr. Without an engine (or
with the stack down) that check is skipped with a note; neither is an
error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			out, err := cfg.Redacted().YAML()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "# %s is valid; effective configuration (secrets redacted):\n%s", a.cfgPath, out)
			// On stderr, so that the printed configuration stays loadable.
			for _, w := range []string{cfg.UnencryptedWarning(), cfg.FileModeWarning(a.cfgPath)} {
				if w != "" {
					fmt.Fprintf(a.err, "warning: %s\n", w)
				}
			}
			if p := cfg.ExposedWithoutTokenProblem(); p != "" {
				fmt.Fprintf(a.err, "warning: dr daemon will refuse to start: %s\n", p)
			}
			checkVolumeMounts(cmd.Context(), a, cfg)
			return nil
		},
	})
	return cmd
}

// checkVolumeMounts warns of volumes the running stack mounts that the
// config neither backs up nor excludes. The config may be checked on a
// machine without the stack (before a move, in CI), so a check that
// cannot be made is a note, not a failure.
func checkVolumeMounts(ctx context.Context, a *app, cfg *config.Config) {
	eng, err := engine.New(ctx)
	if err != nil {
		fmt.Fprintf(a.err, "note: could not check which volumes the stack mounts: %v\n", err)
		return
	}
	defer eng.Close()
	warnings, err := backup.CheckMounts(ctx, eng, cfg)
	if err != nil {
		fmt.Fprintf(a.err, "note: could not check which volumes the stack mounts: %v\n", err)
		return
	}
	for _, w := range warnings {
		fmt.Fprintf(a.err, "warning: %s\n", w)
	}
}
