package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/archive"
)

// chunkedDump is an archive holding dump (cut into chunks of chunk
// bytes), and its manifest.
func chunkedDump(t *testing.T, dump []byte, chunk int64) ([]byte, *archive.Manifest) {
	t.Helper()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	w, err := archive.NewWriter(&buf, archive.WriterOptions{ChunkSize: chunk, ModTime: at})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.AddDump(context.Background(), bytes.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	m := &archive.Manifest{Name: archive.ObjectName("s", at, false), Stack: "s", Database: &archive.Database{ChunkSize: chunk, Chunks: res.Chunks, DumpSize: res.Size}}
	if err := w.Close(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

// heldImport is an import that takes nothing until release is closed,
// then reads everything, and says what it read and how its input ended.
type heldImport struct {
	release chan struct{}
	got     bytes.Buffer
	end     chan error
}

func (h *heldImport) run(_ context.Context, r io.Reader) error {
	<-h.release
	_, err := io.Copy(&h.got, r)
	h.end <- err
	return err
}

// feedChunks hands the archive's dump chunks to imp, in order, calling
// handed (when set) after each, and returns the first error. It may run
// on a goroutine of its own: it never fails the test itself.
func feedChunks(imp *DumpImport, data []byte, m *archive.Manifest, handed func()) error {
	plain, closeDec, err := archive.Decompress(bytes.NewReader(data), false, nil)
	if err != nil {
		return err
	}
	defer closeDec()
	ar := archive.NewReader(context.Background(), plain, m, archive.ReaderOptions{})
	defer ar.Close()
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if item.Kind == archive.ItemDumpChunk {
			if err := imp.Chunk(context.Background(), item, ar); err != nil {
				return err
			}
			if handed != nil {
				handed()
			}
		}
	}
}

func sqlDump(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "INSERT INTO t VALUES (%d, 'row %d');\n", i, i)
	}
	return []byte(b.String())
}

// TestDumpImportReadsTheNextChunkWhileOneIsFed: a chunk goes to the
// server in the background, so that reading and checking the next one
// costs no time; the server gets the whole dump, in order.
func TestDumpImportReadsTheNextChunkWhileOneIsFed(t *testing.T) {
	dump := sqlDump(20000)
	data, m := chunkedDump(t, dump, 64<<10)
	if len(m.Database.Chunks) < 4 {
		t.Fatalf("the test dump has %d chunks, want several", len(m.Database.Chunks))
	}
	h := &heldImport{release: make(chan struct{}), end: make(chan error, 1)}
	imp := &DumpImport{chunks: m.Database.Chunks, run: h.run}
	defer imp.Close()

	// The server takes nothing yet: the first chunk must not wait for it.
	firstHanded := make(chan struct{})
	var once sync.Once
	finished := make(chan error, 1)
	go func() {
		err := feedChunks(imp, data, m, func() { once.Do(func() { close(firstHanded) }) })
		if err == nil {
			err = imp.Finish()
		}
		finished <- err
	}()
	select {
	case <-firstHanded:
	case err := <-finished:
		t.Fatalf("the import ended before the server read anything: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("handing over the first chunk waited for the server to read it")
	}
	close(h.release)
	if err := <-finished; err != nil {
		t.Fatalf("finishing the import: %v", err)
	}
	if err := <-h.end; err != nil {
		t.Errorf("the server's input ended with %v, want a clean end", err)
	}
	if !bytes.Equal(h.got.Bytes(), dump) {
		t.Errorf("the server got %d bytes, not the dump's %d in order", h.got.Len(), len(dump))
	}
}

// TestDumpImportNeverFeedsADamagedChunk: a chunk whose sha256 is not the
// manifest's never reaches the server, even while the chunk before is
// still being fed, and the server never sees a clean end.
func TestDumpImportNeverFeedsADamagedChunk(t *testing.T) {
	dump := sqlDump(20000)
	data, m := chunkedDump(t, dump, 64<<10)
	m.Database.Chunks[1].SHA256 = strings.Repeat("0", 64)
	entry := m.Database.Chunks[1].Name
	for i := range m.Entries {
		if m.Entries[i].Name == entry {
			m.Entries[i].SHA256 = strings.Repeat("0", 64)
		}
	}
	h := &heldImport{release: make(chan struct{}), end: make(chan error, 1)}
	close(h.release)
	imp := &DumpImport{chunks: m.Database.Chunks, run: h.run}
	defer imp.Close()
	err := feedChunks(imp, data, m, nil)
	if err == nil || !strings.Contains(err.Error(), entry) {
		t.Fatalf("feeding a damaged chunk: %v, want an error naming %s", err, entry)
	}
	imp.Abort(err)
	if end := <-h.end; end == nil {
		t.Error("the server's input ended cleanly after a damaged chunk")
	}
	first := m.Database.Chunks[0].Size
	if int64(h.got.Len()) > first || !bytes.Equal(h.got.Bytes(), dump[:h.got.Len()]) {
		t.Errorf("the server got %d bytes, want at most the first chunk's %d, as they are in the dump", h.got.Len(), first)
	}
}
