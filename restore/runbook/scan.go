package runbook

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/storage"
)

// scanStep scans the uploads of the picked backup before anything is
// restored, so that the hacked restore can leave the infected ones out.
func scanStep() Step {
	return Step{
		Title:     "Scan the uploads for malware",
		Does:      "Streams every file of scan.volumes (appwrite-uploads) from the verified archive to clamd at scan.clamd (nothing is written to disk) and lists the infected ones; the volume restore leaves them out, unless --keep-infected. Without scan.clamd it says the files were not scanned, and goes on.",
		OnFailure: "a clamd that cannot be reached, or a file it could not scan, stops the runbook before anything is restored: start clamd (on a fresh host: apt-get install clamav-daemon, then scan.clamd: unix:/run/clamav/clamd.ctl), fix scan.clamd, or raise StreamMaxLength in clamd.conf above the largest upload.",
		Run:       scanUploads,
	}
}

func scanUploads(ctx context.Context, env *Env) error {
	if env.backup == "" {
		return errors.New("no backup picked: the first step did not run")
	}
	cfg := env.Config
	if !cfg.Scan.Enabled() {
		fmt.Fprintln(env.Out, "      not scanned (scan.clamd not set): the uploads are restored as the backup holds them")
		return nil
	}
	var volumes []string
	for _, v := range env.manifest.Volumes {
		if slices.Contains(cfg.Scan.Volumes, v.Name) {
			volumes = append(volumes, v.Name)
		}
	}
	if len(volumes) == 0 {
		fmt.Fprintf(env.Out, "      the backup holds none of scan.volumes (%s); nothing to scan\n", strings.Join(cfg.Scan.Volumes, ", "))
		return nil
	}
	if cfg.Stack.Project == "" && env.project != "" {
		c := *cfg
		c.Stack.Project = env.project
		cfg = &c
	}
	s, err := scan.Open(ctx, cfg, env.Engine)
	if err != nil {
		return fmt.Errorf("nothing was restored: %w", err)
	}
	rep := &scan.Report{Scanner: s.String(), Volumes: volumes}
	if err := scanArchive(ctx, env, s, rep); err != nil {
		return fmt.Errorf("nothing was restored: %w", err)
	}
	env.scan = rep
	fmt.Fprintf(env.Out, "      %d files (%d bytes) of %s scanned with clamd at %s\n", rep.Files, rep.Bytes, strings.Join(volumes, ", "), rep.Scanner)
	if len(rep.Unscanned) > 0 {
		for _, u := range rep.Unscanned {
			fmt.Fprintf(env.Out, "      NOT SCANNED %s: %s\n", u.File, u.Reason)
		}
		return fmt.Errorf("%s not scanned, so not known to be clean; nothing was restored", files(len(rep.Unscanned)))
	}
	if len(rep.Infected) == 0 {
		fmt.Fprintln(env.Out, "      none infected")
		return nil
	}
	for _, f := range rep.Infected {
		fmt.Fprintf(env.Out, "      INFECTED %s (%s)\n", f.File, f.Signature)
	}
	if env.KeepInfected {
		fmt.Fprintf(env.Out, "      --keep-infected: %s restored all the same\n", files(len(rep.Infected)))
		return nil
	}
	env.exclude = rep.InfectedFiles()
	fmt.Fprintf(env.Out, "      %s left out of the volume restore (--keep-infected restores them)\n", files(len(rep.Infected)))
	return nil
}

// scanArchive reads the picked copy once and streams each file of the
// scanned volumes to clamd, checking it against the manifest on the way:
// what was scanned is what the restore writes.
func scanArchive(ctx context.Context, env *Env, s scan.Scanner, rep *scan.Report) error {
	var dest *storage.Destination
	for _, d := range env.Destinations {
		if d.Name() == env.source {
			dest = d
		}
	}
	if dest == nil {
		return fmt.Errorf("the destination %s the first step read is not open", env.source)
	}
	rc, err := dest.Open(ctx, env.backup)
	if err != nil {
		return err
	}
	defer rc.Close()
	plain, closeDec, err := archive.Decompress(rc, strings.HasSuffix(env.backup, archive.EncryptedSuffix), env.Identities)
	if err != nil {
		return err
	}
	defer closeDec()
	ar := archive.NewReader(ctx, plain, env.manifest, archive.ReaderOptions{Identities: env.Identities, Blobs: dest})
	defer ar.Close()
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		if item.Kind != archive.ItemVolume || item.Header.Typeflag != tar.TypeReg || !slices.Contains(rep.Volumes, item.Volume) {
			continue
		}
		// The reader checks each content against the manifest: what was
		// scanned is what the first step verified.
		if err := rep.File(ctx, s, item.Name, ar); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, ar); err != nil {
			return fmt.Errorf("%w: the archive changed since the first step verified it", err)
		}
	}
}

// files says "1 file is" or "N files are".
func files(n int) string {
	if n == 1 {
		return "1 file is"
	}
	return fmt.Sprintf("%d files are", n)
}

// withScan puts the scan step right after the first step, which picks and
// verifies the backup: nothing is written before the verdict.
func withScan(steps []Step) []Step {
	return slices.Insert(steps, 1, scanStep())
}
