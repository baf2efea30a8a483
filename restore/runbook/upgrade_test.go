package runbook

import (
	"maps"
	"strings"
	"testing"
)

func TestParseComposeImages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		want   map[string]string
		err    string
	}{
		{"resolved images, a built service", `
version: "2.4"
services:
  appwrite:
    image: appwrite/appwrite:1.8.0
    environment:
      _APP_OPENSSL_KEY_V1: not-read
  mariadb:
    image: mariadb:10.11
  local:
    build: .
`, map[string]string{"appwrite": "appwrite/appwrite:1.8.0", "mariadb": "mariadb:10.11", "local": ""}, ""},
		{"no services", "version: '3'\n", nil, "no services"},
		{"not YAML", "services: [", nil, "reading docker compose config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseComposeImages([]byte(tc.config))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("parseComposeImages = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
