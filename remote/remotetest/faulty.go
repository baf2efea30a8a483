package remotetest

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/rclone/rclone/fs"
)

// The faults a test can pick, each for one destination (pass the wrapper
// as remote.Options.WrapFs; combine with Memory for a store without a
// disk):
//
//	refuse open     Refused (a remote whose server refuses connections)
//	fail Nth write  FailNth(n): the nth Put/PutStream/Update call fails
//	fail mid-write  Wrap(FailAfter, bytes), Wrap(NoSpace, bytes)
//	truncate        Wrap(Truncate, bytes) on upload; TruncateReads on read
//	stall           Wrap(Stall, bytes); Silent for a remote that never answers
//	refuse deletes  FailDeletes(n)

// Fault says what a Faulty remote does to uploads.
type Fault int

const (
	// FailAfter fails the upload after Bytes bytes.
	FailAfter Fault = iota
	// Truncate silently ends the upload after Bytes bytes, as a backend
	// that drops data would: only verification can catch it.
	Truncate
	// Stall stops reading after Bytes bytes until the context ends. Use
	// it on objects of some MiB: rclone reads ahead of the put (its
	// streaming cutoff, 100 KiB, and the upload's buffer, 2 MiB), and a
	// stall inside what it read ahead comes after the upload took every
	// byte, where only a real backend's network timeout would end it.
	Stall
	// NoSpace fails the upload after Bytes bytes with the error a full
	// local disk gives (ENOSPC), for where FullDisk cannot mount one.
	NoSpace
)

// ErrInjected is the error a FailAfter fault returns.
var ErrInjected = errors.New("injected fault: the destination refused further writes")

// Faulty wraps a real rclone remote and injects a fault into uploads of
// objects whose name passes Match (all when nil).
type Faulty struct {
	fs.Fs
	Fault Fault
	Bytes int64
	Match func(name string) bool
	// Fired counts the uploads the fault hit.
	Fired atomic.Int32
}

// Wrap returns a function for remote.Options.WrapFs.
func Wrap(fault Fault, bytes int64) (func(fs.Fs) fs.Fs, *Faulty) {
	f := &Faulty{Fault: fault, Bytes: bytes}
	return func(inner fs.Fs) fs.Fs { f.Fs = inner; return f }, f
}

// Features routes streamed puts through the fault too.
func (f *Faulty) Features() *fs.Features {
	feat := *f.Fs.Features()
	if inner := feat.PutStream; inner != nil {
		feat.PutStream = func(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
			return inner(ctx, f.wrap(ctx, in, src.Remote()), src, options...)
		}
	}
	return &feat
}

// Put injects the fault into a sized upload.
func (f *Faulty) Put(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	return f.Fs.Put(ctx, f.wrap(ctx, in, src.Remote()), src, options...)
}

func (f *Faulty) wrap(ctx context.Context, in io.Reader, name string) io.Reader {
	if f.Match != nil && !f.Match(name) {
		return in
	}
	return &faultReader{ctx: ctx, r: in, f: f, left: f.Bytes}
}

type faultReader struct {
	ctx   context.Context
	r     io.Reader
	f     *Faulty
	left  int64
	fired bool
}

