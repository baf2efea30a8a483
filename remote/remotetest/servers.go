// Package remotetest starts rclone's own servers (sftp, webdav, s3)
// in-process on 127.0.0.1 as "remote" destinations for tests, and wraps
// real backends with faults. It is for tests only.
package remotetest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	_ "github.com/rclone/rclone/backend/local"
	_ "github.com/rclone/rclone/cmd/serve/s3"
	_ "github.com/rclone/rclone/cmd/serve/sftp"
	_ "github.com/rclone/rclone/cmd/serve/webdav"
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/rc"
)

const (
	user     = "dr"
	password = "dr-test-password"
)

// Credentials the servers accept, for tests that check they never show.
const (
	User        = user
	Password    = password
	S3AccessKey = "drtestaccesskey"
	S3SecretKey = "drtestsecretkey"
)

// Server is a running in-process rclone server.
type Server struct {
	// Remote is the connection-string remote that reaches it.
	Remote string
	id     string
}

// Stop shuts the server down (for "server killed mid-upload" faults);
// it is safe to call more than once.
func (s *Server) Stop() {
	if s.id == "" {
		return
	}
	stop := rc.Calls.Get("serve/stop")
	_, _ = stop.Fn(context.Background(), rc.Params{"id": s.id})
	s.id = ""
}

func start(t testing.TB, kind, dir string, extra rc.Params) (*Server, string) {
	t.Helper()
	call := rc.Calls.Get("serve/start")
	if call == nil {
		t.Fatal("rclone's serve/start is not registered")
	}
	params := rc.Params{"type": kind, "fs": dir, "addr": "127.0.0.1:0"}
	for k, v := range extra {
		params[k] = v
	}
	out, err := call.Fn(context.Background(), params)
	if err != nil {
		t.Fatalf("starting rclone serve %s on 127.0.0.1: %v", kind, err)
	}
	addr, _ := out["addr"].(string)
	id, _ := out["id"].(string)
	if _, _, err := net.SplitHostPort(addr); err != nil || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("rclone serve %s listens on %q, want 127.0.0.1", kind, addr)
	}
	s := &Server{id: id}
	t.Cleanup(s.Stop)
	return s, addr
}

// StartSFTP serves dir over SFTP and returns the remote.
func StartSFTP(t testing.TB, dir string) string {
	return SFTP(t, dir).Remote
}

// SFTP serves dir over SFTP.
func SFTP(t testing.TB, dir string) *Server {
	s, addr := start(t, "sftp", dir, rc.Params{"user": user, "pass": password})
	host, port, _ := net.SplitHostPort(addr)
	s.Remote = fmt.Sprintf(":sftp,host=%s,port=%s,user=%s,pass='%s',shell_type=none:", host, port, user, obscure.MustObscure(password))
	return s
}

// StartWebDAV serves dir over WebDAV, read-only when asked, and returns the
// remote.
func StartWebDAV(t testing.TB, dir string, readOnly bool) string {
	return WebDAV(t, dir, readOnly).Remote
}

// WebDAV serves dir over WebDAV.
func WebDAV(t testing.TB, dir string, readOnly bool) *Server {
	s, addr := start(t, "webdav", dir, rc.Params{"user": user, "pass": password, "read_only": readOnly})
	s.Remote = fmt.Sprintf(":webdav,url='http://%s',user=%s,pass='%s':", addr, user, obscure.MustObscure(password))
	return s
}

// StartWebDAVKillable serves dir over WebDAV and returns the remote and a
// function that stops the server at once.
func StartWebDAVKillable(t testing.TB, dir string) (string, func()) {
	s := WebDAV(t, dir, false)
	return s.Remote, s.Stop
}

// StartS3 serves dir as an S3 endpoint (bucket "drbackups") and returns the
// remote.
func StartS3(t testing.TB, dir string) string {
	return S3(t, dir).Remote
}

// S3 serves dir as an S3 endpoint; the bucket is the directory "drbackups" in it.
func S3(t testing.TB, dir string) *Server {
	const key, secret = S3AccessKey, S3SecretKey
	s, addr := start(t, "s3", dir, rc.Params{"auth_key": []string{key + "," + secret}})
	s.Remote = fmt.Sprintf(":s3,provider=Rclone,endpoint='http://%s',access_key_id=%s,secret_access_key=%s,force_path_style=true:drbackups", addr, key, secret)
	return s
}

// WebDAVAt serves dir over WebDAV on a given 127.0.0.1 address: the same
// server back after it was stopped, as a remote that returns from an
// outage.
func WebDAVAt(t testing.TB, dir, addr string) *Server {
	s, got := start(t, "webdav", dir, rc.Params{"user": user, "pass": password, "addr": addr})
	s.Remote = fmt.Sprintf(":webdav,url='http://%s',user=%s,pass='%s':", got, user, obscure.MustObscure(password))
	return s
}

// Addr is the 127.0.0.1 address the server listens on.
func (s *Server) Addr() string {
	_, rest, _ := strings.Cut(s.Remote, "url='http://")
	addr, _, _ := strings.Cut(rest, "'")
	return addr
}
