package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

func newConfigCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check and print the configuration",
	}
	var jsonOut bool
	check := &cobra.Command{
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
			var warnings []string
			for _, w := range []string{cfg.UnencryptedWarning(), cfg.FileModeWarning(a.cfgPath)} {
				if w != "" {
					warnings = append(warnings, w)
				}
			}
			if p := cfg.ExposedWithoutTokenProblem(); p != "" {
				warnings = append(warnings, "dr daemon will refuse to start: "+p)
			}
			mounts, note := checkVolumeMounts(cmd.Context(), cfg)
			warnings = append(warnings, mounts...)
			out, err := cfg.Redacted().YAML()
			if err != nil {
				return err
			}
			if jsonOut {
				var effective map[string]any
				if err := yaml.Unmarshal([]byte(out), &effective); err != nil {
					return fmt.Errorf("reading back the effective configuration: %w", err)
				}
				return printJSON(a, "the config check", configCheckJSON{Path: a.cfgPath, Valid: true, Config: effective, Warnings: orEmpty(warnings), Note: note})
			}
			fmt.Fprintf(a.out, "# %s is valid; effective configuration (secrets redacted):\n%s", a.cfgPath, out)
			// On stderr, so that the printed configuration stays loadable.
			for _, w := range warnings {
				fmt.Fprintf(a.err, "warning: %s\n", w)
			}
			if note != "" {
				fmt.Fprintf(a.err, "note: %s\n", note)
			}
			return nil
		},
	}
	check.Flags().BoolVar(&jsonOut, "json", false, "print the outcome and the effective configuration (secrets redacted) as JSON")
	cmd.AddCommand(check)
	return cmd
}

// configCheckJSON is dr config check --json's document. A config that
// does not load is a failure (exit 2), with its exit_error on stderr.
type configCheckJSON struct {
	Path   string         `json:"path"`
	Valid  bool           `json:"valid"`
	Config map[string]any `json:"config"`
	// Warnings are what dr config check prints on stderr as warnings.
	Warnings []string `json:"warnings"`
	// Note says why the check of the stack's volume mounts was skipped.
	Note string `json:"note,omitempty"`
}

// checkVolumeMounts are the warnings about volumes the running stack
// mounts that the config neither backs up nor excludes. The config may be
// checked on a machine without the stack (before a move, in CI), so a
// check that cannot be made is a note, not a failure.
func checkVolumeMounts(ctx context.Context, cfg *config.Config) (warnings []string, note string) {
	eng, err := engine.New(ctx)
	if err != nil {
		return nil, fmt.Sprintf("could not check which volumes the stack mounts: %v", err)
	}
	defer eng.Close()
	warnings, err = backup.CheckMounts(ctx, eng, cfg)
	if err != nil {
		return nil, fmt.Sprintf("could not check which volumes the stack mounts: %v", err)
	}
	return warnings, ""
}
