package restore

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/mariadb"
)

// DumpImport feeds a backup's dump chunks, in the manifest's order, to one
// streaming import into a server (or, with Connections above 1, to a
// parallel one: see importParallel), each chunk only after the archive
// reader checked its size and sha256 against the manifest. While one
// chunk goes to the server the next is read and checked, so that reading
// the archive costs the import no time but the first chunk's. It is the
// one import path of dr: a restore and a drill both stream through it, so
// a drill proves what a restore would do.
type DumpImport struct {
	srv    *mariadb.Server
	chunks []archive.Chunk
	// run, when set, imports the dump read from r instead of srv (a
	// PostgreSQL server's import: see NewPostgresImport).
	run func(ctx context.Context, r io.Reader) error
	// BeforeFirst, when set, runs once before the first byte reaches the
	// server; its error stops the import before anything was sent (a
	// restore records in its journal that the database is being touched).
	BeforeFirst func() error
	// Connections is how many connections import the dump's tables at
	// once (restore.import_connections); 1 or less: one stream, the dump
	// as it was written.
	Connections int

	in *io.PipeWriter
	// out is what the chunks are written to: in, or, for a dump with
	// its users section (include_grants), a rewrite of that section
	// into in, so that it adds to the server only the accounts and
	// grants it lacks (see mariadb.GrantsRewriter).
	out       io.Writer
	grants    *mariadb.GrantsRewriter
	withUsers bool
	done      chan error
	next      int
	// spool takes the chunk being read; spare is the other one, which
	// the chunk before may still be feeding from.
	spool, spare *archive.ChunkSpool
	// feeding, when set, ends with the error of the chunk that goes to
	// the import in the background.
	feeding  chan error
	finished bool
	// stored is the rows the server reported storing in each table, when
	// the import can tell (see importWhole); set before done is sent.
	stored map[string]int64
}

// NewDumpImport prepares the import of db's chunks into srv. Nothing
// reaches the server before the first Chunk.
func NewDumpImport(srv *mariadb.Server, db *archive.Database) *DumpImport {
	d := &DumpImport{srv: srv}
	if db != nil {
		d.chunks, d.withUsers = db.Chunks, db.IncludeGrants
	}
	return d
}

// Touched says whether any byte reached the server.
func (d *DumpImport) Touched() bool { return d.in != nil }

// Active says whether the import started and has not finished: the next
// archive entry that is not a dump chunk calls for Finish.
func (d *DumpImport) Active() bool { return d.in != nil && !d.finished }

// Finished says whether the whole dump was imported.
func (d *DumpImport) Finished() bool { return d.finished }

// Streams is how many connections the import runs on: a PostgreSQL
// dump goes through one psql whatever Connections says.
func (d *DumpImport) Streams() int {
	if d.run != nil {
		return 1
	}
	return max(1, min(d.Connections, config.MaxImportConnections))
}

// StoredRows is the rows the server reported storing in each table of a
// finished import, keyed database.schema.table; nil when the import cannot
// tell (a MariaDB import), and the tables are counted instead.
func (d *DumpImport) StoredRows() map[string]int64 {
	if d == nil || !d.finished {
		return nil
	}
	return d.stored
}

// Chunks is how many chunks were handed to the import.
func (d *DumpImport) Chunks() int { return d.next }

// Chunk hands one dump chunk of the archive (item, read through ar) to
// the import, starting the import at the first one. The chunk is held
// whole first: ar fails at its end when its bytes are not the manifest's,
// so a damaged chunk never reaches the server.
func (d *DumpImport) Chunk(ctx context.Context, item *archive.Item, ar *archive.Reader) error {
	if d.next >= len(d.chunks) || d.chunks[d.next].Name != item.Name {
		return fmt.Errorf("archive entry %s: not the next dump chunk the manifest lists", item.Name)
	}
	c := d.chunks[d.next]
	d.next++
	if d.spool == nil {
		d.spool, d.spare = archive.NewChunkSpool(), archive.NewChunkSpool()
	}
	if _, err := io.Copy(d.spool, ar); err != nil {
		d.spool.Reset()
		return fmt.Errorf("dump chunk %s was not imported: %w", c.Name, err)
	}
	if err := d.fed(); err != nil {
		return err
	}
	if d.in == nil {
		if d.BeforeFirst != nil {
			if err := d.BeforeFirst(); err != nil {
				d.spool.Reset()
				return err
			}
		}
		pr, pw := io.Pipe()
		d.in, d.out, d.done = pw, pw, make(chan error, 1)
		if d.withUsers {
			d.grants = mariadb.NewGrantsRewriter(pw)
			d.out = d.grants
		}
		go func() {
			var err error
			switch {
			case d.run != nil:
				err = d.run(ctx, pr)
			case d.Connections > 1:
				err = importParallel(ctx, d.srv, min(d.Connections, config.MaxImportConnections), pr)
			default:
				err = d.srv.Import(ctx, pr)
			}
			pr.CloseWithError(errOr(err, errors.New("the import ended before the dump did")))
			d.done <- err
		}()
	}
	feeding, spool, out := make(chan error, 1), d.spool, d.out
	go func() {
		if _, err := spool.WriteTo(out); err != nil {
			spool.Reset()
			feeding <- fmt.Errorf("importing dump chunk %s: %w", c.Name, err)
			return
		}
		feeding <- nil
	}()
	d.feeding = feeding
	d.spool, d.spare = d.spare, d.spool
	return nil
}

// fed waits until the chunk going to the import in the background is all
// written; when it could not be, the import's own error says why first.
func (d *DumpImport) fed() error {
	if d.feeding == nil {
		return nil
	}
	err := <-d.feeding
	d.feeding = nil
	if err == nil {
		return nil
	}
	// The import may still be waiting for the rest: end it first.
	d.in.CloseWithError(err)
	if ierr := d.wait(); ierr != nil {
		return ierr
	}
	return err
}

func (d *DumpImport) wait() error {
	if d.done == nil {
		return nil
	}
	err := <-d.done
	d.done = nil
	return err
}

// Finish ends the import once every chunk the manifest lists went in, and
// waits for the server to take the rest.
func (d *DumpImport) Finish() error {
	if d.finished {
		return nil
	}
	if d.in == nil {
		return errors.New("the archive holds no dump chunk")
	}
	if d.next != len(d.chunks) {
		return fmt.Errorf("the archive lacks dump chunk %s", d.chunks[d.next].Name)
	}
	if err := d.fed(); err != nil {
		d.Abort(err)
		return err
	}
	if d.grants != nil {
		if err := d.grants.Close(); err != nil {
			d.Abort(err)
			return fmt.Errorf("importing the dump's users and grants: %w", err)
		}
	}
	d.in.Close()
	if err := d.wait(); err != nil {
		return err
	}
	d.finished = true
	return nil
}

// Abort ends an unfinished import with err, so the server never sees a
// clean end of a partial dump, and waits for it.
func (d *DumpImport) Abort(err error) {
	if d.in != nil && !d.finished {
		// The pipe's end fails the chunk being fed, if one is.
		d.in.CloseWithError(err)
		if d.feeding != nil {
			<-d.feeding
			d.feeding = nil
		}
		_ = d.wait()
	}
}

// Close releases the chunk spools; an import still running is aborted
// first, so that no chunk is fed from a released spool.
func (d *DumpImport) Close() {
	if d.feeding != nil {
		d.Abort(errors.New("the import was closed before it finished"))
	}
	for _, s := range []*archive.ChunkSpool{d.spool, d.spare} {
		if s != nil {
			s.Close()
		}
	}
	d.spool, d.spare = nil, nil
}
