package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/onboard"
)

// defaultIdentityFile is where dr keygen writes without --out.
const defaultIdentityFile = "dr-identity.txt"

type keygenOptions struct {
	out string
}

func newKeygenCommand(a *app) *cobra.Command {
	var opts keygenOptions
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make the age key pair backups are encrypted to",
		Long: `Make an age X25519 identity, write it to --out with mode 0600 (an
existing file is never replaced), and print the recipient line for
encryption.recipients in dr.yaml.

The identity (private key) belongs off this host: a host that is hacked
must not be able to read old backups, and backing up needs only the
recipient. Without the identity no encrypted backup can be restored, by
dr or by hand; keep copies where a lost server cannot take them along.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			return runKeygen(a, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.out, "out", "o", defaultIdentityFile, "the identity file to write (its directory must exist)")
	return cmd
}

func runKeygen(a *app, opts keygenOptions) error {
	if err := checkOutFile("out", opts.out, defaultIdentityFile); err != nil {
		return err
	}
	if err := checkOutDir("out", opts.out); err != nil {
		return err
	}
	id, err := onboard.NewIdentity(time.Now())
	if err != nil {
		return err
	}
	if err := onboard.WriteFile(opts.out, id.File, false); err != nil {
		if errors.Is(err, onboard.ErrExists) {
			return usagef("%s exists: dr keygen never replaces an identity (backups encrypted to it would be lost); choose another --out", opts.out)
		}
		return err
	}
	fmt.Fprintf(a.out, "wrote the age identity to %s (mode 0600)\n\n", opts.out)
	fmt.Fprintf(a.out, "put this in dr.yaml:\n\nencryption:\n  recipients:\n    - %s\n\n", id.Recipient)
	fmt.Fprintf(a.out, "Move %s off this host now (a password manager, another machine, paper):\n", opts.out)
	fmt.Fprintln(a.out, "  - backing up needs only the recipient; a hacked host that keeps the identity can read every old backup.")
	fmt.Fprintln(a.out, "  - without the identity no encrypted backup can be restored, by dr or by hand: keep two copies.")
	fmt.Fprintf(a.out, "  - restores and drills read it with -i %s (or DR_IDENTITY); dr doctor -i %s proves it matches.\n", opts.out, opts.out)
	return nil
}
