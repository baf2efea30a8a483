// Package dotenv reads the .env file of a compose stack. It sits at the
// bottom so that every package comparing or checking a .env (drills, dr
// diff) reads it the same way.
package dotenv

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// MaxSize bounds the .env read from an archive or the stack dir.
const MaxSize = 4 << 20

// Parse reads a .env file as docker compose does for the simple forms
// Appwrite writes: KEY=VALUE lines, blank lines and # comments, an
// optional "export ", values optionally in single or double quotes. A
// line it cannot read is an error naming the line, never quoting it: the
// line may hold a secret.
func Parse(data []byte) (map[string]string, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf(".env is %d bytes, more than a .env can be", len(data))
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validKey(key) {
			return nil, fmt.Errorf(".env line %d is not KEY=VALUE", n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') {
			q := value[0]
			end := strings.IndexByte(value[1:], q)
			if end < 0 {
				return nil, fmt.Errorf(".env line %d: the value of %s opens a quote it never closes", n, key)
			}
			value = value[1 : 1+end]
		} else if len(value) == 1 && (value[0] == '"' || value[0] == '\'') {
			return nil, fmt.Errorf(".env line %d: the value of %s opens a quote it never closes", n, key)
		} else if i := strings.Index(value, " #"); i >= 0 {
			value = strings.TrimSpace(value[:i])
		}
		out[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading .env: %w", err)
	}
	return out, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		case r == '.' || r == '-':
		default:
			return false
		}
	}
	return true
}
