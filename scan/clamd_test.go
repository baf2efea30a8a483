package scan_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/scan/scantest"
)

func TestClamdAgainstAFake(t *testing.T) {
	fake := scantest.NewFake(t, scantest.FakeOptions{Signatures: map[string]string{"EVIL": "Test.Evil"}, MaxStream: 1 << 20})
	c := scan.NewClamd("unix", fake.Socket)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("a"), 3*scan.DefaultChunk+17)
	tests := []struct {
		name     string
		data     []byte
		infected bool
		reply    bool
	}{
		{"empty", nil, false, false},
		{"clean", []byte("hello"), false, false},
		{"infected", []byte("xxEVILxx"), true, false},
		{"marker across frames", append(bytes.Clone(big), []byte("EVIL")...), true, false},
		{"too large", bytes.Repeat([]byte("a"), 2<<20), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := c.Scan(ctx, bytes.NewReader(tt.data))
			if tt.reply {
				var re *scan.ReplyError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), "StreamMaxLength") {
					t.Fatalf("got %v, want a reply error naming StreamMaxLength", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Infected != tt.infected || (tt.infected && v.Signature != "Test.Evil") {
				t.Errorf("got %+v, want infected=%v", v, tt.infected)
			}
		})
	}
}

func TestUnreachableClamdIsAnError(t *testing.T) {
	fake := scantest.NewFake(t, scantest.FakeOptions{})
	fake.Stop()
	c := scan.NewClamd("unix", fake.Socket)
	err := c.Ping(context.Background())
	if !scan.IsUnreachable(err) || !strings.Contains(err.Error(), fake.Socket) {
		t.Fatalf("ping: got %v, want an unreachable error naming the socket", err)
	}
	_, err = c.Scan(context.Background(), strings.NewReader("x"))
	if !scan.IsUnreachable(err) {
		t.Fatalf("scan: got %v, want an unreachable error", err)
	}
	if _, err := scan.NewClamd("tcp", "127.0.0.1:1").Scan(context.Background(), strings.NewReader("x")); !scan.IsUnreachable(err) {
		t.Fatalf("tcp: got %v, want an unreachable error", err)
	}
}

func TestNotClamdIsAnError(t *testing.T) {
	for _, opts := range []scantest.FakeOptions{{Pong: "HELLO"}} {
		fake := scantest.NewFake(t, opts)
		if err := scan.NewClamd("unix", fake.Socket).Ping(context.Background()); !scan.IsUnreachable(err) || !strings.Contains(err.Error(), "not PONG") {
			t.Errorf("got %v, want an error saying it is not PONG", err)
		}
	}
	fake := scantest.NewFake(t, scantest.FakeOptions{Reply: "I am not clamd"})
	if _, err := scan.NewClamd("unix", fake.Socket).Scan(context.Background(), strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "not a verdict") {
		t.Errorf("got %v, want an error saying the reply is not a verdict", err)
	}
}

// stall is a reader that blocks until the test ends it.
type stall struct{ done <-chan struct{} }

func (s stall) Read([]byte) (int, error) { <-s.done; return 0, io.EOF }

func TestScanStopsWhenCancelled(t *testing.T) {
	fake := scantest.NewFake(t, scantest.FakeOptions{})
	c := scan.NewClamd("unix", fake.Socket)
	ctx, cancel := context.WithCancel(context.Background())
	r := io.MultiReader(strings.NewReader("abc"), stall{done: ctx.Done()})
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := c.Scan(ctx, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrorIsTheFilesNotTheScanners(t *testing.T) {
	fake := scantest.NewFake(t, scantest.FakeOptions{})
	_, err := scan.NewClamd("unix", fake.Socket).Scan(context.Background(), failingReader{})
	if err == nil || scan.IsUnreachable(err) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v, want the read error", err)
	}
}
