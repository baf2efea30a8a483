package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/rclone/rclone/fs/asyncreader"
)

// listFormat is find's -printf format of one entry: eleven fields, each
// ended by NUL, which no path can hold.
const listFormat = `%y\0%m\0%U\0%G\0%s\0%T@\0%C@\0%i\0%n\0%P\0%l\0`

const listFields = 11

// ErrNoListing says the helper image cannot list a volume (it has no GNU
// find): the volume can only be read whole.
var ErrNoListing = errors.New("the helper image has no GNU find to list the volume with")

// ListedEntry is one entry of a volume as find saw it.
type ListedEntry struct {
	// Path is below the volume's root, "" for the root itself.
	Path string
	// Type is find's %y: d, f, l; b, c, p and s are devices, fifos and
	// sockets, which no backup keeps.
	Type     byte
	Mode     int64 // permission bits with setuid, setgid and sticky
	UID, GID int
	Size     int64
	// MTime and CTime are in nanoseconds since the epoch.
	MTime, CTime int64
	Inode        uint64
	Links        int
	Link         string // a symlink's target
}

// VolumeReader lists and reads one volume (a VolumeSession).
type VolumeReader interface {
	List(ctx context.Context) ([]ListedEntry, error)
	ReadAll(ctx context.Context) (io.ReadCloser, error)
	ReadFiles(ctx context.Context, rels []string, fn func(hdr *tar.Header, content io.Reader) error) error
	Close()
}

// VolumeSession is one volume of a helper container that mounts a run's
// volumes read-only, for that run's listings and reads of them. The
// helper runs an idle command, and find and tar run in it as execs: one
// container start for the whole run, however many volumes and changed
// files, as a start costs the engine more than half a second of CPU.
type VolumeSession struct {
	h     *volumeHelper
	index int
	name  string
	// mount is where the helper sees the volume; its last element is
	// "volume", so that ReadAll's stream is the one ReadVolume gives.
	mount string
	once  sync.Once
}

// volumeHelper is the container the sessions of OpenVolumes share.
type volumeHelper struct {
	c      *Client
	id     string
	mounts []string
	start  sync.Once
	// startErr says why the helper cannot run commands (no sleep, or no
	// shell tools in the image): then only ReadAll works.
	startErr error
	list     sync.Once
	listed   [][]ListedEntry
	listErr  error
	open     atomic.Int32 // sessions not closed yet
}

// OpenVolume opens one volume's session (see OpenVolumes).
func (c *Client) OpenVolume(ctx context.Context, name, image string) (VolumeReader, error) {
	s, err := c.OpenVolumes(ctx, []string{name}, image)
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// OpenVolumes makes one helper for the named volumes and returns a
// session on each. image is a local image; listing and reading single
// files need GNU find and GNU tar in it (any Debian or Ubuntu based image
// has them), ReadAll needs nothing. The helper is removed once every
// session is closed.
func (c *Client) OpenVolumes(ctx context.Context, names []string, image string) ([]VolumeReader, error) {
	if len(names) == 0 {
		return nil, nil
	}
	mounts := make([]string, len(names))
	for i := range names {
		mounts[i] = fmt.Sprintf("/dr/%d%s", i, volumeMountPoint)
	}
	id, err := c.createHelper(ctx, names, mounts, image, true, "0", []string{"sleep", "infinity"})
	if err != nil {
		return nil, err
	}
	h := &volumeHelper{c: c, id: id, mounts: mounts}
	h.open.Store(int32(len(names)))
	out := make([]VolumeReader, len(names))
	for i, name := range names {
		out[i] = &VolumeSession{h: h, index: i, name: name, mount: mounts[i]}
	}
	return out, nil
}

// Close ends the session; the last one removes the helper.
func (s *VolumeSession) Close() {
	s.once.Do(func() {
		if s.h.open.Add(-1) == 0 {
			s.h.c.removeHelper(context.Background(), s.h.id)
		}
	})
}

// run starts the helper once, for the commands of List and ReadFiles.
func (h *volumeHelper) run(ctx context.Context) error {
	h.start.Do(func() {
		if err := h.c.api.ContainerStart(ctx, h.id, container.StartOptions{}); err != nil {
			h.startErr = fmt.Errorf("starting the helper: %v: %w", err, ErrNoListing)
		}
	})
	return h.startErr
}

// listAll runs one find over every volume of the helper, once.
func (h *volumeHelper) listAll(ctx context.Context) ([][]ListedEntry, error) {
	h.list.Do(func() {
		if err := h.run(ctx); err != nil {
			h.listErr = err
			return
		}
		var out bytes.Buffer
		cmd := append(append([]string{"find"}, h.mounts...), "-printf", listFormat)
		res, err := h.c.Exec(ctx, h.id, ExecOptions{Cmd: cmd, Stdout: &out, StderrLimit: 4 << 10})
		if err != nil {
			h.listErr = err
			return
		}
		if res.ExitCode != 0 {
			// busybox find refuses -printf; an image without find cannot
			// run it (exit code 126 or 127).
			h.listErr = fmt.Errorf("%w (%w)", res.Err("find"), ErrNoListing)
			return
		}
		h.listed, h.listErr = ParseListings(out.Bytes(), len(h.mounts))
	})
	return h.listed, h.listErr
}

// List returns every entry of the volume, the root first: the helper's
// one find over all its volumes. An image without GNU find gives
// ErrNoListing.
func (s *VolumeSession) List(ctx context.Context) ([]ListedEntry, error) {
	listed, err := s.h.listAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing volume %s: %w", s.name, err)
	}
	return listed[s.index], nil
}

