package drill

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/appwrite-dr/dr/archive"
)

// streamImport is restore.DumpImport for a server that takes its dump as
// one stream through one client (PostgreSQL's psql), without the MariaDB
// users rewrite and parallel sessions: each chunk is held whole in the
// spool until the archive reader has checked its size and sha256 against
// the manifest, so a damaged chunk never reaches the server, and a dump
// cut short is ended with an error, never a clean end of input.
//
// restore.DumpImport takes a *mariadb.Server; once restore imports
// PostgreSQL dumps through a shared path, the drill should use that one,
// so that a drill keeps proving what a restore does.
type streamImport struct {
	chunks []archive.Chunk
	// before runs once before the first byte reaches the server; its
	// error stops the import before anything was sent.
	before func(ctx context.Context) error
	// run imports what it reads from r until r ends.
	run func(ctx context.Context, r io.Reader) error

	in       *io.PipeWriter
	done     chan error
	next     int
	spool    *archive.ChunkSpool
	finished bool
}

func (s *streamImport) Active() bool { return s.in != nil && !s.finished }
func (s *streamImport) Chunks() int  { return s.next }

// Chunk hands one dump chunk (item, read through ar) to the import,
// starting it at the first one.
func (s *streamImport) Chunk(ctx context.Context, item *archive.Item, ar *archive.Reader) error {
	if s.next >= len(s.chunks) || s.chunks[s.next].Name != item.Name {
		return fmt.Errorf("archive entry %s: not the next dump chunk the manifest lists", item.Name)
	}
	c := s.chunks[s.next]
	s.next++
	if s.spool == nil {
		spool, err := archive.NewChunkSpool()
		if err != nil {
			return err
		}
		s.spool = spool
	}
	if _, err := io.Copy(s.spool, ar); err != nil {
		s.spool.Reset()
		return fmt.Errorf("dump chunk %s was not imported: %w", c.Name, err)
	}
	if s.in == nil {
		if s.before != nil {
			if err := s.before(ctx); err != nil {
				return err
			}
		}
		pr, pw := io.Pipe()
		s.in, s.done = pw, make(chan error, 1)
		go func() {
			err := s.run(ctx, pr)
			// A write after the client ended fails: with the client's
			// error, or, when it ended cleanly, with this one.
			closeErr := err
			if closeErr == nil {
				closeErr = errors.New("the import ended before the dump did")
			}
			pr.CloseWithError(closeErr)
			s.done <- err
		}()
	}
	if _, err := s.spool.WriteTo(s.in); err != nil {
		if ierr := s.wait(); ierr != nil {
			return ierr
		}
		return fmt.Errorf("importing dump chunk %s: %w", c.Name, err)
	}
	return nil
}

func (s *streamImport) wait() error {
	if s.done == nil {
		return nil
	}
	err := <-s.done
	s.done = nil
	return err
}

// Finish ends the import once every chunk the manifest lists went in, and
// waits for the server to take the rest.
func (s *streamImport) Finish() error {
	if s.finished {
		return nil
	}
	if s.in == nil {
		return errors.New("the archive holds no dump chunk")
	}
	if s.next != len(s.chunks) {
		return fmt.Errorf("the archive lacks dump chunk %s", s.chunks[s.next].Name)
	}
	s.in.Close()
	if err := s.wait(); err != nil {
		return err
	}
	s.finished = true
	return nil
}

// Abort ends an unfinished import with err, so the server never sees a
// clean end of a partial dump, and waits for it.
func (s *streamImport) Abort(err error) {
	if s.in != nil && !s.finished {
		s.in.CloseWithError(err)
		_ = s.wait()
	}
}

// Close releases the chunk spool.
func (s *streamImport) Close() {
	if s.spool != nil {
		s.spool.Close()
		s.spool = nil
	}
}
