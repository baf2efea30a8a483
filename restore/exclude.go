package restore

import (
	"archive/tar"
	"slices"
)

// excluded says whether a volume entry is one the request leaves out:
// named in Request.Exclude, or a hard link to such a file (its target
// is not written, so the link could not be made).
func (r Request) excluded(hdr *tar.Header) bool {
	if len(r.Exclude) == 0 {
		return false
	}
	return slices.Contains(r.Exclude, hdr.Name) || (hdr.Typeflag == tar.TypeLink && slices.Contains(r.Exclude, hdr.Linkname))
}
