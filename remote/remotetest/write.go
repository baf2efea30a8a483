package remotetest

import "io"

// WriteUneven writes data to w in writes of uneven sizes (1 byte up to
// about 70 KiB), as a compressor hands over its blocks, and stops at the
// first error, which it returns.
func WriteUneven(w io.Writer, data []byte) error {
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+(off%70000))
		if _, err := w.Write(data[off : off+n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}
