package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/appwrite-dr/dr/engine"
)

// Execer runs a command in a container (engine.Client does).
type Execer interface {
	Exec(ctx context.Context, containerID string, opts engine.ExecOptions) (*engine.ExecResult, error)
}

// Exec is clamd inside a container of the stack, reached through the
// Docker engine: clamdscan runs there with the file on its standard
// input, which it streams to its clamd with INSTREAM. Nothing listens on
// the host and no container address is used.
type Exec struct {
	eng       Execer
	container string
	service   string
}

// NewExec scans through clamdscan in the container of service.
func NewExec(eng Execer, containerID, service string) *Exec {
	return &Exec{eng: eng, container: containerID, service: service}
}

func (e *Exec) String() string { return "container:" + e.service }

// clamdscanCmd streams standard input ("-") to clamd with INSTREAM,
// prints one "stream: …" line and exits 0 (clean), 1 (found) or 2 (error).
var clamdscanCmd = []string{"clamdscan", "--no-summary", "--stream", "-"}

// Ping scans an empty stream: clamdscan has no portable ping, and a clean
// verdict proves its clamd answers.
func (e *Exec) Ping(ctx context.Context) error {
	v, err := e.Scan(ctx, strings.NewReader(""))
	if err != nil {
		if IsUnreachable(err) {
			return err
		}
		return &UnreachableError{Addr: e.String(), Err: err}
	}
	if v.Infected {
		return &UnreachableError{Addr: e.String(), Err: fmt.Errorf("an empty stream was reported infected (%s)", v.Signature), Hint: "is that clamd?"}
	}
	return nil
}

// Scan runs clamdscan with r as its input.
func (e *Exec) Scan(ctx context.Context, r io.Reader) (Verdict, error) {
	var out bytes.Buffer
	res, err := e.eng.Exec(ctx, e.container, engine.ExecOptions{Cmd: clamdscanCmd, Stdin: r, Stdout: &limited{buf: &out, n: maxReply}, StderrLimit: maxReply})
	if err != nil {
		if ctx.Err() != nil {
			return Verdict{}, ctx.Err()
		}
		return Verdict{}, &UnreachableError{Addr: e.String(), Err: err}
	}
	line := verdictLine(out.String())
	switch res.ExitCode {
	case 0, 1:
		return ParseReply(line)
	case 126, 127:
		return Verdict{}, &UnreachableError{Addr: e.String(), Err: res.Err("clamdscan"),
			Hint: fmt.Sprintf("the image of service %s has no clamdscan; point scan.clamd at a clamd socket or loopback port instead", e.service)}
	}
	// 2 is clamdscan's error: a reply error (a stream too large) is one
	// file's; anything else means its clamd is not answering.
	if line != "" {
		if _, perr := ParseReply(line); perr != nil {
			if _, ok := perr.(*ReplyError); ok {
				return Verdict{}, perr
			}
		}
	}
	return Verdict{}, &UnreachableError{Addr: e.String(), Err: res.Err("clamdscan"), Hint: fmt.Sprintf("is clamd running in service %s (it loads its signatures for a while after starting)?", e.service)}
}

// verdictLine is the verdict line of clamdscan's output, as clamd's
// reply to INSTREAM. clamdscan names the stream "stream" when it sends a
// pipe, and "fd[N]" when it passed a file descriptor instead.
func verdictLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasSuffix(l, " OK") && !strings.HasSuffix(l, " FOUND") && !strings.HasSuffix(l, " ERROR") {
			continue
		}
		if _, body, ok := strings.Cut(l, ": "); ok {
			return "stream: " + body
		}
	}
	return ""
}

// limited keeps the first n bytes written and discards the rest.
type limited struct {
	buf *bytes.Buffer
	n   int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
