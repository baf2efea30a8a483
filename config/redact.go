package config

import (
	"fmt"
	"net/url"

	"gopkg.in/yaml.v3"
)

const redacted = "<redacted>"

// Redacted is a copy fit to print: notification URLs lose their password
// and query (where webhook tokens live). Recipients are public keys and
// token_file is only a path, so both stay.
func (c *Config) Redacted() *Config {
	out := *c
	out.Notify = make([]Notify, len(c.Notify))
	for i, n := range c.Notify {
		n.URL = redactURL(n.URL)
		out.Notify[i] = n
	}
	return &out
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = "xxxxx"
	}
	// Webhook URLs often carry their token in the path (Slack, Discord).
	if u.Path != "" && len(u.Path) > 1 {
		u.Path = "/" + redacted
	}
	return u.String()
}

// YAML prints the configuration as dr understands it.
func (c *Config) YAML() ([]byte, error) {
	out, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("printing the config: %w", err)
	}
	return out, nil
}
