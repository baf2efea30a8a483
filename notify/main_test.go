package notify

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
)

// outboundTrap is an HTTP proxy on 127.0.0.1 that forwards nothing: it
// records the host each request was for and answers 502. TestMain makes
// it this package's proxy, so that a notification service whose URL can
// only name its public API (slack, discord, telegram) is tried, and fails,
// without a byte leaving the machine.
type outboundTrap struct {
	listener net.Listener
	mu       sync.Mutex
	hosts    []string
}

func startOutboundTrap() (*outboundTrap, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the outbound trap: %w", err)
	}
	trap := &outboundTrap{listener: l}
	go trap.serve()
	return trap, nil
}

func (trap *outboundTrap) serve() {
	for {
		conn, err := trap.listener.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err != nil {
				return
			}
			trap.mu.Lock()
			trap.hosts = append(trap.hosts, req.Host)
			trap.mu.Unlock()
			_, _ = conn.Write([]byte("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}()
	}
}

func (trap *outboundTrap) url() *url.URL {
	return &url.URL{Scheme: "http", Host: trap.listener.Addr().String()}
}

// saw tells whether a request for host (host:port as a CONNECT names it,
// or host) reached the trap.
func (trap *outboundTrap) saw(host string) bool {
	trap.mu.Lock()
	defer trap.mu.Unlock()
	for _, h := range trap.hosts {
		if h == host {
			return true
		}
	}
	return false
}

// proxyTrap is the package's outbound trap, set once by TestMain.
var proxyTrap *outboundTrap

// TestMain routes every request this package's tests make through
// http.DefaultTransport to a non-loopback host into the outbound trap.
// net/http reads HTTP(S)_PROXY once, at the first request that asks; the
// variables are set for that first read and then put back, so that the
// programs tests start (headless Chromium, command: notifiers) inherit
// nothing. Loopback requests are never proxied.
func TestMain(m *testing.M) {
	trap, err := startOutboundTrap()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	proxyTrap = trap
	saved := map[string]string{}
	for _, name := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"} {
		if v, ok := os.LookupEnv(name); ok {
			saved[name] = v
		}
		_ = os.Unsetenv(name)
	}
	_ = os.Setenv("HTTP_PROXY", trap.url().String())
	_ = os.Setenv("HTTPS_PROXY", trap.url().String())
	probe, _ := http.NewRequest(http.MethodGet, "https://api.telegram.org/", nil)
	if p, err := http.ProxyFromEnvironment(probe); err != nil || p == nil || p.Host != trap.url().Host {
		fmt.Fprintf(os.Stderr, "the outbound trap is not the proxy of https requests (%v, %v)\n", p, err)
		os.Exit(2)
	}
	_ = os.Unsetenv("HTTP_PROXY")
	_ = os.Unsetenv("HTTPS_PROXY")
	for name, v := range saved {
		_ = os.Setenv(name, v)
	}
	os.Exit(m.Run())
}
