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
// takes everything the socket gathered meanwhile, in one piece of up to
// demuxBufferSize. The wait is short enough that the socket's buffer
// (about 200 KiB on Linux) barely fills at the pace of a dump, and only a
// stream that has already brought a MiB waits at all: the many commands
// whose output is a few lines (the server's version, a row count) do not.
const (
	// demuxBufferSize is the most one read takes.
	demuxBufferSize = 256 << 10
	// demuxShortRead is a read small enough that the next one waits.
	demuxShortRead = 128 << 10
	// demuxPause is that wait.
	demuxPause = 2 * time.Millisecond
	// demuxPaceAfter is how much of the stream comes before any wait.
	demuxPaceAfter = 1 << 20
)

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
	// pause is how long a read that came back short makes the next one
	// wait; zero reads at once, as stdcopy does.
	pause time.Duration
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
		if n < demuxShortRead && d.pause > 0 && d.received >= demuxPaceAfter {
			if d.sleep != nil {
				d.sleep(d.pause)
			} else {
				time.Sleep(d.pause)
			}
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
