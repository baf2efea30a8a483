// Package scan talks to clamd, ClamAV's daemon: PING, and INSTREAM of one
// file's bytes with its verdict. A file is streamed as it is read (from a
// tar entry of an archive, say); nothing is written to disk. clamd is
// reached on a unix socket, on a loopback TCP port, or inside a container
// of the stack through the Docker engine (clamdscan run by exec, with the
// file on its standard input).
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Verdict is clamd's answer about one stream.
type Verdict struct {
	Infected bool
	// Signature names what was found, e.g. Win.Test.EICAR_HDB-1.
	Signature string
}

// Scanner scans streams with clamd.
type Scanner interface {
	// Ping fails with an *UnreachableError when clamd does not answer.
	Ping(ctx context.Context) error
	// Scan streams r to clamd until r ends and returns the verdict. A
	// stream clamd refused (too large, say) is a *ReplyError; r may then
	// be left partly read.
	Scan(ctx context.Context, r io.Reader) (Verdict, error)
	// String says which clamd, for reports and errors.
	String() string
}

// UnreachableError is a clamd that cannot be reached or does not answer
// as clamd: never a clean verdict.
type UnreachableError struct {
	Addr string
	Err  error
	// Hint says what to check.
	Hint string
}

func (e *UnreachableError) Error() string {
	msg := fmt.Sprintf("clamd at %s cannot be reached: %v", e.Addr, e.Err)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ReplyError is clamd refusing one stream with an ERROR reply, such as
// "INSTREAM size limit exceeded": that file is not scanned, the next may be.
type ReplyError struct{ Reply string }

func (e *ReplyError) Error() string {
	msg := "clamd could not scan the file: " + e.Reply
	if strings.Contains(e.Reply, "size limit") {
		msg += " (raise StreamMaxLength in clamd.conf above the largest upload)"
	}
	return msg
}

// maxReply bounds a reply read from clamd: real ones are a line.
const maxReply = 4 << 10

// ParseReply reads one clamd reply to INSTREAM ("stream: OK", "stream:
// Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"), with or
// without its NUL or newline terminator. clamdscan prints the same lines.
func ParseReply(reply string) (Verdict, error) {
	s := strings.TrimRight(reply, "\x00\r\n")
	if strings.ContainsAny(s, "\x00\n") {
		return Verdict{}, fmt.Errorf("clamd's reply is not one line: %q", abbreviate(s))
	}
	if strings.HasSuffix(s, " ERROR") || s == "ERROR" {
		return Verdict{}, &ReplyError{Reply: strings.TrimPrefix(s, "stream: ")}
	}
	body, ok := strings.CutPrefix(s, "stream: ")
	if !ok {
		return Verdict{}, fmt.Errorf("clamd's reply is not a verdict: %q", abbreviate(s))
	}
	switch {
	case body == "OK":
		return Verdict{}, nil
	case strings.HasSuffix(body, " FOUND"):
		sig := strings.TrimSpace(strings.TrimSuffix(body, " FOUND"))
		if sig == "" {
			return Verdict{}, fmt.Errorf("clamd's reply names no signature: %q", abbreviate(s))
		}
		return Verdict{Infected: true, Signature: sig}, nil
	}
	return Verdict{}, fmt.Errorf("clamd's reply is not a verdict: %q", abbreviate(s))
}

// IsUnreachable says whether err means the scanner itself is gone, as
// opposed to one file it could not scan.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

func abbreviate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