// ReadAll streams the whole volume as a tar archive, as ReadVolume does:
// the engine's own archive endpoint, which needs nothing of the image.
func (s *VolumeSession) ReadAll(ctx context.Context) (io.ReadCloser, error) {
	rc, _, err := s.h.c.api.CopyFromContainer(ctx, s.h.id, s.mount)
	if err != nil {
		return nil, fmt.Errorf("reading volume %s: %w", s.name, err)
	}
	return rc, nil
}

// ReadFiles reads the regular files rels (paths below the volume's root)
// with one tar in the helper, and calls fn with each one's tar header
// (named by its path) and content, in tar's order. A file removed since
// the listing is left out, not an error.
func (s *VolumeSession) ReadFiles(ctx context.Context, rels []string, fn func(*tar.Header, io.Reader) error) error {
	if err := s.h.run(ctx); err != nil {
		return fmt.Errorf("reading volume %s: %w", s.name, err)
	}
	var list bytes.Buffer
	for _, r := range rels {
		list.WriteString(r)
		list.WriteByte(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		res, err := s.h.c.Exec(ctx, s.h.id, ExecOptions{
			Cmd: []string{"tar", "-c", "-f", "-", "-C", s.mount, "--format=posix", "--xattrs",
				"--no-recursion", "--ignore-failed-read", "--null", "-T", "-"},
			Stdin: &list, Stdout: pw, StderrLimit: 4 << 10,
		})
		if err == nil && res.ExitCode != 0 {
			// With --ignore-failed-read a file gone since the listing is
			// a warning (exit code 0); anything else is a failure.
			err = res.Err("tar")
		}
		pw.CloseWithError(err)
		done <- err
	}()
	// Read ahead, so that tar goes on while a file waits for the caller.
	var src io.Reader = pr
	if ra, err := asyncreader.New(ctx, pr, 8); err == nil {
		defer ra.Abandon()
		src = ra
	}
	tr := tar.NewReader(src)
	var readErr error
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("reading volume %s: %w", s.name, err)
			break
		}
		if hdr.Typeflag != tar.TypeReg {
			continue // changed into something else since the listing
		}
		hdr.Name = strings.TrimPrefix(path.Clean(hdr.Name), "./")
		if err := fn(hdr, tr); err != nil {
			readErr = err
			break
		}
	}
	if readErr != nil {
		cancel()
		pr.CloseWithError(readErr)
		<-done
		return readErr
	}
	io.Copy(io.Discard, src)
	if err := <-done; err != nil {
		return fmt.Errorf("reading volume %s: %w", s.name, err)
	}
	return nil
}

