package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/docker/docker/pkg/stdcopy"
)

// frame is one frame of the engine's multiplexed stream.
func frame(stream byte, payload string) []byte {
	h := make([]byte, frameHeaderSize, frameHeaderSize+len(payload))
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(payload)))
	return append(h, payload...)
}

func joinFrames(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

func TestDemuxer(t *testing.T) {
	tests := []struct {
		name           string
		stream         []byte
		stdout, stderr string
		wantErr        string
	}{
		{name: "empty stream"},
		{
			name:   "stdout and stderr interleaved",
			stream: joinFrames(frame(1, "out1 "), frame(2, "err1 "), frame(1, "out2"), frame(2, "err2")),
			stdout: "out1 out2", stderr: "err1 err2",
		},
		{name: "stdin frames count as stdout", stream: frame(0, "in"), stdout: "in"},
		{name: "empty frames", stream: joinFrames(frame(1, ""), frame(2, ""), frame(1, "x")), stdout: "x"},
		{
			name:   "a stream cut inside a header ends cleanly",
			stream: joinFrames(frame(1, "whole"), frame(1, "next")[:5]),
			stdout: "whole",
		},
		{
			name:   "a stream cut inside a payload keeps what came",
			stream: joinFrames(frame(1, "whole "), frame(1, "partial payload")[:frameHeaderSize+7]),
			stdout: "whole partial",
		},
		{
			// stdcopy would allocate the 2 GiB the header declares.
			name:   "a header declaring a huge frame, cut short",
			stream: append(frame(1, "")[:4], 0x7f, 0xff, 0xff, 0xff, 'a', 'b'),
			stdout: "ab",
		},
		{
			name:    "the engine's own error",
			stream:  joinFrames(frame(1, "before"), frame(3, "exec died"), frame(1, "never")),
			stdout:  "before",
			wantErr: "error from the engine in the command's output stream: exec died",
		},
		{
			name:    "the engine's error cut short still says what it has",
			stream:  joinFrames(frame(1, "before"), frame(3, "exec died")[:frameHeaderSize+4]),
			stdout:  "before",
			wantErr: "stream: exec",
		},
		{
			name:    "a header that names no stream",
			stream:  joinFrames(frame(1, "ok"), frame(7, "garbage")),
			stdout:  "ok",
			wantErr: "unrecognized frame in the command's output stream (stream 7)",
		},
	}
	for _, tt := range tests {
		// Every way of cutting the stream into reads gives the same.
		readers := map[string]func() io.Reader{
			"whole":        func() io.Reader { return bytes.NewReader(tt.stream) },
			"byte by byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(tt.stream)) },
			"halves":       func() io.Reader { return iotest.HalfReader(bytes.NewReader(tt.stream)) },
		}
		for how, reader := range readers {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				d := &demuxer{stdout: &stdout, stderr: &stderr}
				n, err := d.copyFrom(reader())
				if tt.wantErr == "" && err != nil {
					t.Fatalf("error: %v", err)
				}
				if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
					t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
				}
				if want := int64(len(tt.stdout) + len(tt.stderr)); n != want {
					t.Errorf("written = %d, want %d", n, want)
				}
			})
		}
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestDemuxerReturnsTheWritersError(t *testing.T) {
	full := errors.New("disk full")
	d := &demuxer{stdout: failingWriter{full}, stderr: io.Discard}
	if _, err := d.copyFrom(bytes.NewReader(frame(1, "data"))); !errors.Is(err, full) {
		t.Fatalf("error = %v, want the writer's", err)
	}
}

// sizedReader returns the stream in reads of the given sizes.
type sizedReader struct {
	data  []byte
	sizes []int
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = min(n, r.sizes[0])
		r.sizes = r.sizes[1:]
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// Once the stream is large, a read that came back short makes the next
// wait, so that it takes what gathered meanwhile; a long read, the end of
// the stream, or a short read early in the stream (the whole output of
// most commands) does not.
func TestDemuxerPausesOnlyAfterShortReadsOfALargeStream(t *testing.T) {
	const short, long = 100, demuxEnough
	tests := []struct {
		name      string
		reads     []int // sizes of the reads, the rest in reads of the buffer
		size      int   // the payload's size
		wantWaits int
	}{
		{name: "a small output", reads: []int{short, short, short}, size: 4 * short},
		{name: "short reads before a MiB", reads: []int{long, short, long, short}, size: demuxPaceAfter},
		{
			name: "short reads after a MiB", size: demuxPaceAfter + 4*long,
			reads:     []int{demuxBufferSize, demuxBufferSize, demuxBufferSize, demuxBufferSize, short, long, short, long + 1},
			wantWaits: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			var out bytes.Buffer
			d := &demuxer{stdout: &out, stderr: io.Discard, pace: newPacer(), sleep: func(d time.Duration) { waits = append(waits, d) }}
			r := &sizedReader{data: frame(1, strings.Repeat("x", tt.size)), sizes: tt.reads}
			if _, err := d.copyFrom(r); err != nil {
				t.Fatal(err)
			}
			if out.Len() != tt.size {
				t.Fatalf("wrote %d bytes, want %d", out.Len(), tt.size)
			}
			if len(waits) != tt.wantWaits {
				t.Errorf("%d waits (%v), want %d", len(waits), waits, tt.wantWaits)
			}
		})
	}
}

