package restore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/appwrite-dr/dr/internal/shortlines"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/restore/dumpsplit"
)

// sessionServer is what a parallel import needs of the server.
type sessionServer interface {
	RaisePacketLimit(ctx context.Context) (putBack func())
	ImportSession(ctx context.Context, r io.Reader, out io.Writer) error
}

// feedCap is each connection's buffer: a table's section smaller than
// this is handed over at memory speed, so the next table can start on
// another connection while this one loads; a larger one streams through.
const feedCap = 4 << 20

// importParallel imports the dump read from r over up to n connections
// of srv, as myloader does: the dump is cut into sections (package
// dumpsplit); each plain table's section goes to an idle connection,
// which loads it beside the others; everything else (databases, views,
// routines, events, users, and anything unrecognised) goes to the first
// connection once every section before it ran, and the table sections
// after it wait until it ran. A failure on any connection ends them all
// with its error, so the import never ends as a success with a part
// missing.
func importParallel(ctx context.Context, srv sessionServer, n int, r io.Reader) (err error) {
	putBack := srv.RaisePacketLimit(ctx)
	defer putBack()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	p := &parallel{ctx: ctx, cancel: cancel, srv: srv, n: n, mark: "dr-import-" + hex.EncodeToString(nonce[:]) + "-"}
	p.cond = sync.NewCond(&p.mu)
	stop := context.AfterFunc(ctx, func() { p.fail(context.Cause(ctx)) })
	defer stop()

	sp := dumpsplit.New(p)
	_, err = io.CopyBuffer(sp, r, make([]byte, 1<<20))
	if err == nil {
		err = sp.Close()
	}
	return p.finish(err)
}

// parallel is a dumpsplit.Sink that runs the sections on connections.
type parallel struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	srv    sessionServer
	n      int
	mark   string // the markers' prefix, unique to this import

	preamble []byte
	cur      *session
	kind     dumpsplit.Kind
	// serialDone: the first connection was seen idle since the last
	// serial section began, so table sections may start.
	serialDone bool

	mu       sync.Mutex
	cond     *sync.Cond
	err      error // the first failure
	sessions []*session
	wg       sync.WaitGroup
}

// session is one connection: the client in the container and its input.
type session struct {
	id   int
	feed *feed
	db   string // the database its last USE chose; "" when unknown
	// sent counts the markers written; seen (under parallel.mu) the ones
	// the client printed back: the session is idle when they are equal.
	sent, seen int
	dirty      bool   // bytes written since the last marker
	what       string // the section it is on, for errors (under mu)
	ended      bool   // its client exited (under mu)
}

func (p *parallel) Begin(sec dumpsplit.Section) error {
	if err := p.endSection(); err != nil {
		return err
	}
	p.kind = sec.Kind
	switch sec.Kind {
	case dumpsplit.Preamble, dumpsplit.Serial:
		if sec.Kind == dumpsplit.Serial {
			// A barrier: every section before this one has run.
			if err := p.wait(p.allIdle); err != nil {
				return err
			}
		}
		p.serialDone = false
		s, err := p.first()
		if err != nil {
			return err
		}
		s.db = "" // a serial section may USE another database
		p.use(s, "the dump's databases, views, routines and events")
		return nil
	}
	var s *session
	err := p.wait(func() bool {
		if !p.serialDone && len(p.sessions) > 0 && !p.idle(p.sessions[0]) {
			return false // the serial section before this one still runs
		}
		p.serialDone = true
		for _, c := range p.sessions {
			if p.idle(c) {
				s = c
				return true
			}
		}
		return len(p.sessions) < p.n
	})
	if err != nil {
		return err
	}
	if s == nil {
		if s, err = p.start(); err != nil {
			return err
		}
		if err := s.feed.Write(p.preamble); err != nil {
			return p.failed(err)
		}
	}
	p.use(s, fmt.Sprintf("table `%s`.`%s`", sec.Database, sec.Table))
	if s.db != sec.Database {
		if err := s.feed.Write([]byte("USE " + mariadb.QuoteIdent(sec.Database) + ";\n")); err != nil {
			return p.failed(err)
		}
		s.db = sec.Database
		s.dirty = true
	}
	return nil
}

func (p *parallel) Write(b []byte) error {
	if p.cur == nil {
		return errors.New("parallel import: bytes before a section")
	}
	if p.kind == dumpsplit.Preamble {
		p.preamble = append(p.preamble, b...)
	}
	p.cur.dirty = true
	if err := p.cur.feed.Write(b); err != nil {
		return p.failed(err)
	}
	return nil
}

func (p *parallel) use(s *session, what string) {
	p.mu.Lock()
	s.what = what
	p.mu.Unlock()
	p.cur = s
}

// endSection sends the marker after the section that ends: the client
// prints it back once every statement before it ran.
func (p *parallel) endSection() error {
	s := p.cur
	if s == nil || !s.dirty {
		return nil
	}
	s.sent++
	s.dirty = false
	// Sections end between statements, with the delimiter ";".
	if err := s.feed.Write([]byte("SELECT '" + p.mark + strconv.Itoa(s.sent) + "';\n")); err != nil {
		return p.failed(err)
	}
	return nil
}

