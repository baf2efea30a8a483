package main

import (
	"fmt"

	"github.com/spf13/cobra"
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
Every problem found is listed with its key and line.`,
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
			return nil
		},
	})
	return cmd
}
