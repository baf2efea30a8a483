package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// KindHardlink is a hard link to an earlier entry of the same volume.
const KindHardlink EntryKind = "hardlink"

// VolumeRoot is the top directory of the tar stream the engine's archive
// endpoint makes of a volume mounted at /volume (see engine.ReadVolume).
const VolumeRoot = "volume"

// VolumePrefix is where volume name's entries live in the archive.
func VolumePrefix(name string) string { return VolumesPrefix + name + "/" }

// VolumeResult is what AddVolume copied.
type VolumeResult struct {
	Files, Dirs, Bytes int64
	// Skipped lists entries that cannot be restored through the engine's
	// archive endpoint (devices, fifos) and were left out.
	Skipped []string
}

// AddVolume copies a volume's tar stream, whose entries all sit under
// root ("volume/…" as the engine makes it), into the archive under
// volumes/<name>/, keeping modes, owners, times, extended attributes,
// symlinks, hard links and empty directories, and recording every entry
// (a sha256 for each regular file). Memory stays bounded: file contents
// stream through.
func (w *Writer) AddVolume(ctx context.Context, name, root string, r io.Reader) (*VolumeResult, error) {
	if err := checkName(VolumePrefix(name)); err != nil || strings.Contains(name, "/") {
		return nil, fmt.Errorf("volume name %q cannot be an archive directory", name)
	}
	res := &VolumeResult{}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading volume %s: %w", name, err)
		}
		rel, ok := relativeTo(root, hdr.Name)
		if !ok {
			return nil, fmt.Errorf("reading volume %s: entry %q is outside %s/", name, hdr.Name, root)
		}
		out := VolumePrefix(name) + rel
		entry := Entry{Name: out, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid}
		nh := &tar.Header{
			Name: out, Mode: hdr.Mode, Uid: hdr.Uid, Gid: hdr.Gid, Uname: hdr.Uname, Gname: hdr.Gname,
			ModTime: hdr.ModTime, PAXRecords: xattrRecords(hdr.PAXRecords), Format: tar.FormatPAX,
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if !strings.HasSuffix(out, "/") {
				out += "/"
			}
			nh.Name, entry.Name = out, out
			nh.Typeflag, entry.Kind = tar.TypeDir, KindDir
			res.Dirs++
		case tar.TypeSymlink:
			nh.Typeflag, entry.Kind = tar.TypeSymlink, KindSymlink
			nh.Linkname, entry.Link = hdr.Linkname, hdr.Linkname
		case tar.TypeLink:
			target, ok := relativeTo(root, hdr.Linkname)
			if !ok || target == "" {
				return nil, fmt.Errorf("reading volume %s: hard link %q points outside the volume (%q)", name, hdr.Name, hdr.Linkname)
			}
			nh.Typeflag, entry.Kind = tar.TypeLink, KindHardlink
			nh.Linkname = VolumePrefix(name) + target
			entry.Link = nh.Linkname
			res.Files++
		case tar.TypeReg:
			nh.Typeflag, entry.Kind = tar.TypeReg, KindFile
			nh.Size, entry.Size = hdr.Size, hdr.Size
			res.Files++
			res.Bytes += hdr.Size
		default:
			res.Skipped = append(res.Skipped, out)
			continue
		}
		if err := w.claim(strings.TrimSuffix(nh.Name, "/")); err != nil {
			return nil, err
		}
		if err := w.tw.WriteHeader(nh); err != nil {
			return nil, fmt.Errorf("writing archive entry %s: %w", nh.Name, err)
		}
		if nh.Typeflag == tar.TypeReg {
			h := sha256.New()
			n, err := io.Copy(w.tw, io.TeeReader(tr, h))
			if err != nil {
				return nil, fmt.Errorf("copying %s of volume %s: %w", rel, name, err)
			}
			if n != hdr.Size {
				return nil, fmt.Errorf("copying %s of volume %s: read %d of %d bytes", rel, name, n, hdr.Size)
			}
			entry.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		w.entries = append(w.entries, entry)
	}
}

// relativeTo returns name's path below root ("" for root itself), or false
// when name is not below root.
func relativeTo(root, name string) (string, bool) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	switch {
	case clean == root:
		return "", true
	case strings.HasPrefix(clean, root+"/"):
		rel := strings.TrimPrefix(clean, root+"/")
		if checkName(rel) != nil {
			return "", false
		}
		return rel, true
	}
	return "", false
}

// xattrRecords keeps the extended attributes of a PAX header (file
// capabilities, ACLs) and drops the rest, which the tar writer sets itself.
func xattrRecords(in map[string]string) map[string]string {
	var out map[string]string
	for k, v := range in {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
