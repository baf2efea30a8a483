package archive

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
)

// TestChunkSpoolGivesBackWhatItHeld: each chunk comes out as it went in,
// whatever the pieces it was written in, compressible or not, and a
// spool used again (its block buffers reused) gives the new chunk, not
// the old one's bytes.
func TestChunkSpoolGivesBackWhatItHeld(t *testing.T) {
	random := make([]byte, 3*spoolBlock+123)
	rand.Read(random)
	var text bytes.Buffer
	for i := 0; text.Len() < 5*spoolBlock/2; i++ {
		fmt.Fprintf(&text, "INSERT INTO t VALUES (%d, 'row %d');\n", i, i)
	}
	s := NewChunkSpool()
	defer s.Close()
	for _, tc := range []struct {
		name  string
		data  []byte
		piece int
	}{
		{"text in small pieces", text.Bytes(), 1000},
		{"random in large pieces", random, 3 * spoolBlock / 2},
		{"text again, over reused buffers", text.Bytes()[:spoolBlock+7], 4096},
		{"nothing", nil, 1},
		{"exactly one block", random[:spoolBlock], spoolBlock},
	} {
		for p := tc.data; len(p) > 0; p = p[min(tc.piece, len(p)):] {
			if _, err := s.Write(p[:min(tc.piece, len(p))]); err != nil {
				t.Fatal(err)
			}
		}
		if s.Size() != int64(len(tc.data)) {
			t.Errorf("%s: size %d, want %d", tc.name, s.Size(), len(tc.data))
		}
		var out bytes.Buffer
		n, err := s.WriteTo(&out)
		if err != nil || n != int64(len(tc.data)) || !bytes.Equal(out.Bytes(), tc.data) {
			t.Errorf("%s: wrote %d bytes (%v), want the %d it held", tc.name, n, err, len(tc.data))
		}
		if s.Size() != 0 {
			t.Errorf("%s: the spool holds %d bytes after WriteTo", tc.name, s.Size())
		}
	}
}
