// Package scantest gives tests a clamd: a fake one speaking the protocol
// on a unix socket (milliseconds, for unit tests), and the real clamd of
// Debian's clamav-daemon started with a signature database made from the
// files a test plants (no downloaded definitions).
package scantest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// FakeOptions shape the fake clamd's answers.
type FakeOptions struct {
	// Signatures: a stream holding the key's bytes is infected with the
	// value's signature.
	Signatures map[string]string
	// MaxStream, when set, refuses longer streams as clamd does past its
	// StreamMaxLength.
	MaxStream int
	// Reply, when set, is the answer to every INSTREAM instead of a verdict.
	Reply string
	// Pong is the answer to PING; empty means PONG.
	Pong string
}

// Fake is a fake clamd listening on a unix socket.
type Fake struct {
	Socket string
	// Streams counts the INSTREAM sessions served.
	Streams atomic.Int64
	opts    FakeOptions
	ln      net.Listener
	wg      sync.WaitGroup
}

// NewFake starts a fake clamd; it stops when the test ends.
func NewFake(t testing.TB, opts FakeOptions) *Fake {
	t.Helper()
	// A short directory: a unix socket's path has a length limit that
	// t.TempDir's long names can pass.
	dir, err := os.MkdirTemp("", "fakeclamd")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fake{Socket: sock, opts: opts, ln: ln}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
		os.RemoveAll(dir)
	})
	return f
}

// Stop closes the socket: the next connection is refused.
func (f *Fake) Stop() { f.ln.Close() }

func (f *Fake) serve() {
	defer f.wg.Done()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer conn.Close()
			f.handle(conn)
		}()
	}
}

func (f *Fake) handle(conn net.Conn) {
	br := bufio.NewReader(conn)
	cmd, err := br.ReadString(0)
	if err != nil {
		return
	}
	switch cmd {
	case "zPING\x00":
		pong := f.opts.Pong
		if pong == "" {
			pong = "PONG"
		}
		conn.Write([]byte(pong + "\x00"))
	case "zINSTREAM\x00":
		f.Streams.Add(1)
		var data bytes.Buffer
		for {
			var size uint32
			if err := binary.Read(br, binary.BigEndian, &size); err != nil {
				return
			}
			if size == 0 {
				break
			}
			if _, err := io.CopyN(&data, br, int64(size)); err != nil {
				return
			}
			if f.opts.MaxStream > 0 && data.Len() > f.opts.MaxStream {
				conn.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
				return
			}
		}
		conn.Write([]byte(f.verdict(data.Bytes()) + "\x00"))
	default:
		conn.Write([]byte("UNKNOWN COMMAND\x00"))
	}
}

func (f *Fake) verdict(data []byte) string {
	if f.opts.Reply != "" {
		return f.opts.Reply
	}
	for marker, sig := range f.opts.Signatures {
		if bytes.Contains(data, []byte(marker)) {
			return "stream: " + sig + " FOUND"
		}
	}
	return "stream: OK"
}
