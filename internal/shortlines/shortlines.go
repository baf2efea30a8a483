// Package shortlines reads a client's output for its short lines (a tag,
// a marker) as it streams by, with bounded memory: a line longer than the
// limit is passed over whole, never cut into a short one.
package shortlines

import "bytes"

// Writer calls Line for every line of at most Max bytes (without its
// newline) written to it; a last line without a newline is not seen.
// Writes never fail.
type Writer struct {
	Max  int
	Line func(line []byte)

	line []byte
	long bool
}

func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		if !w.long && len(w.line)+len(part) <= w.Max {
			w.line = append(w.line, part...)
		} else {
			w.long = true
		}
		if i < 0 {
			break
		}
		if !w.long {
			w.Line(w.line)
		}
		w.line, w.long = w.line[:0], false
		p = p[i+1:]
	}
	return n, nil
}
