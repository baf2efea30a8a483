package config

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/appwrite-dr/dr/internal/redact"
)

const redacted = redact.Marker

// Redacted is a copy fit to print or log: destination remotes lose their
// credentials (redact.String: URL passwords and rclone parameters such as
// pass=, secret_access_key=), notification URLs lose their user info,
// path and query, where webhook and shoutrrr services put their tokens
// (a shoutrrr URL also its host, unless it names a server), and command:
// notifications their arguments. Recipients are public keys and
// token_file is only a path (its contents are never loaded here), so both
// stay.
func (c *Config) Redacted() *Config {
	out := *c
	out.Destinations = make([]Destination, len(c.Destinations))
	for i, d := range c.Destinations {
		d.Remote = redact.String(d.Remote)
		out.Destinations[i] = d
	}
	out.Notify = make([]Notify, len(c.Notify))
	for i, n := range c.Notify {
		n.URL = redactURL(n.URL)
		n.On = append([]string(nil), n.On...)
		out.Notify[i] = n
	}
	out.Heartbeats = make([]Heartbeat, len(c.Heartbeats))
	for i, h := range c.Heartbeats {
		h.URL = redactURL(h.URL) // a push token or check UUID is a credential
		out.Heartbeats[i] = h
	}
	return &out
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.Scheme == "command" {
		// The program is a path on this host and stays; its arguments
		// may be a token or a password.
		prog, args, _ := strings.Cut(strings.TrimSpace(raw), " ")
		if strings.TrimSpace(args) != "" {
			return prog + " " + redacted
		}
		return prog
	}
	if u.Host == "" && u.Opaque != "" {
		return redact.String(raw)
	}
	// Built by hand: url.URL.String would percent-encode the marker.
	out := u.Scheme + "://"
	if u.User != nil {
		out += redacted + "@"
	}
	// A shoutrrr URL's "host" is often a credential or a keyword
	// (discord://token@WEBHOOK_ID, ifttt://KEY, telegram://…@telegram):
	// only a host that reads as a server's name or address stays.
	if u.Scheme == "http" || u.Scheme == "https" || strings.ContainsAny(u.Host, ".:") {
		out += u.Host
	} else if u.Host != "" {
		out += redacted
	}
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
