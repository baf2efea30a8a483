package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/storage"
)

// writeVolumes captures every configured volume, with the
// stop_during_backup services stopped for the time it takes and started
// again afterwards, whatever happens: each file's content goes to the
// destinations as a blob where they lack it (see capture), and its tar
// header into the archive. It returns warnings (entries that cannot be
// kept) besides the error.
func writeVolumes(ctx context.Context, eng Engine, aw *archive.Writer, plan *stackPlan, m *archive.Manifest, c *capture, ahead *listings, full bool, log *slog.Logger) (warnings []string, err error) {
	if len(plan.volumes) == 0 {
		return nil, nil
	}
	if err := c.awaitHeld(ctx); err != nil {
		return nil, err
	}
	if len(plan.quiesce) > 0 {
		undo, stopErr := quiesce(ctx, eng, plan, log)
		// Deferred before the stop error is looked at: whatever the stop
		// may have reached is started again on every path.
		defer func() { err = errors.Join(err, undo()) }()
		if stopErr != nil {
			return nil, stopErr
		}
	}
	if ahead == nil {
		// Listed once the services stopped.
		ahead = listVolumes(ctx, eng, plan)
		defer ahead.close()
	}
	for i, v := range plan.volumes {
		l := ahead.get(i)
		if l.openErr != nil {
			return warnings, fmt.Errorf("capturing volume %s: %w", v.key, l.openErr)
		}
		entries, st, w, err := c.volume(ctx, l.sess, l.entries, l.listErr, v.key, full)
		// Removed while the archive is finished and committed; the run
		// waits for it before it returns.
		c.removing.Go(l.sess.Close)
		warnings = append(warnings, w...)
		if err != nil {
			return warnings, fmt.Errorf("capturing volume %s: %w", v.key, err)
		}
		if st.listingFallback {
			warnings = append(warnings, fmt.Sprintf("volume %s: the database image has no GNU find to list it with, so every backup reads the whole volume (contents a destination holds are still not stored again)", v.key))
		}
		res, err := aw.AddStoredVolume(v.key, entries)
		if err != nil {
			return warnings, fmt.Errorf("capturing volume %s: %w", v.key, err)
		}
		m.Volumes = append(m.Volumes, archive.Volume{
			Name: v.key, Docker: v.info.Name, Labels: v.info.Labels,
			Files: res.Files, Dirs: res.Dirs, Bytes: res.Bytes,
			ReadFiles: st.read, ReadBytes: st.readBytes,
		})
		log.Info("volume captured", "volume", v.key, "files", res.Files, "dirs", res.Dirs, "bytes", res.Bytes,
			"read_files", st.read, "read_bytes", st.readBytes, "stored_blobs", st.stored, "stored_bytes", st.storedBytes)
	}
	return warnings, nil
}

// listed is a volume's helper and what its listing gave.
type listed struct {
	sess    engine.VolumeReader
	entries []engine.ListedEntry
	// openErr says the helper could not be made; listErr that the
	// volume could not be listed (engine.ErrNoListing: read it whole).
	openErr, listErr error
}

// listings are the volumes' listings, made in the background through
// one helper for all of them; made while the database is dumped, the dump
// and the listing are then what an unchanged backup costs, side by side
// rather than one after the other.
type listings struct {
	done []chan *listed
	got  []*listed
}

// listAhead lists every volume in the background, unless services are
// stopped for the capture: their files must be listed once they stopped.
// Nil when not listing ahead.
func listAhead(ctx context.Context, eng Engine, plan *stackPlan) *listings {
	if len(plan.volumes) == 0 || len(plan.quiesce) > 0 {
		return nil
	}
	return listVolumes(ctx, eng, plan)
}

// listVolumes opens one helper on every volume of the plan and lists
// each in the background.
func listVolumes(ctx context.Context, eng Engine, plan *stackPlan) *listings {
	l := &listings{got: make([]*listed, len(plan.volumes))}
	names := make([]string, len(plan.volumes))
	for i, v := range plan.volumes {
		names[i] = v.info.Name
		l.done = append(l.done, make(chan *listed, 1))
	}
	go func() {
		sessions, err := eng.OpenVolumes(ctx, names, plan.dbContainer.ImageID)
		for i := range names {
			if err != nil {
				l.done[i] <- &listed{openErr: err}
				continue
			}
			entries, listErr := sessions[i].List(ctx)
			l.done[i] <- &listed{sess: sessions[i], entries: entries, listErr: listErr}
		}
	}()
	return l
}

// get waits for volume i's listing; nil when none was made ahead.
func (l *listings) get(i int) *listed {
	if l == nil {
		return nil
	}
	if l.got[i] == nil {
		l.got[i] = <-l.done[i]
	}
	return l.got[i]
}

// close removes the helper of listings nobody used (a failed dump): the
// sessions not handed to a capture.
func (l *listings) close() {
	if l == nil {
		return
	}
	for i := range l.done {
		if got := l.get(i); got.sess != nil {
			got.sess.Close()
		}
	}
}

// prepareCapture loads what an incremental capture compares against: the
// stack's blob key (a new one for a full backup, or when the key is older
// than volumes.full_every) and the index of the last capture. What each
// destination holds is listed in the background, while the database is
// dumped (see capture.awaitHeld).
func prepareCapture(ctx context.Context, cfg *config.Config, stack string, dests []*storage.Destination, enc *archive.BlobEncoder, full bool, at time.Time, readBy *atomic.Int64, log *slog.Logger) (*capture, error) {
	key, fresh, err := loadKey(cfg.StateDir, stack, full, time.Duration(cfg.Volumes.FullEvery), at)
	if err != nil {
		return nil, err
	}
	index, why := loadIndex(cfg.StateDir, stack)
	switch {
	case full:
		log.Info("full backup: every volume file is read and stored again")
	case fresh && why == "":
		log.Info("full backup: the blob key is older than volumes.full_every, so every volume file is read and stored again", "full_every", cfg.Volumes.FullEvery)
	case why != "":
		log.Info("every volume file is read: "+why+"; contents a destination holds are not stored again", "state_dir", cfg.StateDir)
	}
	c := newCapture(stack, key.Key, enc, dests, index, readBy, log)
	c.listHeld(ctx)
	return c, nil
}
