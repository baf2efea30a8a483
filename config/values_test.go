package config

import (
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/internal/golden"
)

// The effective-config print is what operators read and paste into bug
// reports; its shape is pinned.
func TestEffectiveYAMLGolden(t *testing.T) {
	cfg, err := Parse([]byte(`stack:
  dir: /root/appwrite
destinations:
  - name: local
    remote: /var/backups/appwrite
  - name: dav
    remote: ":webdav,url='https://bob:davpass1@dav.example.invalid/dr',user=bob,pass=obscuredpass2:appwrite"
  - name: s3
    remote: ":s3,provider=Minio,endpoint='https://s3.example.invalid',access_key_id=AKIAKEY3,secret_access_key=s3secret4:bucket/appwrite"
notify:
  - name: ops
    url: "https://ops:hunter2@hooks.example.invalid/services/T0/B0/tok?key=abc"
  - name: script
    url: "command:/usr/local/bin/page-me"
    on: [failure, drill]
  - name: script-with-token
    url: "command:/usr/local/bin/page-me --token cmdtoken5"
heartbeats:
  - {name: kuma, kind: uptime-kuma, url: "https://kuma.example.invalid/api/push/pushtok6"}
encryption:
  recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]
`), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Redacted().YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"davpass1", "obscuredpass2", "AKIAKEY3", "s3secret4", "hunter2", "tok?", "abc", "cmdtoken5", "pushtok6"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the effective config keeps the secret %q", secret)
		}
	}
	golden.Check(t, "effective-redacted.golden", out)
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://u:p@h.invalid/a/b?t=1", "https://<redacted>@h.invalid/<redacted>?<redacted>"},
		{"https://h.invalid", "https://h.invalid"},
		{"https://h.invalid/", "https://h.invalid"},
		{"http://h.invalid:8080/hook", "http://h.invalid:8080/<redacted>"},
		{"command:/usr/local/bin/notify", "command:/usr/local/bin/notify"},
		{"command:/usr/local/bin/notify --token abc ops", "command:/usr/local/bin/notify <redacted>"},
		{"https://h.invalid/%zz", "<redacted>"},
		// shoutrrr URLs: tokens in the user, the host, the path or the query.
		{"discord://S3cr3tT0k3n@123456789012345678", "discord://<redacted>@<redacted>"},
		{"slack://hook:T000-B000-S3cr3t@webhook", "slack://<redacted>@<redacted>"},
		{"telegram://110201543:S3cr3t@telegram?chats=@ops", "telegram://<redacted>@<redacted>?<redacted>"},
		{"ntfy://ntfy.sh/s3cr3t-topic", "ntfy://ntfy.sh/<redacted>"},
		{"gotify://gotify.example.invalid/S3cr3tT0k3n", "gotify://gotify.example.invalid/<redacted>"},
		{"ifttt://S3cr3tK3y/?events=backup", "ifttt://<redacted>?<redacted>"},
		{"smtp://bob:s3cr3t@127.0.0.1:25/?to=ops@example.invalid", "smtp://<redacted>@127.0.0.1:25?<redacted>"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNotifyOnDefaultsToFailure(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"notify:\n  - {url: \"https://h.invalid/x\"}\n"), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Notify[0].On; len(got) != 1 || got[0] != "failure" {
		t.Errorf("on = %v, want [failure]", got)
	}
}

func TestLocation(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"schedule: {timezone: Europe/Berlin}\n"), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Location().String(); got != "Europe/Berlin" {
		t.Errorf("Location = %s", got)
	}
}

func TestRetentionEmpty(t *testing.T) {
	tests := []struct {
		name string
		r    Retention
		want bool
	}{
		{"zero", Retention{}, true},
		{"grace and mode are not keep rules", Retention{IncompleteGrace: Duration(time.Hour), Mode: ModeAppendOnly}, true},
		{"keep_last", Retention{KeepLast: 1}, false},
		{"keep_yearly", Retention{KeepYearly: 1}, false},
		{"keep_within", Retention{KeepWithin: Span{Hours: 1}}, false},
		{"defaults", DefaultRetention(), false},
	}
	for _, tt := range tests {
		if got := tt.r.Empty(); got != tt.want {
			t.Errorf("%s: Empty() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHugeValuesAreErrorsNotWraparound(t *testing.T) {
	for _, in := range []string{"99999999999999w", "9223372036854775807h1h"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
	if n, err := ParseSize("99999999999TiB"); err == nil {
		t.Errorf("ParseSize accepted an overflow: %d", n)
	}
	_, err := Parse([]byte(minimal+"archive: {concurrency: 18446744073709551615}\n"), "dr.yaml", noEnv)
	if err == nil || !strings.HasPrefix(err.Error(), "dr.yaml:6") {
		t.Errorf("integer overflow: got %v, want an error at dr.yaml:6", err)
	}
}

func BenchmarkParseExample(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(Example, "dr.example.yaml", noEnv); err != nil {
			b.Fatal(err)
		}
	}
}
