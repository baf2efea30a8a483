package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone/rclone/fs"
	rhash "github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/operations"
)

// uploadLowLevelRetries is rclone's retries of one HTTP call in an upload.
const uploadLowLevelRetries = 3

// uploadBufferSize is rclone's read-ahead per destination.
const uploadBufferSize = 2 << 20

// hashPreference orders the hashes a backend may keep by what checking
// them costs while streaming: sha256 is computed anyway (the manifest
// records it), the xxh and crc families are cheap, md5 and sha1 are not.
var hashPreference = []rhash.Type{rhash.SHA256, rhash.XXH128, rhash.XXH3, rhash.CRC32, rhash.BLAKE3, rhash.MD5, rhash.SHA1}

// verifyHash picks the hash an upload is checked with on a backend.
func verifyHash(supported rhash.Set) rhash.Type {
	for _, t := range hashPreference {
		if supported.Contains(t) {
			return t
		}
	}
	return supported.GetOne()
}

// UploadResult is one destination's outcome.
type UploadResult struct {
	Destination string
	Size        int64
	SHA256      string
	Err         error
}

// Upload streams one archive to several destinations at once. Every Write
// goes to each live destination; a slow one slows the writer (memory stays
// bounded), a failed one is dropped and never blocks or corrupts the
// others.
type Upload struct {
	ctx    context.Context
	cancel context.CancelFunc
	name   string
	sinks  []*sink
	// sha is the sha256 of the stream every live destination received.
	sha hash.Hash
	// queue hands written data to the pump, which fans it out: the caller
	// (a compressor) goes on with the next block while the destinations
	// take this one. Its capacity bounds the memory held.
	queue    chan []byte
	pumpDone chan struct{}
	// allFailed is set by the pump when no destination is left.
	allFailed atomic.Bool
	// mu serialises Write with Close and Abort: a compressor may still be
	// flushing from its own goroutine when the run gives up.
	mu     sync.Mutex
	closed bool
}

// queueDepth is how many written blocks may wait for the destinations.
const queueDepth = 16

type sink struct {
	dest *Remote
	pw   *io.PipeWriter
	pr   *io.PipeReader
	// cancel ends this destination's put alone (a stalled one).
	cancel  context.CancelFunc
	stalled atomic.Pointer[error]
	backend *rhash.MultiHasher // the backend's own hash when not sha256
	htype   rhash.Type
	written atomic.Int64
	done    chan struct{}
	putErr  error // set by the put goroutine before done closes
	failed  error // set by the pump when a write fails
	// owned says the object under the upload's name is this run's (its
	// claim succeeded), set by the put goroutine before done closes: a
	// failure deletes only an owned object, never one another run made.
	owned bool
	// progress is when this destination last took data (unix ns): from the
	// pipe, or, where rclone spools the archive first, from the spool as
	// the backend reads it. Finish gives up on a put that makes none for
	// the destination's timeout.
	progress atomic.Int64
}

func (s *sink) touch() { s.progress.Store(time.Now().UnixNano()) }

