package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/onboard"
)

type doctorOptions struct {
	json     bool
	identity string
}

func newDoctorCommand(a *app) *cobra.Command {
	var opts doctorOptions
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that everything a backup needs works, with the fix for each failure",
		Long: `Check, and print the fix for each failure in one line: the Docker engine
answers; the stack and its database container are found and running; the
dump's credentials work (SELECT 1 through the same exec path as the dump);
every destination lists, and takes a write, a read back and a delete of a
small probe object (an append-only destination: the write only, and the
probe stays); the encryption recipients parse and encrypt, and with -i an
encrypted probe decrypts with that identity; the schedule parses (its next
runs are shown); state_dir is writable; dr.yaml is not readable by group or
others when it holds secrets; http.listen is loopback or has a token_file
(dr daemon refuses to start otherwise); the clock is not before the newest backup.

Each destination call has its own deadline (30s). The exit status is 0
only when every check passes; unencrypted backups are a warning.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), a, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the report as JSON")
	cmd.Flags().StringVarP(&opts.identity, "identity", "i", "", "age identity (or SSH key) file to prove the recipients decrypt (default: $DR_IDENTITY)")
	return cmd
}

func runDoctor(ctx context.Context, a *app, opts doctorOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	identity := opts.identity
	if identity == "" {
		identity = a.getenv("DR_IDENTITY")
	}
	report := onboard.Doctor(ctx, onboard.DoctorOptions{Config: cfg, ConfigPath: a.cfgPath, Identity: identity})
	if opts.json {
		if err := printJSON(a, "the doctor's report", report); err != nil {
			return err
		}
	} else {
		printDoctor(a, report)
	}
	if n := report.Failed(); n > 0 {
		return fmt.Errorf("%d of %d checks did not pass", n, len(report.Checks))
	}
	return nil
}

func printDoctor(a *app, r *onboard.Report) {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(a.out, "%-4s  %-*s  %s\n", strings.ToUpper(c.Status), width, c.Name, c.Detail)
		if c.Fix != "" && c.Status != onboard.StatusOK {
			fmt.Fprintf(a.out, "      %-*s  fix: %s\n", width, "", c.Fix)
		}
	}
}
