package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/appwrite-dr/dr/drill"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/forensics"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/usecase"
)

type diffOptions struct {
	live         bool
	checksum     bool
	json         bool
	destinations []string
	identity     string
}

func newDiffCommand(a *app) *cobra.Command {
	var opts diffOptions
	cmd := &cobra.Command{
		Use:   "diff A [B | --live]",
		Short: "Show what changed between two backups, or between a backup and the running stack",
		Long: `Compare backup A with backup B, or with the running stack (--live), and
print what differs from A to B: per volume, files added (+), removed (-)
and changed (~: content, mode, owner); per table, rows counted (exact
COUNT(*) live, the dump's INSERTed rows in a backup); tables, views,
triggers, procedures, functions, events and database users added or
removed; stack files (compose files) as unified diffs; .env keys added,
removed or changed, never their values.

A backup's side comes from its sidecar manifest and its stack files, read
from the start of the archive (decrypted with --identity): the dump and
the volumes are not downloaded. The live side streams each volume
through the Docker engine and hashes it on the way, copying nothing to
disk. Nothing is changed anywhere.

Database users are compared only when both sides recorded them (backups
made by dr before it did say so). Row counts compare table contents: a
backup records no checksum, as reading every table again would slow every
backup. With --live --checksum, tables whose rows were changed in place
are found too: the newest drill of A (dr drill A) recorded CHECKSUM TABLE
... EXTENDED of every table it imported (on PostgreSQL, a sum of a hash of
each row's text), and the same tables are summed live (this reads every row
of them).

On PostgreSQL, tables are named database.schema.table, functions,
procedures and triggers database.schema.name, and the database users are
the server's roles. Without such a drill report the
diff stops and says to run dr drill A first.`,
		Example: `  dr diff appwrite-20261120T030000Z.tar.zst.age --live -i /root/dr-key.txt
  dr drill appwrite-20261120T030000Z.tar.zst && dr diff appwrite-20261120T030000Z.tar.zst --live --checksum
  dr diff appwrite-20261119T030000Z.tar.zst appwrite-20261120T030000Z.tar.zst --json`,
		Args:        cobra.RangeArgs(1, 2),
		Annotations: map[string]string{exitStatusAnnotation: diffExitStatusHelp},
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 2) == opts.live {
				return usagef("give two backups, or one backup and --live (dr list shows the names)")
			}
			if opts.checksum && !opts.live {
				return usagef("--checksum compares with the running stack: add --live (two backups differ in checksums only through their drills)")
			}
			report, err := runDiff(cmd.Context(), a, args, opts)
			if err != nil {
				return diffTrouble{err}
			}
			if opts.json {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(report); err != nil {
					return diffTrouble{err}
				}
			} else if err := report.WriteText(a.out); err != nil {
				return diffTrouble{err}
			}
			if !report.Empty() {
				return &differencesFound{n: report.Total(), a: report.A, b: report.B}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.live, "live", false, "compare backup A with the running stack")
	f.BoolVar(&opts.checksum, "checksum", false, "with --live: also compare CHECKSUM TABLE of each table with the newest drill of A (reads every live row)")
	f.BoolVar(&opts.json, "json", false, "print JSON")
	f.StringArrayVarP(&opts.destinations, "destination", "d", nil, "read the backups from this destination only (repeatable)")
	f.StringVarP(&opts.identity, "identity", "i", "", "age identity or SSH private key file for encrypted backups (default: $DR_IDENTITY)")
	return cmd
}

// runDiff picks the backups as every command does (restore.Pick: the
// catalog, the selection rule, the first copy whose sidecar reads) and
// compares them, or the one with the running stack.
func runDiff(ctx context.Context, a *app, args []string, opts diffOptions) (*forensics.Report, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	opened, err := usecase.OpenDestinations(ctx, a.env(), cfg, opts.destinations, "working from the others")
	if err != nil {
		return nil, err
	}
	dests := opened.Reachable
	var chosen []*restore.Chosen
	encrypted := false
	for _, name := range args {
		p, err := restore.Choose(ctx, cfg, dests, name, time.Time{})
		if err != nil {
			return nil, err
		}
		chosen = append(chosen, p)
		encrypted = encrypted || p.Backup.Encrypted
	}
	ids, err := a.identities(opts.identity, encrypted)
	if err != nil {
		return nil, err
	}
	if opts.live {
		p := chosen[0]
		eng, err := engine.New(ctx)
		if err != nil {
			return nil, err
		}
		defer eng.Close()
		project := cfg.Stack.Project
		if project == "" {
			project = p.Manifest.Stack
		}
		lopts := forensics.StackOptions(cfg.Stack, project)
		var from string
		if opts.checksum {
			if lopts.Checksums, from, err = drill.ReportedChecksums(ctx, a.logger, dests, p.Backup.Name, p.Manifest.Object.SHA256); err != nil {
				return nil, err
			}
		}
		r, err := forensics.CompareLive(ctx, eng, p.Source, p.Backup.Name, p.Manifest, ids, lopts)
		if err != nil {
			return nil, err
		}
		if from != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("table checksums of %s from its drill report %s", r.A, from))
		}
		return r, nil
	}
	var sides [2]*forensics.Snapshot
	for i, p := range chosen {
		s, err := forensics.FromBackup(ctx, p.Source, p.Backup.Name, p.Backup.Encrypted, p.Manifest, ids)
		if err != nil {
			return nil, err
		}
		sides[i] = s
	}
	return forensics.Compare(sides[0], sides[1]), nil
}