// ParseListings reads one find's output in listFormat over n volumes,
// each listed from its root (the only entries with an empty path). It is
// outside input (a helper's output over volumes anyone in the stack can
// write to): anything but whole, well-formed entries, n roots and the
// first entry a root is an error.
func ParseListings(data []byte, n int) ([][]ListedEntry, error) {
	if len(data) == 0 {
		return nil, errors.New("the listing is empty: find did not even list the volume's root")
	}
	if data[len(data)-1] != 0 {
		return nil, errors.New("the listing was cut short")
	}
	fields := strings.Split(string(data[:len(data)-1]), "\x00")
	if len(fields)%listFields != 0 {
		return nil, fmt.Errorf("the listing has %d fields, not a multiple of %d", len(fields), listFields)
	}
	var out [][]ListedEntry
	for i := 0; i < len(fields); i += listFields {
		e, err := parseListed(fields[i : i+listFields])
		if err != nil {
			return nil, fmt.Errorf("listing entry %d: %w", i/listFields+1, err)
		}
		if e.Path == "" {
			if len(out) == n {
				return nil, fmt.Errorf("listing entry %d: a root of more than the %d volume(s) listed", i/listFields+1, n)
			}
			out = append(out, nil)
		} else if len(out) == 0 {
			return nil, fmt.Errorf("listing entry %d: the first entry is not the volume's root", i/listFields+1)
		}
		out[len(out)-1] = append(out[len(out)-1], e)
	}
	if len(out) != n {
		return nil, fmt.Errorf("the listing has the roots of %d volume(s), not %d", len(out), n)
	}
	return out, nil
}

func parseListed(f []string) (ListedEntry, error) {
	var e ListedEntry
	if len(f[0]) != 1 {
		return e, fmt.Errorf("bad type %q", f[0])
	}
	e.Type = f[0][0]
	mode, err := strconv.ParseInt(f[1], 8, 64)
	if err != nil || mode < 0 || mode > 0o7777 {
		return e, fmt.Errorf("bad mode %q", f[1])
	}
	e.Mode = mode
	if e.UID, err = strconv.Atoi(f[2]); err != nil || e.UID < 0 {
		return e, fmt.Errorf("bad uid %q", f[2])
	}
	if e.GID, err = strconv.Atoi(f[3]); err != nil || e.GID < 0 {
		return e, fmt.Errorf("bad gid %q", f[3])
	}
	if e.Size, err = strconv.ParseInt(f[4], 10, 64); err != nil || e.Size < 0 {
		return e, fmt.Errorf("bad size %q", f[4])
	}
	if e.MTime, err = parseFindTime(f[5]); err != nil {
		return e, err
	}
	if e.CTime, err = parseFindTime(f[6]); err != nil {
		return e, err
	}
	if e.Inode, err = strconv.ParseUint(f[7], 10, 64); err != nil {
		return e, fmt.Errorf("bad inode %q", f[7])
	}
	if e.Links, err = strconv.Atoi(f[8]); err != nil || e.Links < 0 {
		return e, fmt.Errorf("bad link count %q", f[8])
	}
	e.Path, e.Link = f[9], f[10]
	if e.Path != "" && (strings.HasPrefix(e.Path, "/") || path.Clean(e.Path) != e.Path || e.Path == ".." || strings.HasPrefix(e.Path, "../")) {
		return e, fmt.Errorf("bad path %q", e.Path)
	}
	return e, nil
}

// parseFindTime reads find's %T@ (seconds, a dot, up to nine digits).
func parseFindTime(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 10 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	frac = (frac + "000000000")[:9]
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || ns < 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	if secs > (1<<62)/int64(time.Second) || secs < -(1<<62)/int64(time.Second) {
		return 0, fmt.Errorf("time %q out of range", s)
	}
	return secs*int64(time.Second) + ns, nil
}
