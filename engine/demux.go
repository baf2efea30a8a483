package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// The engine multiplexes a command's stdout and stderr into one stream
// of frames, each an 8-byte header (the stream: 0 stdin, 1 stdout,
// 2 stderr, 3 an error of the engine's own; three zero bytes; the payload
// size, big-endian) and its payload. This is what stdcopy.StdCopy reads;
// demuxer reads the same frames with one difference that matters for a
// dump of many GiB: how often it wakes up.
//
// The engine writes a frame for every piece the command's output pipe
// gives it, about 9 KiB for mariadb-dump, and a reader that keeps up
// wakes for each: one read, one poll, one park and one wake of a thread,
// 30,000 of each for a 300 MiB dump. On a 2-core host the thread switches
// cost more than the copying (a profile of `dr backup` put a third of its
// CPU in the kernel's scheduler). So after a read that came back short,
// the demuxer waits a moment before reading again, and the next read
// takes everything the socket gathered meanwhile, in one piece.
//
// The wait must not become the stream's pace: the socket holds about
// 200 KiB (Linux's default buffer), and a wait that lets it fill stalls
// the command. A fixed 2 ms wait held a 500 MB/s stream to 200 MB/s. So
// the wait adapts (pacer): a read after a wait that brought a whole
// demuxEnough halves the next wait, one that brought less than half of
// it doubles it, within [demuxMinPause, demuxMaxPause]. The reads after a
// wait settle between 64 and 128 KiB whatever the stream's pace, below
// what the socket holds. Only a stream that has already brought a MiB
// waits at all: the many commands whose output is a few lines (the
// server's version, a row count) never do.
const (
	// demuxBufferSize is the most one read takes.
	demuxBufferSize = 256 << 10
	// demuxEnough is what a read should bring: a shorter read makes the
	// next one wait.
	demuxEnough = 128 << 10
	// demuxMinPause, demuxMaxPause bound the wait; the first is
	// demuxFirstPause.
	demuxMinPause   = 50 * time.Microsecond
	demuxMaxPause   = 2 * time.Millisecond
	demuxFirstPause = 500 * time.Microsecond
	// demuxPaceAfter is how much of the stream comes before any wait.
	demuxPaceAfter = 1 << 20
)

// pacer decides how long to wait before the next read.
type pacer struct {
	pause  time.Duration // the current wait
	waited bool          // the last read came after a wait
}

func newPacer() *pacer { return &pacer{pause: demuxFirstPause} }

// after takes the size of the read just done and returns how long to
// wait before the next (zero: read at once).
func (p *pacer) after(n int) time.Duration {
	if p.waited {
		switch {
		case n >= demuxEnough:
			p.pause = max(p.pause/2, demuxMinPause)
		case n < demuxEnough/2:
			p.pause = min(p.pause*2, demuxMaxPause)
		}
	}
	p.waited = n < demuxEnough
	if !p.waited {
		return 0
	}
	return p.pause
}

// Stream numbers in a frame's header.
const (
	streamStdin  = 0
	streamStdout = 1
	streamStderr = 2
	streamSystem = 3
)

const frameHeaderSize = 8

// maxSystemError bounds an engine's error message read from the stream.
const maxSystemError = 64 << 10

// demuxer splits the engine's multiplexed stream into stdout and stderr.
type demuxer struct {
	stdout, stderr io.Writer
	// pace decides the wait after a short read; nil reads at once, as
	// stdcopy does.
	pace *pacer
	// sleep waits; nil is time.Sleep.
	sleep func(time.Duration)

	header   [frameHeaderSize]byte
	inHead   int    // header bytes seen of the current frame
	stream   byte   // the current frame's stream
	left     int    // payload bytes of the current frame still to come
	sysErr   []byte // the payload of an engine error frame
	written  int64
	received int64 // bytes of the stream read so far, headers included
}

// errFrameStream is a frame whose header names no stream: the stream is
// not what the engine writes, or lost its place.
var errFrameStream = errors.New("unrecognized frame in the command's output stream")

// copyFrom reads src to its end. Like stdcopy.StdCopy, a stream that ends
// inside a frame ends cleanly: how the command ended is its exit code's
// to say. A write error is returned as is.
func (d *demuxer) copyFrom(src io.Reader) (int64, error) {
	buf := make([]byte, demuxBufferSize)
	sleep := d.sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	for {
		n, err := src.Read(buf)
		d.received += int64(n)
		if n > 0 {
			if ferr := d.frames(buf[:n]); ferr != nil {
				return d.written, ferr
			}
		}
		if errors.Is(err, io.EOF) {
			if d.stream == streamSystem && d.inHead == frameHeaderSize {
				return d.written, d.systemError()
			}
			return d.written, nil
		}
		if err != nil {
			return d.written, err
		}
		if d.pace == nil || d.received < demuxPaceAfter {
			continue
		}
		if wait := d.pace.after(n); wait > 0 {
			sleep(wait)
		}
	}
}

// frames takes the next bytes of the stream, which may end anywhere in a
// header or a payload.
func (d *demuxer) frames(p []byte) error {
	for len(p) > 0 {
		if d.inHead < frameHeaderSize {
			k := copy(d.header[d.inHead:], p)
			d.inHead += k
			p = p[k:]
			if d.inHead < frameHeaderSize {
				return nil
			}
			d.stream = d.header[0]
			d.left = int(binary.BigEndian.Uint32(d.header[4:]))
			switch d.stream {
			case streamStdin, streamStdout, streamStderr:
			case streamSystem:
				d.sysErr = d.sysErr[:0]
			default:
				return fmt.Errorf("%w (stream %d)", errFrameStream, d.stream)
			}
		}
		k := min(d.left, len(p))
		if err := d.payload(p[:k]); err != nil {
			return err
		}
		d.left -= k
		p = p[k:]
		if d.left == 0 {
			if d.stream == streamSystem {
				return d.systemError()
			}
			d.inHead = 0
		}
	}
	return nil
}

func (d *demuxer) payload(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	var w io.Writer
	switch d.stream {
	case streamStdin, streamStdout:
		w = d.stdout
	case streamStderr:
		w = d.stderr
	default:
		if room := maxSystemError - len(d.sysErr); room > 0 {
			d.sysErr = append(d.sysErr, p[:min(room, len(p))]...)
		}
		return nil
	}
	n, err := w.Write(p)
	d.written += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

func (d *demuxer) systemError() error {
	return fmt.Errorf("error from the engine in the command's output stream: %s", d.sysErr)
}
