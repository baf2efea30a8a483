package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rclone/rclone/fs/asyncreader"

	"github.com/appwrite-dr/dr/archive"
)

// volumeReadAhead is the number of 1 MiB buffers read ahead of the
// archive writer from the engine's volume stream.
const volumeReadAhead = 4

// writeVolumes captures every configured volume into the archive, with
// the stop_during_backup services stopped for the time it takes and
// started again afterwards, whatever happens. It returns warnings (entries
// that cannot be kept) besides the error.
func writeVolumes(ctx context.Context, eng Engine, aw *archive.Writer, plan *stackPlan, m *archive.Manifest, counters *progressCounters, log *slog.Logger) (warnings []string, err error) {
	if len(plan.volumes) == 0 {
		return nil, nil
	}
	counters.phase.Store("volumes")
	if len(plan.quiesce) > 0 {
		undo, stopErr := quiesce(ctx, eng, plan, log)
		// Deferred before the stop error is looked at: whatever the stop
		// may have reached is started again on every path.
		defer func() { err = errors.Join(err, undo()) }()
		if stopErr != nil {
			return nil, stopErr
		}
	}
	for _, v := range plan.volumes {
		rc, err := eng.ReadVolume(ctx, v.info.Name, plan.dbContainer.ImageID)
		if err != nil {
			return warnings, fmt.Errorf("capturing volume %s: %w", v.key, err)
		}
		// Read ahead, so the engine keeps producing the tar stream while
		// the archive writer hashes and compresses what came before.
		if ra, err := asyncreader.New(ctx, rc, volumeReadAhead); err == nil {
			rc = ra
		}
		res, err := aw.AddVolume(ctx, v.key, archive.VolumeRoot, &countingReader{r: rc, n: &counters.volumes})
		closeErr := rc.Close()
		if err == nil {
			err = closeErr
		}
		if err != nil {
			return warnings, fmt.Errorf("capturing volume %s: %w", v.key, err)
		}
		for _, s := range res.Skipped {
			warnings = append(warnings, fmt.Sprintf("volume %s: %s is a device or fifo, which cannot be restored through the Docker API; left out", v.key, s))
		}
		m.Volumes = append(m.Volumes, archive.Volume{
			Name: v.key, Docker: v.info.Name, Labels: v.info.Labels,
			Files: res.Files, Dirs: res.Dirs, Bytes: res.Bytes,
		})
		log.Info("volume captured", "volume", v.key, "files", res.Files, "dirs", res.Dirs, "bytes", res.Bytes)
	}
	return warnings, nil
}
