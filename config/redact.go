package config

import (
	"bytes"
	"fmt"
	"net/url"

	"gopkg.in/yaml.v3"
)

const redacted = "<redacted>"

// Redacted is a copy fit to print or log: notification URLs lose their
// user info, path and query, where webhook services put their tokens.
// Recipients are public keys and token_file is only a path (its contents are
// never loaded here), so both stay.
func (c *Config) Redacted() *Config {
	out := *c
	out.Notify = make([]Notify, len(c.Notify))
	for i, n := range c.Notify {
		n.URL = redactURL(n.URL)
		n.On = append([]string(nil), n.On...)
		out.Notify[i] = n
	}
	return &out
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		// command:/path names a program on this host; it holds no secret.
		return raw
	}
	// Built by hand: url.URL.String would percent-encode the marker.
	out := u.Scheme + "://"
	if u.User != nil {
		out += redacted + "@"
	}
	out += u.Host
	// Slack, Discord and most webhook services carry the token in the path.
	if u.Path != "" && u.Path != "/" {
		out += "/" + redacted
	}
	if u.RawQuery != "" {
		out += "?" + redacted
	}
	return out
}

// YAML prints the configuration as dr understands it, defaults filled in;
// the output loads back to the same configuration.
func (c *Config) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2) // as dr.example.yaml is written
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("printing the config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("printing the config: %w", err)
	}
	return buf.Bytes(), nil
}
