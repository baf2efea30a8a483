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

// VolumeFile is one entry of a volume's tar stream as the engine makes
// it, placed below the volume's root.
type VolumeFile struct {
	// Rel is the path below the root ("" for the root itself).
	Rel    string
	Header *tar.Header
	// Link is a hard link's target, below the root.
	Link string
	// Content reads a regular file's bytes (nil for other kinds).
	Content io.Reader
}

// WalkVolume is the one walk of a volume's tar stream (engine.ReadVolume's,
// whose entries all sit under root): it calls fn with each entry, in the
// stream's order, after checking that it stays below root. A regular
// file's content not read by fn is skipped.
func WalkVolume(ctx context.Context, r io.Reader, root string, fn func(VolumeFile) error) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, ok := relativeTo(root, hdr.Name)
		if !ok {
			return fmt.Errorf("entry %q is outside %s/", hdr.Name, root)
		}
		f := VolumeFile{Rel: rel, Header: hdr}
		switch hdr.Typeflag {
		case tar.TypeLink:
			target, ok := relativeTo(root, hdr.Linkname)
			if !ok || target == "" {
				return fmt.Errorf("hard link %q points outside the volume (%q)", hdr.Name, hdr.Linkname)
			}
			f.Link = target
		case tar.TypeReg:
			f.Content = tr
		}
		if err := fn(f); err != nil {
			return err
		}
	}
}

// AddVolume copies a volume's tar stream, whose entries all sit under
// root ("volume/…" as the engine makes it), into the archive under
// volumes/<name>/, contents included, keeping modes, owners, times,
// extended attributes, symlinks, hard links and empty directories, and
// recording every entry (a sha256 for each regular file). Memory stays
// bounded: file contents stream through.
func (w *Writer) AddVolume(ctx context.Context, name, root string, r io.Reader) (*VolumeResult, error) {
	if err := checkVolumeName(name); err != nil {
		return nil, err
	}
	res := &VolumeResult{}
	err := WalkVolume(ctx, r, root, func(f VolumeFile) error {
		nh, entry, ok := volumeEntry(name, f.Header, f.Rel, f.Link, res)
		if !ok {
			return nil
		}
		if nh.Typeflag == tar.TypeReg {
			nh.Size, entry.Size = f.Header.Size, f.Header.Size
			res.Bytes += f.Header.Size
		}
		if err := w.claim(strings.TrimSuffix(nh.Name, "/")); err != nil {
			return err
		}
		if err := w.tw.WriteHeader(nh); err != nil {
			return fmt.Errorf("writing archive entry %s: %w", nh.Name, err)
		}
		if nh.Typeflag == tar.TypeReg {
			h := sha256.New()
			n, err := io.Copy(w.tw, io.TeeReader(f.Content, h))
			if err != nil {
				return fmt.Errorf("copying %s of volume %s: %w", f.Rel, name, err)
			}
			if n != nh.Size {
				return fmt.Errorf("copying %s of volume %s: read %d of %d bytes", f.Rel, name, n, nh.Size)
			}
			entry.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		w.entries = append(w.entries, entry)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading volume %s: %w", name, err)
	}
	return res, nil
}

// volumeEntry makes the archive's tar header and manifest entry of one
// entry of volume (hdr, at rel below the volume's root; link is a hard
// link's target below it) and counts it in res. A regular file's size and
// sha256 are the caller's to set. ok is false for devices and fifos,
// which res lists as skipped.
func volumeEntry(volume string, hdr *tar.Header, rel, link string, res *VolumeResult) (nh *tar.Header, entry Entry, ok bool) {
	out := VolumePrefix(volume) + rel
	entry = Entry{Name: out, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid}
	nh = &tar.Header{
		Name: out, Mode: hdr.Mode, Uid: hdr.Uid, Gid: hdr.Gid, Uname: hdr.Uname, Gname: hdr.Gname,
		ModTime: hdr.ModTime, PAXRecords: XattrRecords(hdr.PAXRecords), Format: tar.FormatPAX,
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
		nh.Typeflag, entry.Kind = tar.TypeLink, KindHardlink
		nh.Linkname = VolumePrefix(volume) + link
		entry.Link = nh.Linkname
		res.Files++
	case tar.TypeReg:
		nh.Typeflag, entry.Kind = tar.TypeReg, KindFile
		res.Files++
	default:
		res.Skipped = append(res.Skipped, out)
		return nil, Entry{}, false
	}
	return nh, entry, true
}

func checkVolumeName(name string) error {
	if err := checkName(VolumePrefix(name)); err != nil || strings.Contains(name, "/") {
		return fmt.Errorf("volume name %q cannot be an archive directory", name)
	}
	return nil
}

// StoredEntry is one entry of a volume whose file contents are stored as
// blobs (format 3): its tar header, named below the volume's root (a
// hard link's Linkname too), and for a regular file its content's size,
// sha256 and blob ("" for an empty file, which the archive holds).
type StoredEntry struct {
	Header *tar.Header
	Size   int64
	SHA256 string
	Blob   string
}

// AddStoredVolume records a volume whose file contents are already
// stored as blobs: each entry's tar header goes into the archive, a
// file's with no content, and the manifest entry names the blob.
// Entries come in the order a restore creates them (a directory before
// what it holds, a hard link after its target).
func (w *Writer) AddStoredVolume(name string, entries []StoredEntry) (*VolumeResult, error) {
	if err := checkVolumeName(name); err != nil {
		return nil, err
	}
	res := &VolumeResult{}
	for _, se := range entries {
		hdr := se.Header
		if hdr.Name != "" {
			if err := checkName(VolumePrefix(name) + hdr.Name); err != nil {
				return nil, fmt.Errorf("volume %s: %w", name, err)
			}
		}
		nh, entry, ok := volumeEntry(name, hdr, hdr.Name, hdr.Linkname, res)
		if !ok {
			return nil, fmt.Errorf("volume %s: %s is neither a file, a directory nor a link", name, hdr.Name)
		}
		entry.MTime = hdr.ModTime.Unix()
		if nh.Typeflag == tar.TypeReg {
			// The content is the blob's: the archive's entry is empty.
			entry.Size, entry.SHA256, entry.Blob = se.Size, se.SHA256, se.Blob
			if se.Blob == "" && se.Size != 0 {
				return nil, fmt.Errorf("volume %s: %s has %d bytes and no blob", name, hdr.Name, se.Size)
			}
			res.Bytes += se.Size
		}
		if err := w.claim(strings.TrimSuffix(nh.Name, "/")); err != nil {
			return nil, err
		}
		if err := w.tw.WriteHeader(nh); err != nil {
			return nil, fmt.Errorf("writing archive entry %s: %w", nh.Name, err)
		}
		w.entries = append(w.entries, entry)
	}
	return res, nil
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

// XattrRecords keeps the extended attributes of a PAX header (file
// capabilities, ACLs) and drops the rest, which the tar writer sets itself.
func XattrRecords(in map[string]string) map[string]string {
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
