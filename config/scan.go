package config

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Scan is the malware scan of uploaded files: drills and the hacked
// runbook stream every file of Volumes from the archive to clamd.
type Scan struct {
	// Clamd is where clamd listens: unix:/run/clamav/clamd.ctl (or the
	// bare absolute path), tcp:127.0.0.1:3310 (loopback only), or
	// container:SERVICE for the stack's own ClamAV service, reached
	// through the Docker engine. Empty: nothing is scanned, and drills
	// say so.
	Clamd string `yaml:"clamd"`
	// Volumes are the volumes whose files are scanned (configured names,
	// each also in stack.volumes).
	Volumes []string `yaml:"volumes"`
}

// Clamd address kinds.
const (
	ClamdUnix      = "unix"
	ClamdTCP       = "tcp"
	ClamdContainer = "container"
)

// ClamdAddress is a parsed scan.clamd.
type ClamdAddress struct {
	// Kind is ClamdUnix, ClamdTCP or ClamdContainer.
	Kind string
	// Target is the socket path, the host:port, or the compose service.
	Target string
}

func (a ClamdAddress) String() string { return a.Kind + ":" + a.Target }

// DefaultScanVolumes are Appwrite's uploaded files.
func DefaultScanVolumes() []string { return []string{"appwrite-uploads"} }

// ParseClamd reads a scan.clamd value. A TCP address must be loopback:
// dr talks to nothing beyond this host but its destinations, and clamd's
// protocol has no authentication.
func ParseClamd(s string) (ClamdAddress, error) {
	kind, target, found := strings.Cut(s, ":")
	if !found || strings.HasPrefix(s, "/") {
		kind, target = ClamdUnix, s
	}
	switch kind {
	case ClamdUnix:
		if !filepath.IsAbs(target) {
			return ClamdAddress{}, fmt.Errorf("%q: want unix:/ABSOLUTE/PATH of clamd's LocalSocket (e.g. unix:/run/clamav/clamd.ctl), tcp:127.0.0.1:PORT or container:SERVICE", s)
		}
		return ClamdAddress{Kind: ClamdUnix, Target: filepath.Clean(target)}, nil
	case ClamdTCP:
		host, port, err := net.SplitHostPort(target)
		if err != nil {
			return ClamdAddress{}, fmt.Errorf("%q: want tcp:HOST:PORT, e.g. tcp:127.0.0.1:3310", s)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return ClamdAddress{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return ClamdAddress{}, fmt.Errorf("%q: clamd must listen on loopback (127.0.0.1, ::1 or localhost): its protocol has no authentication, and dr reaches no other host; for the stack's own ClamAV container use container:SERVICE", s)
		}
		return ClamdAddress{Kind: ClamdTCP, Target: target}, nil
	case ClamdContainer:
		if target == "" || strings.ContainsAny(target, " /:") {
			return ClamdAddress{}, fmt.Errorf("%q: want container:SERVICE, the compose service that runs clamd (Appwrite's is clamav)", s)
		}
		return ClamdAddress{Kind: ClamdContainer, Target: target}, nil
	}
	return ClamdAddress{}, fmt.Errorf("%q: want unix:/PATH, tcp:127.0.0.1:PORT or container:SERVICE", s)
}

// Enabled says whether uploads are scanned.
func (s Scan) Enabled() bool { return s.Clamd != "" }

// Address is the parsed scan.clamd (validated at load time).
func (s Scan) Address() (ClamdAddress, error) { return ParseClamd(s.Clamd) }

func (l *loader) validateScan(c *Config) {
	l.volumeList("scan.volumes", c.Scan.Volumes)
	if !c.Scan.Enabled() {
		return
	}
	if _, err := ParseClamd(c.Scan.Clamd); err != nil {
		l.addAt("scan.clamd", "%v", err)
	}
	if len(c.Scan.Volumes) == 0 {
		l.addAt("scan.volumes", "must list at least one volume to scan when scan.clamd is set (Appwrite's uploads are appwrite-uploads)")
	}
	for i, v := range c.Scan.Volumes {
		if v != "" && !slices.Contains(c.Stack.Volumes, v) {
			l.addAt(fmt.Sprintf("scan.volumes[%d]", i), "%q is not in stack.volumes: it is not backed up, so there is nothing to scan", v)
		}
	}
}
