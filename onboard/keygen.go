package onboard

import (
	"fmt"
	"time"

	"filippo.io/age"
)

// Identity is a new age key pair, as dr keygen writes it.
type Identity struct {
	Recipient string // age1…, for encryption.recipients
	File      []byte // the identity file, in age-keygen's format
}

// NewIdentity makes an X25519 age identity. The file is what age-keygen
// writes, so age -d -i FILE and every dr command that takes -i read it.
func NewIdentity(now time.Time) (*Identity, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("making an age identity: %w", err)
	}
	rcpt := id.Recipient().String()
	file := fmt.Sprintf("# created: %s by dr keygen\n# public key: %s\n%s\n", now.UTC().Format(time.RFC3339), rcpt, id.String())
	return &Identity{Recipient: rcpt, File: []byte(file)}, nil
}
