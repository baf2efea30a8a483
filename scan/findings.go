package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/appwrite-dr/dr/internal/iocount"
)

// Report is what scanning a backup's files found. It is part of drill
// reports, so its JSON names are kept.
type Report struct {
	// Scanner is the clamd scanned with.
	Scanner string   `json:"scanner"`
	Volumes []string `json:"volumes"`
	// Files and Bytes count the files clamd gave a verdict on.
	Files    int64      `json:"files"`
	Bytes    int64      `json:"bytes"`
	Infected []Infected `json:"infected,omitempty"`
	// Unscanned are files clamd refused (too large, say): not known clean.
	Unscanned []Unscanned `json:"unscanned,omitempty"`
	// Error is why scanning stopped before the last file: the scanner
	// went away. The files after it were not scanned.
	Error string `json:"error,omitempty"`
}

// Infected is one file clamd found a signature in.
type Infected struct {
	// File is the archive entry, volumes/<volume>/<path>.
	File      string `json:"file"`
	Signature string `json:"signature"`
}

// Unscanned is one file clamd could not scan.
type Unscanned struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// File scans one file's content, read from r, and records the verdict. A
// file clamd refuses is recorded as unscanned and nil is returned; any
// other failure means the scanner is gone: it is recorded and returned,
// and the caller scans no more. r may be left partly read.
func (rep *Report) File(ctx context.Context, s Scanner, name string, r io.Reader) error {
	if rep.Error != "" {
		return errors.New(rep.Error)
	}
	cr := &iocount.Reader{R: r}
	v, err := s.Scan(ctx, cr)
	var re *ReplyError
	switch {
	case errors.As(err, &re):
		rep.Unscanned = append(rep.Unscanned, Unscanned{File: name, Reason: re.Error()})
		return nil
	case err != nil:
		err = fmt.Errorf("scanning %s: %w", name, err)
		rep.Error = err.Error()
		return err
	}
	rep.Files++
	rep.Bytes += cr.N
	if v.Infected {
		rep.Infected = append(rep.Infected, Infected{File: name, Signature: v.Signature})
	}
	return nil
}

// Clean says every file was scanned and none is infected.
func (rep *Report) Clean() bool {
	return rep.Error == "" && len(rep.Infected) == 0 && len(rep.Unscanned) == 0
}

// InfectedFiles are the archive entries found infected.
func (rep *Report) InfectedFiles() []string {
	out := make([]string, len(rep.Infected))
	for i, f := range rep.Infected {
		out[i] = f.File
	}
	return out
}

// Summary is one line for a report or a log.
func (rep *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d files (%d bytes) of %s scanned with clamd at %s", rep.Files, rep.Bytes, strings.Join(rep.Volumes, ", "), rep.Scanner)
	if len(rep.Infected) == 0 {
		b.WriteString(": none infected")
	}
	for i, f := range rep.Infected {
		if i == 0 {
			fmt.Fprintf(&b, ": %d infected: ", len(rep.Infected))
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", f.File, f.Signature)
	}
	for i, f := range rep.Unscanned {
		if i == 0 {
			fmt.Fprintf(&b, "; %d not scanned: ", len(rep.Unscanned))
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", f.File, f.Reason)
	}
	if rep.Error != "" {
		b.WriteString("; scanning stopped: " + rep.Error)
	}
	return b.String()
}
