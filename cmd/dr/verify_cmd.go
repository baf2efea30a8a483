package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/storage"
)

type verifyOptions struct {
	latest       bool
	destinations []string
	identity     string
}

func newVerifyCommand(a *app) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify [NAME | --latest]",
		Short: "Download a backup, decrypt it and check every entry, touching no database",
		Long: `Download a backup from every destination that holds it, decrypt it when
encrypted, and check every entry (sizes, sha256 of each file and dump chunk,
the embedded manifest, the object's size and hash) against its sidecar.
No database or file on this host is touched.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			if (name == "") == !opts.latest {
				return usagef("give a backup NAME or --latest (dr list shows the names)")
			}
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			dests, unreachable, err := a.openReachable(ctx, cfg, opts.destinations)
			if err != nil {
				return err
			}
			entry, listErr, err := storage.ChooseFrom(ctx, dests, storage.Query{Stack: cfg.Stack.Project, Name: name})
			if err != nil {
				return a.warnUnreachable(unreachable, err)
			}
			ids, err := a.identities(opts.identity, entry.Encrypted)
			if err != nil {
				return err
			}
			reports, err := restore.Verify(ctx, dests, entry, ids)
			printVerify(a, entry.Name, reports)
			if err != nil {
				return err
			}
			if listErr != nil {
				return a.warnUnreachable(unreachable, listErr)
			}
			return a.warnUnreachable(unreachable, nil)
		},
	}
	cmd.Flags().BoolVar(&opts.latest, "latest", false, "verify the newest complete backup")
	cmd.Flags().StringArrayVarP(&opts.destinations, "destination", "d", nil, "verify only the copy on this destination (repeatable)")
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
