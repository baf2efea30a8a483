package archive

import (
	"fmt"
	"path"
	"strings"
)

// checkName refuses entry names that could escape wherever the archive is
// unpacked: absolute paths, "..", backslashes and NUL.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("archive entry with an empty name")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("archive entry %q: absolute path", name)
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("archive entry %q: backslash or NUL in the name", name)
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." {
			return fmt.Errorf("archive entry %q escapes the archive with ..", name)
		}
	}
	if path.Clean(strings.TrimSuffix(name, "/")) != strings.TrimSuffix(name, "/") {
		return fmt.Errorf("archive entry %q is not a clean path", name)
	}
	return nil
}
