package archive

import (
	"fmt"
	"strings"
	"time"
)

// Object name suffixes on a destination.
const (
	PlainSuffix     = ".tar.zst"
	EncryptedSuffix = ".tar.zst.age"
	SidecarSuffix   = ".manifest.json"
	// PinSuffix marks a pin: an object of its own beside the archive that
	// keeps the backup from retention (dr pin, dr unpin).
	PinSuffix  = ".pin"
	timeLayout = "20060102T150405Z"
)

// ObjectName is the archive's name on every destination:
// <stack>-<UTC yyyymmddThhmmssZ>.tar.zst, with .age when encrypted.
func ObjectName(stack string, at time.Time, encrypted bool) string {
	name := stack + "-" + at.UTC().Format(timeLayout) + PlainSuffix
	if encrypted {
		name += ".age"
	}
	return name
}

// SidecarName is the commit object beside an archive.
func SidecarName(archiveName string) string { return archiveName + SidecarSuffix }

// PinName is the pin object of an archive.
func PinName(archiveName string) string { return archiveName + PinSuffix }

// ParsedName is what an archive object name says about its backup.
type ParsedName struct {
	Stack     string
	Time      time.Time
	Encrypted bool
}

// ParseObjectName reads an archive object name (not a sidecar). Names that
// dr did not write give an error, so foreign files in a remote are ignored.
func ParseObjectName(name string) (ParsedName, error) {
	var p ParsedName
	base := name
	switch {
	case strings.HasSuffix(name, EncryptedSuffix):
		p.Encrypted = true
		base = strings.TrimSuffix(name, EncryptedSuffix)
	case strings.HasSuffix(name, PlainSuffix):
		base = strings.TrimSuffix(name, PlainSuffix)
	default:
		return p, fmt.Errorf("parsing backup name %q: not a %s or %s object", name, PlainSuffix, EncryptedSuffix)
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return p, fmt.Errorf("parsing backup name %q: expected <stack>-<time>", name)
	}
	t, err := time.Parse(timeLayout, base[i+1:])
	if err != nil {
		return p, fmt.Errorf("parsing backup name %q: bad time: %w", name, err)
	}
	p.Stack, p.Time = base[:i], t
	return p, nil
}
