package archive

import (
	"bytes"
	"crypto/rand"
	"testing"

	"filippo.io/age"
)

// BenchmarkBlobEncode encodes 1 MiB files of random bytes (uploaded
// photos) as a first backup's capture does, encrypted, four at once.
func BenchmarkBlobEncode(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	content := make([]byte, 1<<20)
	rand.Read(content)
	enc := NewBlobEncoder(0, []age.Recipient{id.Recipient()}, b.TempDir())
	b.SetBytes(int64(len(content)))
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			blob, err := enc.Encode(bytes.NewReader(content), int64(len(content)))
			if err != nil {
				b.Error(err)
				return
			}
			blob.Close()
		}
	})
}