// first is the serial connection, started at the first section.
func (p *parallel) first() (*session, error) {
	if len(p.sessions) > 0 {
		return p.sessions[0], nil
	}
	return p.start()
}

func (p *parallel) idle(s *session) bool { return s.seen == s.sent && !s.dirty }

func (p *parallel) allIdle() bool {
	for _, s := range p.sessions {
		if !p.idle(s) {
			return false
		}
	}
	return true
}

// wait blocks until cond holds (checked under mu) or the import failed.
func (p *parallel) wait(cond func() bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.err == nil && !cond() {
		p.cond.Wait()
	}
	return p.err
}

// start opens one more connection.
func (p *parallel) start() (*session, error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return nil, p.err
	}
	s := &session{id: len(p.sessions) + 1, feed: newFeed(feedCap)}
	p.sessions = append(p.sessions, s)
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		err := p.srv.ImportSession(p.ctx, s.feed, p.markWriter(s))
		if err == nil && !s.feed.drained() {
			err = errors.New("the import client ended before the dump did")
		}
		p.mu.Lock()
		s.ended = true
		what := s.what
		p.mu.Unlock()
		if err != nil {
			if p.n > 1 && what != "" {
				err = fmt.Errorf("%w (connection %d of %d, importing %s)", err, s.id, p.n, what)
			}
			p.fail(err)
		}
		s.feed.CloseWithError(errOr(err, errors.New("the import client ended")))
		p.cond.Broadcast()
	}()
	return s, nil
}

// fail records the first failure and ends every connection with it.
func (p *parallel) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	first := p.err
	sessions := append([]*session(nil), p.sessions...)
	p.mu.Unlock()
	p.cancel(first)
	for _, s := range sessions {
		s.feed.CloseWithError(first)
	}
	p.cond.Broadcast()
}

// failed is the error to return after a write to a connection failed:
// the connection's own failure when it has one.
func (p *parallel) failed(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	return err
}

// finish ends the import: on success every connection's input ends and
// each client must exit cleanly; on err every one is ended with it.
func (p *parallel) finish(err error) error {
	if err == nil && len(p.sessions) == 0 {
		err = errors.New("the dump is empty")
	}
	if err != nil {
		p.fail(err)
	} else {
		p.mu.Lock()
		sessions := append([]*session(nil), p.sessions...)
		p.mu.Unlock()
		for _, s := range sessions {
			s.feed.CloseWithError(nil)
		}
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	return err
}

// markWriter reads a client's output for the markers: lines of at most
// 64 bytes (a marker's length) are looked at.
func (p *parallel) markWriter(s *session) *shortlines.Writer {
	return &shortlines.Writer{Max: 64, Line: func(line []byte) {
		rest, ok := bytes.CutPrefix(line, []byte(p.mark))
		if !ok {
			return
		}
		if k, err := strconv.Atoi(string(rest)); err == nil {
			p.mu.Lock()
			s.seen = k
			p.mu.Unlock()
			p.cond.Broadcast()
		}
	}}
}

// feed is a connection's input: a bounded buffer between the splitter and
// the client, so the splitter hands a small section over and moves on.
type feed struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	r, n   int
	closed bool
	err    error // nil with closed: a clean end
}

func newFeed(size int) *feed {
	f := &feed{buf: make([]byte, size)}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// Write copies b in, waiting for room; it fails once the feed is closed.
func (f *feed) Write(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(b) > 0 {
		for !f.closed && f.n == len(f.buf) {
			f.cond.Wait()
		}
		if f.closed {
			return errOr(f.err, errors.New("the import connection is closed"))
		}
		w := (f.r + f.n) % len(f.buf)
		end := len(f.buf)
		if w < f.r {
			end = f.r
		}
		k := copy(f.buf[w:end], b)
		f.n += k
		b = b[k:]
		f.cond.Broadcast()
	}
	return nil
}

// Read is the client's input.
func (f *feed) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.n == 0 && !f.closed {
		f.cond.Wait()
	}
	if f.n == 0 || f.err != nil {
		if f.err != nil {
			return 0, f.err
		}
		return 0, io.EOF
	}
	end := min(f.r+f.n, len(f.buf))
	k := copy(b, f.buf[f.r:end])
	f.r = (f.r + k) % len(f.buf)
	f.n -= k
	f.cond.Broadcast()
	return k, nil
}

// CloseWithError ends the input: cleanly with nil (the client reads the
// rest, then EOF), at once with err. The first close decides, but an
// error still overrides a clean end the client has not reached.
func (f *feed) CloseWithError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed && (f.err != nil || err == nil) {
		return
	}
	f.closed, f.err = true, err
	f.cond.Broadcast()
}

// drained says whether the input ended cleanly and was read to its end.
func (f *feed) drained() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed && f.err == nil && f.n == 0
}