func (r *faultReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		if !r.fired {
			r.fired = true
			r.f.Fired.Add(1)
		}
		switch r.f.Fault {
		case Truncate:
			// Drain the rest so the writer does not notice.
			_, _ = io.Copy(io.Discard, r.r)
			return 0, io.EOF
		case Stall:
			<-r.ctx.Done()
			return 0, r.ctx.Err()
		case NoSpace:
			return 0, &os.PathError{Op: "write", Path: "(injected)", Err: syscall.ENOSPC}
		default:
			return 0, ErrInjected
		}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

// ErrDeleteRefused is what a delete past FailDeletesAfter returns.
var ErrDeleteRefused = errors.New("injected fault: the destination refused to delete")

// FailDeletes wraps a real remote so that its deletes succeed n times and
// then fail: a destination that dies half-way through a prune.
func FailDeletes(n int32) (func(fs.Fs) fs.Fs, *DeleteFaulty) {
	f := &DeleteFaulty{}
	f.left.Store(n)
	return func(inner fs.Fs) fs.Fs { f.Fs = inner; return f }, f
}

// DeleteFaulty is a remote whose objects' Remove fails once its budget of
// deletes is spent.
type DeleteFaulty struct {
	fs.Fs
	left atomic.Int32
	// Refused counts the deletes that failed.
	Refused atomic.Int32
}

// NewObject hands out objects whose Remove goes through the budget.
func (f *DeleteFaulty) NewObject(ctx context.Context, remote string) (fs.Object, error) {
	o, err := f.Fs.NewObject(ctx, remote)
	if err != nil {
		return nil, err
	}
	return &deleteFaultyObject{Object: o, f: f}, nil
}

type deleteFaultyObject struct {
	fs.Object
	f *DeleteFaulty
}

func (o *deleteFaultyObject) Remove(ctx context.Context) error {
	if o.f.left.Add(-1) < 0 {
		o.f.Refused.Add(1)
		return ErrDeleteRefused
	}
	return o.Object.Remove(ctx)
}

// Silent listens on 127.0.0.1 and accepts connections but never answers:
// a remote that is paused (SIGSTOP) or wedged. It returns the address.
func Silent(t interface {
	Helper()
	Fatalf(string, ...any)
	Cleanup(func())
}) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// ErrNthWrite is what the write FailNth picked returns.
var ErrNthWrite = errors.New("injected fault: the destination refused this write")

// FailNth wraps a remote so that its nth object write fails, counting
// from 1 every call that creates or replaces an object: Put, PutStream
// and the Update of an object got from NewObject or Put (objects got from
// List are not wrapped; dr never updates those). The write fails before it takes a byte, so
// nothing of it reaches the remote; the writes before and after it go
// through. A backup writes its archive (write 1) and then its sidecar,
// the commit (write 2): FailNth(1) is a destination that refuses the
// upload, FailNth(2) one that takes the archive and refuses the commit.
func FailNth(n int32) (func(fs.Fs) fs.Fs, *NthFaulty) {
	f := &NthFaulty{nth: n}
	return func(inner fs.Fs) fs.Fs { f.Fs = inner; return f }, f
}

// NthFaulty is a remote whose nth write fails.
type NthFaulty struct {
	fs.Fs
	nth    int32
	writes atomic.Int32
	// Fired counts the writes that failed (0 or 1).
	Fired atomic.Int32
}

// refuse counts one write and says whether it is the one to fail.
func (f *NthFaulty) refuse() bool {
	if f.writes.Add(1) != f.nth {
		return false
	}
	f.Fired.Add(1)
	return true
}

// Features routes streamed puts through the count too.
func (f *NthFaulty) Features() *fs.Features {
	feat := *f.Fs.Features()
	if inner := feat.PutStream; inner != nil {
		feat.PutStream = func(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
			if f.refuse() {
				return nil, ErrNthWrite
			}
			o, err := inner(ctx, in, src, options...)
			return f.object(o), err
		}
	}
	return &feat
}

// Put counts a sized upload.
func (f *NthFaulty) Put(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	if f.refuse() {
		return nil, ErrNthWrite
	}
	o, err := f.Fs.Put(ctx, in, src, options...)
	return f.object(o), err
}

// NewObject hands out objects whose Update is counted.
func (f *NthFaulty) NewObject(ctx context.Context, remote string) (fs.Object, error) {
	o, err := f.Fs.NewObject(ctx, remote)
	return f.object(o), err
}

func (f *NthFaulty) object(o fs.Object) fs.Object {
	if o == nil {
		return nil
	}
	return &nthObject{Object: o, f: f}
}

type nthObject struct {
	fs.Object
	f *NthFaulty
}

func (o *nthObject) Update(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) error {
	if o.f.refuse() {
		return ErrNthWrite
	}
	return o.Object.Update(ctx, in, src, options...)
}

// TruncateReads wraps a remote so that every read of an object whose
// name passes match (all when nil) ends silently after bytes: a copy that
// is there, listed and committed, but incomplete when read back, as one
// cut short on a remote that lost data after the commit.
func TruncateReads(bytes int64, match func(name string) bool) (func(fs.Fs) fs.Fs, *ReadFaulty) {
	f := &ReadFaulty{bytes: bytes, match: match}
	return func(inner fs.Fs) fs.Fs { f.Fs = inner; return f }, f
}

// ReadFaulty is a remote whose objects read back short.
type ReadFaulty struct {
	fs.Fs
	bytes int64
	match func(string) bool
	// Fired counts the reads that were cut short.
	Fired atomic.Int32
}

// NewObject hands out objects whose Open is cut short.
func (f *ReadFaulty) NewObject(ctx context.Context, remote string) (fs.Object, error) {
	o, err := f.Fs.NewObject(ctx, remote)
	if err != nil || (f.match != nil && !f.match(remote)) {
		return o, err
	}
	return &shortObject{Object: o, f: f}, nil
}

type shortObject struct {
	fs.Object
	f *ReadFaulty
}

func (o *shortObject) Open(ctx context.Context, options ...fs.OpenOption) (io.ReadCloser, error) {
	rc, err := o.Object.Open(ctx, options...)
	if err != nil {
		return nil, err
	}
	return &shortReader{rc: rc, left: o.f.bytes, f: o.f}, nil
}

type shortReader struct {
	rc    io.ReadCloser
	left  int64
	f     *ReadFaulty
	fired bool
}

func (r *shortReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		if !r.fired {
			r.fired = true
			r.f.Fired.Add(1)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *shortReader) Close() error { return r.rc.Close() }
