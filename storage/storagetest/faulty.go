package storagetest

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

// Fault says what a Faulty remote does to uploads.
type Fault int

const (
	// FailAfter fails the upload after Bytes bytes.
	FailAfter Fault = iota
	// Truncate silently ends the upload after Bytes bytes, as a backend
	// that drops data would: only verification can catch it.
	Truncate
	// Stall stops reading after Bytes bytes until the context ends.
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

// Wrap returns a function for storage.Options.WrapFs.
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
