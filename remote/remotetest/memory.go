package remotetest

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
)

// memoryBuckets makes each Memory remote a bucket of its own: rclone's
// memory backend keeps its buckets in process-wide state, so two tests
// (or two destinations of one test) must never share one.
var memoryBuckets atomic.Int64

// Memory returns a remote on rclone's in-memory backend (":memory:"),
// empty and private to the caller, for tests of decisions that need a
// destination but no disk, server or Docker: it opens with remote.Open
// like any remote, lists, streams and deletes in microseconds, and
// combines with Wrap, FailNth, TruncateReads and FailDeletes for faults.
// Its objects stay in memory until the test binary exits: keep them small.
func Memory(t testing.TB) string {
	t.Helper()
	bucket := fmt.Sprintf("dr-test-%d", memoryBuckets.Add(1))
	return ":memory:" + bucket + "/backups"
}

// Refused returns a remote that refuses every connection (a WebDAV URL on
// a loopback port nothing listens on): opening it fails at once, as a
// destination whose server is down does.
func Refused(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	addr := l.Addr().String()
	// Closed at once: the port is free and refuses, and nothing else on
	// this machine is likely to take it within the test.
	if err := l.Close(); err != nil {
		t.Fatalf("closing the listener: %v", err)
	}
	return fmt.Sprintf(":webdav,url='http://%s':backups", addr)
}