// NewUpload starts one streamed put per remote, all named objectName.
// Each remote is checked right before its put starts: one that already
// holds objectName, or any of taken (names whose presence means
// objectName is taken too), fails with ErrNameTaken and is never written
// to, nor is anything deleted there.
func NewUpload(ctx context.Context, dests []*Remote, objectName string, taken []string) *Upload {
	ctx, cancel := context.WithCancel(ctx)
	// rclone reads ahead --buffer-size (16 MiB) per transfer; the writer
	// already hands over whole compressed blocks, so a small read-ahead
	// keeps the pace and keeps memory bounded with many destinations.
	ctx, ci := fs.AddConfig(ctx)
	ci.BufferSize = uploadBufferSize
	// Rcat would hash the stream a second time for its own check; Close
	// does that check (and reads the object back where the backend keeps
	// no hash), so the stream is hashed once, by the sink.
	ci.IgnoreChecksum = true
	// Without a hash Rcat would then compare modification times, and the
	// server's own time (see Open) is never the one the upload sent: its
	// size is all Rcat needs to check, Close checks the rest.
	ci.SizeOnly = true
	// A streamed body cannot be sent again anyway; retrying the calls
	// around it (verify, delete) ten times with back-off kept a run
	// waiting minutes on a destination that had died.
	ci.LowLevelRetries = min(ci.LowLevelRetries, uploadLowLevelRetries)
	u := &Upload{ctx: ctx, cancel: cancel, name: objectName, sha: sha256.New(), queue: make(chan []byte, queueDepth), pumpDone: make(chan struct{})}
	for _, d := range dests {
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(ctx)
		s := &sink{dest: d, pw: pw, pr: pr, cancel: cancel, done: make(chan struct{}), htype: verifyHash(d.f.Hashes())}
		s.touch()
		if s.htype != rhash.None && s.htype != rhash.SHA256 {
			s.backend, _ = rhash.NewMultiHasherTypes(rhash.NewHashSet(s.htype))
		}
		go func() {
			defer cancel()
			defer close(s.done)
			err := d.claim(ctx, objectName, taken)
			if err == nil {
				s.owned = true
				_, err = operations.Rcat(ctx, &progressFs{Fs: d.f, touch: s.touch}, objectName, pr, time.Now(), nil)
				err = d.explain(err)
			}
			if stalled := s.stalled.Load(); stalled != nil {
				err = *stalled
			}
			if err != nil {
				s.putErr = err
			}
			// Unblock a writer still waiting on this pipe.
			pr.CloseWithError(errOr(err, errors.New("upload ended before the archive did")))
		}()
		u.sinks = append(u.sinks, s)
	}
	// Cancelling the context unblocks every pipe at once.
	context.AfterFunc(ctx, func() {
		for _, s := range u.sinks {
			s.pw.CloseWithError(ctx.Err())
		}
	})
	go u.pump()
	return u
}

// pump sends each queued block to every live destination at once and
// waits for all of them: a slow destination slows the stream (memory stays
// bounded), a failed one is dropped and never blocks the others.
func (u *Upload) pump() {
	defer close(u.pumpDone)
	for p := range u.queue {
		if u.allFailed.Load() {
			continue // drain, so that Write never blocks
		}
		u.sha.Write(p)
		var wg sync.WaitGroup
		for _, s := range u.sinks {
			if s.failed != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A destination that stops taking data is dropped after
				// its timeout, so it never holds the others back.
				watchdog := time.AfterFunc(s.dest.Timeout(), s.stall)
				n, err := s.pw.Write(p)
				watchdog.Stop()
				s.touch()
				if s.backend != nil {
					s.backend.Write(p[:n])
				}
				s.written.Add(int64(n))
				if err != nil {
					// The pipe only says that the put stopped reading
					// (often just "closed pipe", when rclone closed its
					// end first); the put's own error says why, and the
					// put is ending, so wait for it.
					<-s.done
					if s.putErr != nil {
						err = s.putErr
					}
					s.failed = fmt.Errorf("uploading to %q: %w", s.dest.name, s.dest.explain(err))
				}
			}()
		}
		wg.Wait()
		live := false
		for _, s := range u.sinks {
			live = live || s.failed == nil
		}
		if !live {
			u.allFailed.Store(true)
		}
	}
}

// Fail drops one destination from the upload with err (it failed
// elsewhere in the run: a blob it needed could not be stored). Its put
// stops, and Finish deletes what it wrote and reports err.
func (u *Upload) Fail(dest string, err error) {
	for _, s := range u.sinks {
		if s.dest.name == dest {
			s.giveUp(err)
		}
	}
}

// stall gives up on a destination that took no data for its timeout.
func (s *sink) stall() {
	s.giveUp(fmt.Errorf("the destination took no data for %s: %w", s.dest.Timeout(), &TimeoutError{After: s.dest.Timeout()}))
}

// giveUp ends the destination's put with err, which its result reports.
func (s *sink) giveUp(err error) {
	s.stalled.CompareAndSwap(nil, &err)
	s.pr.CloseWithError(err)
	s.cancel()
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// Write queues p for every live destination. It fails once none is left.
func (u *Upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return 0, fmt.Errorf("uploading %s: the upload was already closed", u.name)
	}
	if u.allFailed.Load() {
		return 0, fmt.Errorf("uploading %s: every destination failed: %w", u.name, u.firstErr())
	}
	// The caller may reuse p once Write returns.
	block := append([]byte(nil), p...)
	select {
	case u.queue <- block:
		return len(p), nil
	case <-u.ctx.Done():
		return 0, u.ctx.Err()
	}
}

