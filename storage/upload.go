package storage

import (
	"context"

	"github.com/appwrite-dr/dr/remote"
)

// Upload streams one archive to several destinations at once (see
// remote.Upload) and commits it on each as soon as its copy verified.
type Upload struct {
	*remote.Upload
	dests map[*remote.Remote]*Destination
}

// NewUpload starts one streamed put per destination, all named
// objectName. A destination that already holds anything of that backup
// (its archive of either kind, its sidecar or its pin) fails with
// remote.ErrNameTaken and is never written to, nor is anything deleted
// there (see FreeName for choosing a free name first).
func NewUpload(ctx context.Context, dests []*Destination, objectName string) *Upload {
	remotes := make([]*remote.Remote, len(dests))
	byRemote := make(map[*remote.Remote]*Destination, len(dests))
	for i, d := range dests {
		remotes[i] = d.r
		byRemote[d.r] = d
	}
	taken := related(objectName)[1:]
	return &Upload{Upload: remote.NewUpload(ctx, remotes, objectName, taken), dests: byRemote}
}

// Finish is Close with a commit: committed is called for each
// destination as soon as its own copy verified (see
// remote.Upload.Finish).
func (u *Upload) Finish(committed func(d *Destination, r remote.UploadResult) error) error {
	if committed == nil {
		return u.Upload.Finish(nil)
	}
	return u.Upload.Finish(func(r *remote.Remote, res remote.UploadResult) error {
		return committed(u.dests[r], res)
	})
}
