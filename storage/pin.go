package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/remote"
)

// MaxNoteLen bounds a pin's note, in bytes: it is one line of dr list.
const MaxNoteLen = 200

// maxPinSize bounds a pin object read from a remote.
const maxPinSize = 4 << 10

// PinInfo is what a pin object says: when the backup was pinned and why.
type PinInfo struct {
	At   time.Time
	Note string
}

// CheckNote refuses a note that dr list could not show as one line. The
// note is stored unencrypted beside the backup, whatever the backup's
// encryption: it says why a backup is kept, never anything secret.
func CheckNote(note string) error {
	switch {
	case !utf8.ValidString(note):
		return errors.New("the note is not valid UTF-8")
	case len(note) > MaxNoteLen:
		return fmt.Errorf("the note is %d bytes, more than %d: keep it to a line such as \"before 1.8.1\"", len(note), MaxNoteLen)
	case strings.IndexFunc(note, unicode.IsControl) >= 0:
		return errors.New("the note holds a line break or another control character: give it as one line")
	}
	return nil
}

// pinBody is a pin object's content: its first line is what pins have
// always held, so older dr versions read it as before.
func pinBody(at time.Time, note string) []byte {
	body := fmt.Sprintf("pinned %s\n", at.UTC().Format(time.RFC3339))
	if note != "" {
		body += "note: " + note + "\n"
	}
	return []byte(body)
}

// parsePin reads a pin object's content. A pin is outside input (anyone
// who can write to the destination can write one), so a note that fails
// CheckNote is cleaned rather than printed as it is.
func parsePin(data []byte) PinInfo {
	var p PinInfo
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		if t, ok := strings.CutPrefix(line, "pinned "); ok {
			p.At, _ = time.Parse(time.RFC3339, t)
		}
		if n, ok := strings.CutPrefix(line, "note: "); ok {
			p.Note = cleanNote(n)
		}
	}
	return p
}

func cleanNote(n string) string {
	n = strings.ToValidUTF8(n, "?")
	n = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, n)
	if len(n) > MaxNoteLen {
		n = strings.ToValidUTF8(n[:MaxNoteLen], "")
	}
	return n
}

// PinWithNote writes the pin object that keeps a backup from retention,
// with a note saying why (empty: none). Pins are written once, so that
// append-only buckets work: when the backup is pinned already, nothing is
// written and the existing pin is returned, its note unchanged (dr unpin,
// then dr pin, changes it).
func (d *Destination) PinWithNote(ctx context.Context, name string, at time.Time, note string) (*PinInfo, error) {
	if err := CheckNote(note); err != nil {
		return nil, fmt.Errorf("pinning %s: %w", name, err)
	}
	if _, err := d.ReadSidecar(ctx, name); err != nil {
		return nil, fmt.Errorf("pinning %s on %q: %w", name, d.Name(), err)
	}
	pin := archive.PinName(name)
	if o, err := d.r.Stat(ctx, pin); err == nil {
		p, err := d.readPin(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("pinning %s on %q: it is pinned already, but %w", name, d.Name(), err)
		}
		return &p, nil
	} else if !errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("pinning %s on %q: %w", name, d.Name(), err)
	}
	err := d.r.PutOnce(ctx, pin, pinBody(at, note), at)
	if errors.Is(err, remote.ErrNameTaken) {
		// Pinned meanwhile by another run: its pin stands.
		if o, oerr := d.r.Stat(ctx, pin); oerr == nil {
			if p, rerr := d.readPin(ctx, o); rerr == nil {
				return &p, nil
			}
		}
		return &PinInfo{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pinning %s on %q: %w", name, d.Name(), err)
	}
	return nil, nil
}

// ReadPin reads a backup's pin; nil when it is not pinned.
func (d *Destination) ReadPin(ctx context.Context, name string) (*PinInfo, error) {
	o, err := d.r.Stat(ctx, archive.PinName(name))
	if errors.Is(err, remote.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the pin of %s on %q: %w", name, d.Name(), err)
	}
	p, err := d.readPin(ctx, o)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (d *Destination) readPin(ctx context.Context, o remote.Object) (PinInfo, error) {
	if o.Size() > maxPinSize {
		return PinInfo{}, fmt.Errorf("pin %s is %d bytes, more than a pin can be", o.Name(), o.Size())
	}
	data, err := d.r.ReadAll(ctx, o, maxPinSize)
	if err != nil {
		return PinInfo{}, fmt.Errorf("reading pin %s: %w", o.Name(), err)
	}
	return parsePin(data), nil
}

// pinNote is the note of a listed pin, "" when there is none or it cannot
// be read: the pin's presence, not its note, is what keeps the backup.
func (d *Destination) pinNote(ctx context.Context, o remote.Object, pinned bool) string {
	if !pinned {
		return ""
	}
	p, err := d.readPin(ctx, o)
	if err != nil {
		return ""
	}
	return p.Note
}

// Pinned keeps the pinned entries, in their order.
func Pinned(entries []CatalogEntry) []CatalogEntry {
	var out []CatalogEntry
	for _, e := range entries {
		if e.Pinned {
			out = append(out, e)
		}
	}
	return out
}