// drain stops the pump once it has sent everything queued.
func (u *Upload) drain() {
	close(u.queue)
	<-u.pumpDone
}

func (u *Upload) firstErr() error {
	for _, s := range u.sinks {
		if s.failed != nil {
			return s.failed
		}
	}
	return errors.New("no destination")
}

// Written is the bytes each destination has accepted so far, by name.
func (u *Upload) Written() map[string]int64 {
	out := map[string]int64{}
	for _, s := range u.sinks {
		out[s.dest.name] = s.written.Load()
	}
	return out
}

// Close ends the stream, waits for every put, and verifies each object
// against the remote: its size, and a hash the backend keeps (or, where it
// keeps none, the sha256 of the object read back). A destination that
// failed anywhere gets its partial object deleted.
func (u *Upload) Close() error { return u.Finish(nil) }

// Finish is Close with a commit: committed is called for each destination
// as soon as its own object verified, without waiting for the others, so
// a destination still retrying (or dying) never holds back the commit on
// a healthy one. An error from committed is that destination's failure.
func (u *Upload) Finish(committed func(d *Remote, r UploadResult) error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	u.closed = true
	u.drain()
	for _, s := range u.sinks {
		s.pw.Close()
	}
	sum := hex.EncodeToString(u.sha.Sum(nil))
	var wg sync.WaitGroup
	for _, s := range u.sinks {
		wg.Go(func() {
			if !u.waitPut(s) {
				// Its object may be half written and its goroutine may
				// still hold it; the leftover is never listed, and
				// retention removes it after incomplete_grace.
				return
			}
			// The put's own error is the cause; the pump only saw the pipe
			// closing (or nothing at all, when the put failed at the end).
			if s.putErr != nil && (s.failed == nil || !errors.Is(s.failed, s.putErr)) {
				s.failed = fmt.Errorf("uploading to %q: %w", s.dest.name, s.putErr)
			}
			if s.failed == nil {
				if err := u.verify(s); err != nil {
					s.failed = err
				}
			}
			if s.failed != nil {
				u.deletePartial(s)
				return
			}
			if committed != nil {
				if err := committed(s.dest, UploadResult{Destination: s.dest.name, Size: s.written.Load(), SHA256: sum}); err != nil {
					s.failed = err
				}
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, s := range u.sinks {
		if s.failed != nil {
			errs = append(errs, s.failed)
		}
	}
	return errors.Join(errs...)
}

// waitPut waits for a destination's put to end while it makes progress.
// After the last byte a put still has calls to make (complete a multipart
// upload, or send the whole spooled archive where the backend takes no
// stream); one that takes no data and does not end within the
// destination's timeout is stopped, and one that ignores even that (a hung
// mount) is given up on, so it never holds the run. It reports whether the
// put ended.
func (u *Upload) waitPut(s *sink) bool {
	limit := s.dest.Timeout()
	tick := time.NewTicker(min(limit/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return true
		case <-tick.C:
		}
		if time.Since(time.Unix(0, s.progress.Load())) <= limit {
			continue
		}
		s.stall()
		select {
		case <-s.done:
			return true
		case <-time.After(limit):
			s.failed = fmt.Errorf("uploading to %q: the put neither made progress nor ended within %s: %w", s.dest.name, limit, &TimeoutError{After: limit})
			return false
		}
	}
}

// progressFs counts what the backend reads of a put, so that a spooled
// upload (rclone copies the stream to a temporary file first where the
// backend cannot take a stream) shows progress while it is sent.
type progressFs struct {
	fs.Fs
	touch func()
}

func (f *progressFs) Put(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	return f.Fs.Put(ctx, progressReader(in, f.touch), src, options...)
}

func (f *progressFs) Features() *fs.Features {
	feat := *f.Fs.Features()
	if put := feat.PutStream; put != nil {
		feat.PutStream = func(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
			return put(ctx, progressReader(in, f.touch), src, options...)
		}
	}
	return &feat
}

// progressReader keeps a seekable reader seekable: backends rewind a
// spooled body to send it again on a retry.
func progressReader(in io.Reader, touch func()) io.Reader {
	r := &touchReader{in: in, touch: touch}
	if sk, ok := in.(io.ReadSeeker); ok {
		return &touchReadSeeker{touchReader: r, seeker: sk}
	}
	return r
}

type touchReader struct {
	in    io.Reader
	touch func()
}

func (r *touchReader) Read(p []byte) (int, error) {
	n, err := r.in.Read(p)
	if n > 0 {
		r.touch()
	}
	return n, err
}

type touchReadSeeker struct {
	*touchReader
	seeker io.Seeker
}

func (r *touchReadSeeker) Seek(offset int64, whence int) (int64, error) {
	return r.seeker.Seek(offset, whence)
}

// verify reads the object's metadata back from the remote, so that a
// dry-run setting or a backend that silently drops data cannot pass.
func (u *Upload) verify(s *sink) error {
	ctx := u.ctx
	o, err := s.dest.Stat(ctx, u.name)
	if err != nil {
		return fmt.Errorf("verifying %s on %q: the object is not there: %w", u.name, s.dest.name, err)
	}
	want := s.written.Load()
	if o.Size() != want {
		return fmt.Errorf("verifying %s on %q: the remote holds %d bytes, %d were sent", u.name, s.dest.name, o.Size(), want)
	}
	if s.htype != rhash.None {
		got, err := o.o.Hash(ctx, s.htype)
		if err == nil && got != "" {
			sent := hex.EncodeToString(u.sha.Sum(nil))
			if s.backend != nil {
				sent = s.backend.Sums()[s.htype]
			}
			if got != sent {
				return fmt.Errorf("verifying %s on %q: the remote's %s is %s, the sent data's %s", u.name, s.dest.name, s.htype, got, sent)
			}
			return nil
		}
	}
	// No hash kept by the backend: read the object back.
	rc, err := o.o.Open(ctx)
	if err != nil {
		return fmt.Errorf("verifying %s on %q: reading it back: %w", u.name, s.dest.name, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("verifying %s on %q: reading it back: %w", u.name, s.dest.name, err)
	}
	if got, sent := hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(u.sha.Sum(nil)); got != sent {
		return fmt.Errorf("verifying %s on %q: read back sha256 %s, sent %s", u.name, s.dest.name, got, sent)
	}
	return nil
}

// deletePartial removes whatever a failed put left, even after the run's
// context ended (the undo must still happen), and only if the object is
// this run's.
func (u *Upload) deletePartial(s *sink) {
	if !s.owned {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), deleteTimeout)
	defer cancel()
	if err := s.dest.DeleteObject(ctx, u.name); err != nil {
		s.failed = fmt.Errorf("%w (and its partial object could not be deleted: %v)", s.failed, err)
	}
}

// Abort stops every upload and deletes what was written.
func (u *Upload) Abort(ctx context.Context) {
	// Cancel before taking the lock: it unblocks a Write stuck on a pipe.
	u.cancel()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		for _, s := range u.sinks {
			u.deleteQuietly(ctx, s)
		}
		return
	}
	u.closed = true
	u.drain()
	for _, s := range u.sinks {
		<-s.done
		if s.failed == nil {
			s.failed = fmt.Errorf("upload to %q aborted", s.dest.name)
		}
		u.deleteQuietly(ctx, s)
	}
}

func (u *Upload) deleteQuietly(ctx context.Context, s *sink) {
	if !s.owned {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if err := s.dest.DeleteObject(ctx, u.name); err != nil {
		fs.Errorf(nil, "deleting partial %s on %q: %v", u.name, s.dest.name, err)
	}
}

// Results is every destination's outcome, after Close.
func (u *Upload) Results() []UploadResult {
	out := make([]UploadResult, 0, len(u.sinks))
	for _, s := range u.sinks {
		r := UploadResult{Destination: s.dest.name, Size: s.written.Load(), Err: s.failed}
		if s.failed == nil {
			r.SHA256 = hex.EncodeToString(u.sha.Sum(nil))
		}
		out = append(out, r)
	}
	return out
}