// The wait adapts so that a read after it brings between half and all of
// demuxEnough: never so long that the socket fills and stalls the
// command, never so short that every frame is a wake-up of its own.
func TestPacer(t *testing.T) {
	const enough, little, some = demuxEnough, 4 << 10, demuxEnough * 3 / 4
	tests := []struct {
		name  string
		reads []int
		want  []time.Duration // the wait after each read
	}{
		{
			name:  "long reads never wait",
			reads: []int{enough, 2 * enough, enough},
			want:  []time.Duration{0, 0, 0},
		},
		{
			name:  "a short read waits the first pause",
			reads: []int{little},
			want:  []time.Duration{demuxFirstPause},
		},
		{
			name:  "a slow stream: too little after each wait doubles it, up to the most",
			reads: []int{little, little, little, little, little},
			want:  []time.Duration{demuxFirstPause, 2 * demuxFirstPause, demuxMaxPause, demuxMaxPause, demuxMaxPause},
		},
		{
			name:  "a fast stream: a whole read after a wait halves it, down to the least",
			reads: []int{little, enough, little, enough, little, enough, little, enough, little, enough, little, enough, little},
			want: []time.Duration{
				demuxFirstPause, 0, demuxFirstPause / 2, 0, demuxFirstPause / 4, 0,
				demuxFirstPause / 8, 0, demuxMinPause, 0, demuxMinPause, 0, demuxMinPause,
			},
		},
		{
			name:  "between half and whole after a wait keeps it",
			reads: []int{little, some, some, some},
			want:  []time.Duration{demuxFirstPause, demuxFirstPause, demuxFirstPause, demuxFirstPause},
		},
		{
			// The read at once after a whole one is short but came after
			// no wait: it says nothing of the wait's length.
			name:  "a short read after no wait keeps it",
			reads: []int{little, 2 * enough, little},
			want:  []time.Duration{demuxFirstPause, 0, demuxFirstPause / 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer()
			var got []time.Duration
			for _, n := range tt.reads {
				got = append(got, p.after(n))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("waits %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzDemuxer holds the demuxer to stdcopy.StdCopy, the engine client's
// own reader of the same stream: for any bytes, whatever stdcopy writes
// the demuxer writes too (it also passes on the part of a frame cut
// short, which stdcopy drops), and it fails wherever stdcopy does.
func FuzzDemuxer(f *testing.F) {
	f.Add(joinFrames(frame(1, "out"), frame(2, "err")), uint8(3))
	f.Add(joinFrames(frame(1, "a"), frame(3, "boom")), uint8(1))
	f.Add(joinFrames(frame(2, "x"), frame(9, "y")), uint8(7))
	f.Add(frame(1, "cut short")[:10], uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, readSize uint8) {
		if declaresHugeFrame(stream) {
			t.Skip("stdcopy would allocate the frame's declared size")
		}
		var wantOut, wantErr bytes.Buffer
		_, stdErr := stdcopy.StdCopy(&wantOut, &wantErr, bytes.NewReader(stream))
		var gotOut, gotErr bytes.Buffer
		d := &demuxer{stdout: &gotOut, stderr: &gotErr}
		r := &sizedReader{data: stream, sizes: []int{int(readSize) + 1, int(readSize)*3 + 1}}
		_, err := d.copyFrom(r)
		if stdErr != nil && err == nil {
			t.Fatalf("stdcopy failed (%v), the demuxer did not", stdErr)
		}
		if !bytes.HasPrefix(gotOut.Bytes(), wantOut.Bytes()) || !bytes.HasPrefix(gotErr.Bytes(), wantErr.Bytes()) {
			t.Fatalf("stdout %q stderr %q do not start with stdcopy's %q and %q", gotOut.Bytes(), gotErr.Bytes(), wantOut.Bytes(), wantErr.Bytes())
		}
		if stdErr == nil && err == nil && (gotOut.Len() > wantOut.Len() || gotErr.Len() > wantErr.Len()) && endsOnFrame(stream) {
			t.Fatalf("on whole frames the demuxer wrote more than stdcopy: %q %q against %q %q", gotOut.Bytes(), gotErr.Bytes(), wantOut.Bytes(), wantErr.Bytes())
		}
	})
}

// declaresHugeFrame says whether a header in stream declares more than
// a MiB: stdcopy allocates a frame's declared size up front, the demuxer
// never does.
func declaresHugeFrame(stream []byte) bool {
	for len(stream) >= frameHeaderSize {
		n := int(binary.BigEndian.Uint32(stream[4:8]))
		if n > 1<<20 {
			return true
		}
		stream = stream[min(len(stream), frameHeaderSize+n):]
	}
	return false
}

// endsOnFrame says whether stream is a sequence of whole frames.
func endsOnFrame(stream []byte) bool {
	for len(stream) > 0 {
		if len(stream) < frameHeaderSize {
			return false
		}
		n := int(binary.BigEndian.Uint32(stream[4:8]))
		if len(stream) < frameHeaderSize+n {
			return false
		}
		stream = stream[frameHeaderSize+n:]
	}
	return true
}
