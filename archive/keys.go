package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// ParseRecipients reads age public keys: age1… X25519 keys and
// ssh-ed25519 / ssh-rsa public keys.
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		k = strings.TrimSpace(k)
		var (
			r   age.Recipient
			err error
		)
		switch {
		case strings.HasPrefix(k, "age1"):
			r, err = age.ParseX25519Recipient(k)
		case strings.HasPrefix(k, "ssh-"):
			r, err = agessh.ParseRecipient(k)
		case strings.HasPrefix(k, "AGE-SECRET-KEY-"):
			return nil, errors.New("a private age key was given as a recipient; give its public key (age-keygen -y key.txt)")
		default:
			err = errors.New("want an age1… public key or an ssh-ed25519/ssh-rsa public key")
		}
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w", abbreviate(k), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ReadRecipientsFile reads an age recipients file: one public key per
// line, # comments and blank lines ignored.
func ReadRecipientsFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading recipients: %w", err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keys = append(keys, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading recipients from %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no recipient; put one age1… or ssh-ed25519 public key per line", path)
	}
	return keys, nil
}

// LoadIdentities reads the private keys that decrypt archives: an age
// identity file (AGE-SECRET-KEY-1… lines) or an unencrypted SSH private key.
func LoadIdentities(path string) ([]age.Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading identity: %w", err)
	}
	switch {
	case bytes.Contains(data, []byte("AGE-SECRET-KEY-")):
		ids, err := age.ParseIdentities(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading age identity %s: %w", path, err)
		}
		return ids, nil
	case bytes.Contains(data, []byte("PRIVATE KEY")):
		id, err := agessh.ParseIdentity(data)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("SSH key %s is passphrase-protected; decrypt a copy (ssh-keygen -p -N '' -f copy) or use an age identity", path)
		}
		if err != nil {
			return nil, fmt.Errorf("reading SSH identity %s: %w", path, err)
		}
		return []age.Identity{id}, nil
	}
	return nil, fmt.Errorf("%s is neither an age identity file (AGE-SECRET-KEY-1…) nor an SSH private key", path)
}

func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
