package config

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
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
