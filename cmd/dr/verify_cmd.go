package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/usecase"
)

type verifyOptions struct {
	latest       bool
	before       string
	destinations []string
	identity     string
	json         bool
}

func newVerifyCommand(a *app) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify (NAME | --latest | --before TIME)",
		Short: "Download a backup, decrypt it and check every entry, touching no database",
		Long: `Download a backup from every destination that holds it, decrypt it when
encrypted, and check every entry (sizes, sha256 of each file and dump chunk,
the embedded manifest, the object's size and hash) against its sidecar.
No database or file on this host is touched.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, before, chosen, err := chooseBackup(args, opts.latest, opts.before, time.Now())
			if err != nil {
				return err
			}
			if chosen != 1 {
				return usagef("pick the backup with exactly one of NAME, --latest or --before TIME (dr list shows the names)")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			res, err := usecase.Verify(cmd.Context(), a.env(), cfg, usecase.VerifyRequest{
				Name:         name,
				Before:       before,
				Destinations: opts.destinations,
				Identities:   func(encrypted bool) ([]age.Identity, error) { return a.identities(opts.identity, encrypted) },
			})
			if res == nil {
				return err
			}
			if opts.json {
				if jerr := printJSON(a, "the verify report", verifyDoc(res)); jerr != nil {
					return errors.Join(err, jerr)
				}
			} else if res.Backup != "" {
				printVerify(a, res.Backup, res.Copies)
			}
			// A reading command that worked from the reachable
			// destinations succeeds: during an outage that is what the
			// operator needs; each unreachable one was warned about.
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.latest, "latest", false, "verify the newest complete backup")
	cmd.Flags().StringVar(&opts.before, "before", "", "verify the newest backup taken before this time (RFC 3339) or this long ago (e.g. 36h, 2d)")
	cmd.Flags().StringArrayVarP(&opts.destinations, "destination", "d", nil, "verify only the copy on this destination (repeatable)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the report as JSON")
	cmd.Flags().StringVarP(&opts.identity, "identity", "i", "", "age identity or SSH private key file for encrypted backups (default: $DR_IDENTITY)")
	return cmd
}

// identities loads the decryption keys when the backup needs them.
func (a *app) identities(flag string, needed bool) ([]age.Identity, error) {
	path := flag
	if path == "" {
		path = a.getenv("DR_IDENTITY")
	}
	if !needed {
		return nil, nil
	}
	if path == "" {
		return nil, usagef("the backup is encrypted: pass --identity FILE (an age identity or SSH private key) or set DR_IDENTITY")
	}
	return archive.LoadIdentities(path)
}

func printVerify(a *app, name string, reports []restore.CopyReport) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "verify %s\n", name)
	for _, r := range reports {
		status := "OK"
		if r.Err != nil {
			status = "DAMAGED: " + r.Err.Error()
		}
		fmt.Fprintf(w, "  %s\t%s\t%s in %s\n", r.Destination, status, humanize.Bytes(r.Bytes), r.Duration.Round(10*time.Millisecond))
	}
	w.Flush()
}
