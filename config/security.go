package config

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
)

// Unencrypted is the warning for backups made without encryption
// recipients. File modes on a local destination keep other users of the
// host out, but not root, not whoever gets the disk or the remote, and not
// a copy taken elsewhere.
const Unencrypted = "backups are not encrypted (no encryption.recipients): every archive holds the database and the stack's .env secrets in the clear " +
	"on every destination, local ones included; set encryption.recipients (dr keygen makes a key pair; keep its private half off this host)"

// UnencryptedWarning is Unencrypted when the configuration has no
// recipients, "" otherwise.
func (c *Config) UnencryptedWarning() string {
	if c.Encryption.Enabled() {
		return ""
	}
	return Unencrypted
}

// FileModeWarning is the warning for a dr.yaml that holds secrets (those
// Redacted hides) and that users other than its owner can read, "" when
// there is nothing to say. A file that cannot be read is not judged here:
// loading it reports that.
func (c *Config) FileModeWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fileModeWarning(path, st.Mode(), c.holdsSecrets())
}

func fileModeWarning(path string, mode fs.FileMode, secrets bool) string {
	if !secrets || mode.Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds secrets and is readable by others (mode %04o); run: chmod 600 %s", path, mode.Perm(), path)
}

// holdsSecrets says whether printing the configuration would need
// redaction, which is what makes the file worth protecting.
func (c *Config) holdsSecrets() bool {
	plain, err1 := c.YAML()
	red, err2 := c.Redacted().YAML()
	if err1 != nil || err2 != nil {
		return true // cannot tell: err on the side of the warning
	}
	return !bytes.Equal(plain, red)
}

// ExposedWithoutTokenProblem is why dr daemon refuses this configuration's
// HTTP endpoint, "" when it does not: an http.listen other hosts can reach
// without http.token_file would hand /status, /metrics and the status page
// (backup names, destinations, the errors of failed runs) to anyone on the
// network, with nothing in the logs to say so.
func (c *Config) ExposedWithoutTokenProblem() string {
	if c.HTTP.TokenFile != "" || IsLoopbackListen(c.HTTP.Listen) {
		return ""
	}
	return fmt.Sprintf("http.listen %s can be reached from other hosts and http.token_file is not set: anyone who reaches it would read /status, /metrics and the status page; "+
		"set http.token_file (openssl rand -hex 32 > /etc/dr/http-token && chmod 600 /etc/dr/http-token) or listen on 127.0.0.1", c.HTTP.Listen)
}

// IsLoopbackListen says whether a listen address (host:port) accepts
// connections from this host only: a loopback IP (127.0.0.0/8, ::1) or
// "localhost". An empty host, 0.0.0.0 and :: listen on every interface;
// any other host name may resolve to a public address, so it counts as
// reachable from elsewhere.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
