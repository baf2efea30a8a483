package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// DefaultChunk is the size of the INSTREAM frames sent: clamd reads each
// whole, so it bounds what both sides hold at once.
const DefaultChunk = 64 << 10

// Clamd is clamd on a unix socket or a TCP address.
type Clamd struct {
	network, addr string
	chunk         int
	// timeout bounds connecting, and each read and write: a clamd that
	// stops answering fails the scan instead of hanging it.
	timeout time.Duration
}

// NewClamd returns a client of clamd at addr on network ("unix" or "tcp").
// It connects once per call.
func NewClamd(network, addr string) *Clamd {
	return &Clamd{network: network, addr: addr, chunk: DefaultChunk, timeout: 2 * time.Minute}
}

func (c *Clamd) String() string { return c.network + ":" + c.addr }

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{Addr: c.String(), Err: err,
			Hint: "is clamd running and listening there (LocalSocket or TCPSocket/TCPAddr in clamd.conf)?"}
	}
	return conn, nil
}

// session runs fn on a fresh connection whose deadline follows ctx.
func (c *Clamd) session(ctx context.Context, fn func(conn net.Conn) error) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Cancelling ctx unblocks any read or write at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err = fn(&deadlineConn{Conn: conn, ctx: ctx, timeout: c.timeout})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Ping sends PING and wants PONG.
func (c *Clamd) Ping(ctx context.Context) error {
	return c.session(ctx, func(conn net.Conn) error {
		if _, err := conn.Write([]byte("zPING\x00")); err != nil {
			return &UnreachableError{Addr: c.String(), Err: fmt.Errorf("sending PING: %w", err)}
		}
		reply, err := readReply(conn)
		if err != nil {
			return &UnreachableError{Addr: c.String(), Err: fmt.Errorf("reading the answer to PING: %w", err)}
		}
		if reply != "PONG" {
			return &UnreachableError{Addr: c.String(), Err: fmt.Errorf("PING answered %q, not PONG", abbreviate(reply)), Hint: "is that clamd?"}
		}
		return nil
	})
}

// Scan streams r with INSTREAM: length-prefixed frames, a zero length at
// the end, then one reply.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (v Verdict, err error) {
	err = c.session(ctx, func(conn net.Conn) error {
		if _, err := conn.Write([]byte("zINSTREAM\x00")); err != nil {
			return &UnreachableError{Addr: c.String(), Err: fmt.Errorf("sending INSTREAM: %w", err)}
		}
		buf := make([]byte, 4+c.chunk)
		var sent int64
		for {
			n, rerr := io.ReadFull(r, buf[4:])
			if n > 0 {
				binary.BigEndian.PutUint32(buf[:4], uint32(n))
				if _, err := conn.Write(buf[:4+n]); err != nil {
					// clamd answers and hangs up when a stream passes its
					// StreamMaxLength: its reply says why better than EPIPE.
					if reply, rerr := readReply(conn); rerr == nil && reply != "" {
						v, err = ParseReply(reply)
						if err == nil {
							return fmt.Errorf("clamd gave a verdict before the end of the file (%d bytes sent): %s", sent, reply)
						}
						return err
					}
					return fmt.Errorf("streaming to clamd at %s after %d bytes: %w", c, sent, err)
				}
				sent += int64(n)
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				return fmt.Errorf("reading the file to scan: %w", rerr)
			}
		}
		if _, err := conn.Write([]byte{0, 0, 0, 0}); err != nil {
			if reply, rerr := readReply(conn); rerr == nil && reply != "" {
				_, err := ParseReply(reply)
				return errOr(err, fmt.Errorf("clamd at %s answered %q before the end of the stream", c, reply))
			}
			return fmt.Errorf("ending the stream to clamd at %s: %w", c, err)
		}
		reply, err := readReply(conn)
		if err != nil {
			return fmt.Errorf("reading clamd's verdict from %s: %w", c, err)
		}
		v, err = ParseReply(reply)
		return err
	})
	return v, err
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// readReply reads up to the NUL that ends a reply to a z-command, or to
// the end of the connection.
func readReply(r io.Reader) (string, error) {
	var out bytes.Buffer
	buf := make([]byte, 512)
	for out.Len() <= maxReply {
		n, err := r.Read(buf)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			out.Write(buf[:i])
			return out.String(), nil
		}
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			if out.Len() == 0 {
				return "", errors.New("clamd closed the connection without a reply")
			}
			return out.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("clamd's reply is longer than %d bytes", maxReply)
}

// deadlineConn moves the connection's deadline forward before each read
// and write, so that timeout bounds each one, not the whole file.
type deadlineConn struct {
	net.Conn
	ctx     context.Context
	timeout time.Duration
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	d.Conn.SetReadDeadline(d.deadline())
	return d.Conn.Read(p)
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	d.Conn.SetWriteDeadline(d.deadline())
	return d.Conn.Write(p)
}

// deadline is the next call's; once ctx is done it is in the past, so a
// cancellation that raced the session's AfterFunc is not undone here.
func (d *deadlineConn) deadline() time.Time {
	if d.ctx.Err() != nil {
		return time.Unix(1, 0)
	}
	return time.Now().Add(d.timeout)
}
