package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/appwrite-dr/dr/internal/iocount"
)

// dumpArchive writes a file, the dump, and a file again (so the stream must
// go on after the dump's own frames), closes, and returns the archive.
func dumpArchive(t *testing.T, dump []byte, chunk int64) ([]byte, *DumpResult, *Manifest, int64) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{ChunkSize: chunk, ModTime: fixedTime})
	if err != nil {
		t.Fatal(err)
	}
	add := func(name, body string) {
		if err := w.AddFile(FileHeader{Name: name, Mode: 0o600, ModTime: fixedTime, Size: int64(len(body))}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	add("compose/docker-compose.yml", "services: {}\n")
	res, err := w.AddDump(context.Background(), bytes.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	add("compose/.env", "A=1\n")
	m := &Manifest{Name: ObjectName("s", fixedTime, false), Stack: "s", Database: &Database{ChunkSize: chunk, Chunks: res.Chunks, DumpSize: res.Size}}
	if err := w.Close(m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	sidecar := *m
	sidecar.Status = StatusComplete
	sidecar.Object = &ObjectInfo{Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
	return buf.Bytes(), res, &sidecar, w.RawBytes()
}

// TestDumpRoundTripAtBlockAndChunkEdges cuts dumps around the pipeline's
// block size and the chunk size, and reads each back: the chunks hold the
// dump byte for byte, their sizes and sums match the manifest, and the raw
// byte count is the tar's length.
func TestDumpRoundTripAtBlockAndChunkEdges(t *testing.T) {
	sizes := []int{0, 1, 511, 512, dumpBlockSize - 1, dumpBlockSize, dumpBlockSize + 1, 3*dumpBlockSize + dumpBlockSize/2}
	chunks := []int64{1000, 64<<10 + 1, dumpBlockSize, dumpBlockSize + dumpBlockSize/2, 64 << 20}
	full, err := io.ReadAll(&sqlRows{max: int64(sizes[len(sizes)-1])})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range sizes {
		for _, chunk := range chunks {
			if int64(size)/chunk > 1100 {
				continue // thousands of tiny chunks prove nothing more, slowly
			}
			t.Run(fmt.Sprintf("%d bytes in chunks of %d", size, chunk), func(t *testing.T) {
				dump := full[:size]
				data, res, sidecar, raw := dumpArchive(t, dump, chunk)
				wantChunks := (int64(size) + chunk - 1) / chunk
				if int64(len(res.Chunks)) != wantChunks || res.Size != int64(size) {
					t.Fatalf("%d chunks of %d bytes in all, want %d of %d", len(res.Chunks), res.Size, wantChunks, size)
				}
				if _, err := Verify(context.Background(), bytes.NewReader(data), sidecar, ReaderOptions{}); err != nil {
					t.Fatalf("verify: %v", err)
				}
				zr, err := zstd.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				plain, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(plain)) != raw {
					t.Errorf("RawBytes %d, the tar stream is %d", raw, len(plain))
				}
				var got []byte
				tr := tar.NewReader(bytes.NewReader(plain))
				i := 0
				for {
					hdr, err := tr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if !strings.HasPrefix(hdr.Name, DumpChunkPrefix) {
						continue
					}
					body, _ := io.ReadAll(tr)
					sum := sha256.Sum256(body)
					c := res.Chunks[i]
					if hdr.Name != c.Name || hdr.Size != c.Size || hex.EncodeToString(sum[:]) != c.SHA256 {
						t.Errorf("entry %s of %d bytes, manifest says %s of %d (sum matches: %v)", hdr.Name, hdr.Size, c.Name, c.Size, hex.EncodeToString(sum[:]) == c.SHA256)
					}
					got = append(got, body...)
					i++
				}
				if !bytes.Equal(got, dump) {
					t.Errorf("the chunks hold %d bytes that differ from the %d of the dump", len(got), len(dump))
				}
			})
		}
	}
}

// failAfter fails every write once n bytes went through.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

// settledGoroutines waits for the goroutine count to come back to at most
// want, and returns it.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDumpStopsWhenTheArchiveCannotBeWritten: a destination failing in
// the middle of the dump ends AddDump with its error, stops reading the
// dump soon after (the buffers in flight are bounded), and leaves no
// goroutine of the pipeline behind.
func TestDumpStopsWhenTheArchiveCannotBeWritten(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("destination full")
	w, err := NewWriter(&failAfter{n: 200 << 10, err: boom}, WriterOptions{ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const total = 256 << 20
	r := &iocount.Reader{R: &sqlRows{max: total}}
	_, err = w.AddDump(context.Background(), r)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the write error", err)
	}
	if r.N >= total/2 {
		t.Errorf("read %d MiB of the dump after the archive failed", r.N>>20)
	}
	w.zw.Close()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}

func TestDumpReadErrorMidwayIsReturned(t *testing.T) {
	before := runtime.NumGoroutine()
	w, err := NewWriter(io.Discard, WriterOptions{ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("dump exited with code 2")
	_, err = w.AddDump(context.Background(), io.MultiReader(&sqlRows{max: 5<<20 + 123}, errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	w.zw.Close()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}

// cancelAfter cancels its context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestDumpCancelled(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := NewWriter(io.Discard, WriterOptions{ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.AddDump(ctx, &cancelAfter{r: &repeatReader{data: []byte("INSERT INTO t VALUES (1);\n")}, n: 3 << 20, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	w.zw.Close()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}

// TestDumpWriterMatchesAddDump: the dump pushed in writes of odd sizes (as
// the container's output arrives) makes the very archive AddDump makes
// reading it.
func TestDumpWriterMatchesAddDump(t *testing.T) {
	dump, err := io.ReadAll(&sqlRows{max: 5*dumpBlockSize + 777})
	if err != nil {
		t.Fatal(err)
	}
	want, _, _, _ := dumpArchive(t, dump, 2*dumpBlockSize+5)
	for _, piece := range []int{1 << 10, 32<<10 + 3, 3 * dumpBlockSize} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{ChunkSize: 2*dumpBlockSize + 5, ModTime: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		add := func(name, body string) {
			if err := w.AddFile(FileHeader{Name: name, Mode: 0o600, ModTime: fixedTime, Size: int64(len(body))}, strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
		}
		add("compose/docker-compose.yml", "services: {}\n")
		d, err := w.StartDump(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for p := dump; len(p) > 0; p = p[min(piece, len(p)):] {
			if _, err := d.Write(p[:min(piece, len(p))]); err != nil {
				t.Fatal(err)
			}
		}
		res, err := d.Finish()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Write([]byte("late")); !errors.Is(err, errDumpClosed) {
			t.Errorf("a write after Finish: %v", err)
		}
		add("compose/.env", "A=1\n")
		m := &Manifest{Name: ObjectName("s", fixedTime, false), Stack: "s", Database: &Database{ChunkSize: 2*dumpBlockSize + 5, Chunks: res.Chunks, DumpSize: res.Size}}
		if err := w.Close(m); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("writes of %d bytes made a different archive", piece)
		}
	}
}

// TestDumpWriterReturnsTheArchiveError: once the destination failed, a
// write returns its error, so that the dump is ended; Err says it too.
func TestDumpWriterReturnsTheArchiveError(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("destination full")
	w, err := NewWriter(&failAfter{n: 100 << 10, err: boom}, WriterOptions{ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.StartDump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := &sqlRows{max: 1 << 40}
	block := make([]byte, 64<<10)
	var werr error
	for written := 0; written < 256<<20 && werr == nil; written += len(block) {
		r.Read(block)
		_, werr = d.Write(block)
	}
	if !errors.Is(werr, boom) || !errors.Is(d.Err(), boom) {
		t.Fatalf("write: %v, Err: %v; want the destination's error", werr, d.Err())
	}
	d.Abort()
	w.zw.Close()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}

// TestDumpWriterAbort: a dump that failed is aborted; nothing after the
// abort reaches the archive, and nothing is left running.
func TestDumpWriterAbort(t *testing.T) {
	before := runtime.NumGoroutine()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.StartDump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFrom(&sqlRows{max: 3<<20 + 5}); err != nil {
		t.Fatal(err)
	}
	d.Abort()
	if _, err := d.Finish(); !errors.Is(err, errDumpClosed) {
		t.Errorf("Finish after Abort: %v", err)
	}
	w.zw.Close()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}
