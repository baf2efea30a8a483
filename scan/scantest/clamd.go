package scantest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/scan"
)

// Clamd is a real clamd started for one test.
type Clamd struct {
	// Socket is its LocalSocket; TCP its loopback TCP address.
	Socket string
	TCP    string
	// Signatures are the names clamd reports for each planted file, by
	// the name it was planted under.
	Signatures map[string]string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// StartClamd runs Debian's clamd (package clamav-daemon) in the
// foreground with a database of one MD5 signature per planted file, made
// with sigtool --md5 (package clamav), and waits until it answers PING.
// Without clamd it skips, or fails under DR_INTEGRATION=required.
func StartClamd(t testing.TB, planted map[string][]byte) *Clamd {
	t.Helper()
	clamd, err1 := exec.LookPath("clamd")
	if err1 != nil {
		// Debian installs clamd in sbin, which a user's PATH may lack.
		if _, err := os.Stat("/usr/sbin/clamd"); err == nil {
			clamd, err1 = "/usr/sbin/clamd", nil
		}
	}
	sigtool, err2 := exec.LookPath("sigtool")
	if err1 != nil || err2 != nil {
		msg := "this test needs clamd and sigtool: apt-get install clamav-daemon clamav (make setup does)"
		if teststack.Required() {
			t.Fatalf("%s (DR_INTEGRATION=required, so this is a failure)", msg)
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	files := filepath.Join(dir, "planted")
	for _, d := range []string{db, files} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &Clamd{Socket: filepath.Join(dir, "clamd.sock"), Signatures: map[string]string{}, exited: make(chan struct{})}
	var hdb strings.Builder
	for name, data := range planted {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sigtool, "--md5", name)
		cmd.Dir = files
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sigtool --md5 %s: %v", name, err)
		}
		hdb.Write(out)
		// clamd marks signatures of a database it does not know as
		// official with .UNOFFICIAL.
		c.Signatures[name] = name + ".UNOFFICIAL"
	}
	if err := os.WriteFile(filepath.Join(db, "test.hdb"), []byte(hdb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	c.TCP = fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf("Foreground yes\nLocalSocket %s\nTCPSocket %d\nTCPAddr 127.0.0.1\nDatabaseDirectory %s\nLogFile %s\nStreamMaxLength 1M\n",
		c.Socket, port, db, filepath.Join(dir, "clamd.log"))
	confPath := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(clamd, "-c", confPath)
	var out strings.Builder
	c.cmd.Stdout, c.cmd.Stderr = &out, &out
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting clamd: %v", err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(c.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := scan.NewClamd("unix", c.Socket)
	for {
		err := cl.Ping(ctx)
		if err == nil {
			break
		}
		select {
		case <-c.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd exited: %s %s", out.String(), log)
		case <-ctx.Done():
			t.Fatalf("clamd did not answer PING within a minute: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return c
}

// Stop ends clamd and waits for it; the test's cleanup calls it too.
func (c *Clamd) Stop() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
	<-c.exited
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
