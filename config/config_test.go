package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const minimal = `stack:
  dir: /root/appwrite
destinations:
  - name: local
    remote: /var/backups/appwrite
`

func noEnv(string) string { return "" }

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestMinimalConfigTakesDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Destinations = []Destination{{Name: "local", Remote: "/var/backups/appwrite", Retention: DefaultRetention(), Timeout: DefaultTimeout}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("minimal config:\n got %+v\nwant %+v", cfg, want)
	}
	if cfg.Archive.ChunkSize != 64<<20 {
		t.Errorf("chunk size = %d", cfg.Archive.ChunkSize)
	}
}

func TestExampleMatchesDefaults(t *testing.T) {
	cfg, err := Parse(Example, "dr.example.yaml", noEnv)
	if err != nil {
		t.Fatalf("the shipped example does not load: %v", err)
	}
	want := Default()
	want.Destinations = []Destination{{Name: "local", Remote: "/var/backups/appwrite", Retention: DefaultRetention(), Timeout: DefaultTimeout}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("example drifted from the defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestRetentionDefaultsAndEmptyPolicy(t *testing.T) {
	cfg, err := Parse([]byte(`stack: {dir: /srv}
destinations:
  - {name: a, remote: /a, retention: {keep_last: 3}}
  - {name: b, remote: /b, retention: {}}
  - {name: c, remote: /c}
`), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Destination("a")
	if a.Retention.KeepLast != 3 || a.Retention.KeepDaily != 14 {
		t.Errorf("a: a partial block keeps the other defaults: %+v", a.Retention)
	}
	b, _ := cfg.Destination("b")
	if !b.Retention.Empty() || b.Retention.Mode != ModePrune || b.Retention.IncompleteGrace != Duration(24*time.Hour) {
		t.Errorf("b: retention {} is the empty policy: %+v", b.Retention)
	}
	c, _ := cfg.Destination("c")
	if !reflect.DeepEqual(c.Retention, DefaultRetention()) {
		t.Errorf("c: absent retention takes the defaults: %+v", c.Retention)
	}
	if _, ok := cfg.Destination("nope"); ok {
		t.Error("Destination found a name that is not configured")
	}
}

func TestErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml string
		key        string
		line       int
		msg        string
	}{
		{"unknown key with suggestion", "stack:\n  dir: /srv\n  databse: {}\ndestinations: [{name: a, remote: /a}]\n", "stack.databse", 3, "did you mean database?"},
		{"unknown top key", minimal + "stat_dir: /x\n", "stat_dir", 6, "did you mean state_dir?"},
		{"unknown retention key", "stack: {dir: /srv}\ndestinations:\n  - name: a\n    remote: /a\n    retention:\n      keep_dialy: 3\n", "destinations[0].retention.keep_dialy", 6, "did you mean keep_daily?"},
		{"bad cron", minimal + "schedule:\n  backup: \"61 * * * *\"\n", "schedule.backup", 7, "not a cron expression"},
		{"bad drill cron", minimal + "schedule: {drill: \"every day\"}\n", "schedule.drill", 6, "not a cron expression"},
		{"bad verify cron", minimal + "schedule: {verify: \"hourly\"}\n", "schedule.verify", 6, "not a cron expression"},
		{"bad duration", "stack: {dir: /srv}\ndestinations:\n  - name: a\n    remote: /a\n    retention: {keep_within: 3 fortnights}\n", "destinations[0].retention.keep_within", 5, "bad duration"},
		{"bad size", minimal + "archive:\n  chunk_size: huge\n", "archive.chunk_size", 7, "bad size"},
		{"chunk too small", minimal + "archive:\n  chunk_size: 1KiB\n", "archive.chunk_size", 7, "between 1MiB and 1GiB"},
		{"bad zone", minimal + "schedule:\n  timezone: Mars/Olympus\n", "schedule.timezone", 7, "not a time zone"},
		{"duplicate destination", "stack: {dir: /srv}\ndestinations:\n  - {name: a, remote: /a}\n  - {name: a, remote: /b}\n", "destinations[1].name", 4, "unique"},
		{"missing remote", "stack: {dir: /srv}\ndestinations:\n  - name: a\n", "destinations[0].remote", 0, "must not be empty"},
		{"missing destinations", "stack: {dir: /srv}\n", "destinations", 0, "at least one destination"},
		{"missing dir", "stack: {dir: \"\"}\ndestinations: [{name: a, remote: /a}]\n", "stack.dir", 1, "must not be empty"},
		{"relative state dir", minimal + "state_dir: var/lib/dr\n", "state_dir", 6, "absolute"},
		{"negative keep", "stack: {dir: /srv}\ndestinations:\n  - name: a\n    remote: /a\n    retention:\n      keep_last: -1\n", "destinations[0].retention.keep_last", 6, "negative"},
		{"bad mode", "stack: {dir: /srv}\ndestinations:\n  - {name: a, remote: /a, retention: {mode: delete-all}}\n", "destinations[0].retention.mode", 3, "append-only"},
		{"wrong type int", minimal + "archive: {zstd_level: fast}\n", "archive.zstd_level", 6, "whole number"},
		{"wrong type bool", "stack:\n  dir: /srv\n  database: {include_grants: maybe}\ndestinations: [{name: a, remote: /a}]\n", "stack.database.include_grants", 3, "true or false"},
		{"list expected", "stack:\n  dir: /srv\n  files: docker-compose.yml\ndestinations: [{name: a, remote: /a}]\n", "stack.files", 3, "want a list"},
		{"private key as recipient", minimal + "encryption:\n  recipients: [AGE-SECRET-KEY-1XYZ]\n", "encryption.recipients[0]", 7, "not an age public key"},
		{"bad listen", minimal + "http: {listen: localhost}\n", "http.listen", 6, "host:port"},
		{"escaping file", "stack:\n  dir: /srv\n  files: [../etc/shadow]\ndestinations: [{name: a, remote: /a}]\n", "stack.files[0]", 3, "relative"},
		{"bad kind", "stack:\n  dir: /srv\n  database: {kind: postgres}\ndestinations: [{name: a, remote: /a}]\n", "stack.database.kind", 3, "want auto"},
		{"given twice", minimal + "state_dir: /a\nstate_dir: /b\n", "state_dir", 7, "given twice"},
		{"bad notify", minimal + "notify:\n  - {url: \"hooks.example.invalid/x\"}\n", "notify[0].url", 7, "shoutrrr URL"},
		{"bad heartbeat kind", minimal + "heartbeats:\n  - {kind: cronitor, url: \"https://h.invalid/x\"}\n", "heartbeats[0].kind", 7, "want uptime-kuma or healthchecks"},
		{"bad heartbeat url", minimal + "heartbeats:\n  - {kind: healthchecks, url: \"hc-ping.com/x\"}\n", "heartbeats[0].url", 7, "http(s)"},
		{"bad notify event", minimal + "notify:\n  - url: https://h.invalid/x\n    on: [always]\n", "notify[0].on[0]", 8, "want failure"},
		{"upper-case destination name", "stack: {dir: /srv}\ndestinations:\n  - {name: Offsite, remote: /a}\n", "destinations[0].name", 3, "lower-case"},
		{"missing destination name", "stack: {dir: /srv}\ndestinations:\n  - remote: /a\n", "destinations[0].name", 0, "must not be empty"},
		{"relative stack dir", "stack: {dir: appwrite}\ndestinations: [{name: a, remote: /a}]\n", "stack.dir", 1, "absolute"},
		{"bad port", minimal + "http: {listen: \"127.0.0.1:99999\"}\n", "http.listen", 6, "port"},
		{"zstd level out of range", minimal + "archive: {zstd_level: 23}\n", "archive.zstd_level", 6, "1 to 22"},
		{"mapping where a value goes", minimal + "state_dir: {a: b}\n", "state_dir", 6, "want a string"},
		{"value where a mapping goes", minimal + "http: yes\n", "http", 6, "want a mapping"},
		{"no safety dump kept", minimal + "restore: {keep_safety_dumps: 0}\n", "restore.keep_safety_dumps", 6, "1 or more"},
		{"upload tolerance too short", minimal + "restore: {upload_tolerance: 10s}\n", "restore.upload_tolerance", 6, "1m or more"},
		{"unknown safety net", minimal + "restore: {safety_net: snapshot}\n", "restore.safety_net", 6, "want aside"},
		{"no aside kept", minimal + "restore: {keep_aside: 0}\n", "restore.keep_aside", 6, "1 or more"},
		{"no import connection", minimal + "restore: {import_connections: 0}\n", "restore.import_connections", 6, "want 1"},
		{"too many import connections", minimal + "restore: {import_connections: 64}\n", "restore.import_connections", 6, "to 16"},
		{"no drill cpus", minimal + "drill: {cpus: 0}\n", "drill.cpus", 6, "above 0"},
		{"drill memory too small", minimal + "drill: {memory: 64MiB}\n", "drill.memory", 6, "256MiB or more"},
		{"drill query without sql", minimal + "drill:\n  queries:\n    - {name: projects}\n", "drill.queries[0].sql", 0, "must not be empty"},
		{"drill query without name", minimal + "drill:\n  queries:\n    - {sql: SELECT 1}\n", "drill.queries[0].name", 0, "must not be empty"},
		{"drill query twice", minimal + "drill:\n  queries:\n    - {name: a, sql: SELECT 1}\n    - {name: a, sql: SELECT 2}\n", "drill.queries[1].name", 9, "used twice"},
		{"unknown key in destination", "stack: {dir: /srv}\ndestinations:\n  - {name: a, remote: /a, remot: /b}\n", "destinations[0].remot", 3, "did you mean remote?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "dr.yaml", noEnv)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			found := keyError(t, err, tt.key, tt.line, tt.msg)
			if !strings.HasPrefix(found.Error(), "dr.yaml") {
				t.Errorf("message %q does not name the file", found.Error())
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	_, err := Parse([]byte("stack: {dir: rel}\nstate_dir: rel\ndestinations: [{name: a}]\n"), "dr.yaml", noEnv)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

func TestSyntaxAndEmpty(t *testing.T) {
	_, err := Parse([]byte("stack:\n  dir: [unclosed\n"), "dr.yaml", noEnv)
	var ce *Error
	if !errors.As(err, &ce) || ce.Line == 0 || !strings.Contains(err.Error(), "not valid YAML") {
		t.Errorf("syntax error: got %v, want a located YAML error", err)
	}
	for _, empty := range []string{"  \n", "# only a comment\n", "~\n"} {
		_, err = Parse([]byte(empty), "dr.yaml", noEnv)
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("empty file %q: got %v", empty, err)
		}
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	cfg, err := Parse([]byte(minimal), "dr.yaml", env(map[string]string{
		"DR_STATE_DIR":                     "/srv/dr",
		"DR_STACK_DATABASE_SERVICE":        "db",
		"DR_ARCHIVE_CHUNK_SIZE":            "8MiB",
		"DR_STACK_DATABASE_INCLUDE_GRANTS": "true",
		"DR_SCHEDULE_BACKUP":               "@hourly",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir != "/srv/dr" || cfg.Stack.Database.Service != "db" || cfg.Archive.ChunkSize != 8<<20 ||
		!cfg.Stack.Database.IncludeGrants || cfg.Schedule.Backup != "@hourly" {
		t.Errorf("overrides not applied: %+v", cfg)
	}

	tests := []struct{ env, value, msg string }{
		{"DR_STATE_DIR", "relative", "absolute"},
		{"DR_STACK_DIR", "appwrite", "absolute"},
		{"DR_STACK_DATABASE_INCLUDE_GRANTS", "perhaps", "true or false"},
		{"DR_SCHEDULE_TIMEZONE", "Nowhere/Else", "time zone"},
		{"DR_HTTP_LISTEN", "9477", "host:port"},
		{"DR_ARCHIVE_ZSTD_LEVEL", "high", "whole number"},
		{"DR_ARCHIVE_CHUNK_SIZE", "lots", "bad size"},
		{"DR_SCHEDULE_BACKUP", "sometimes", "cron"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(minimal), "dr.yaml", env(map[string]string{tt.env: tt.value}))
		var errs Errors
		if !errors.As(err, &errs) || errs[0].Key != tt.env || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s=%s: got %v, want an error naming %s", tt.env, tt.value, err, tt.env)
			continue
		}
		if got := errs[0].Error(); !strings.HasPrefix(got, tt.env+": ") {
			t.Errorf("%s=%s: message %q should start with the variable, not a file line", tt.env, tt.value, got)
		}
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"state_dir":                  "DR_STATE_DIR",
		"stack.database.service":     "DR_STACK_DATABASE_SERVICE",
		"encryption.recipients_file": "DR_ENCRYPTION_RECIPIENTS_FILE",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%s) = %s, want %s", key, got, want)
		}
	}
}

func TestDurationAndSize(t *testing.T) {
	durations := map[string]time.Duration{
		"36h": 36 * time.Hour, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, "90m": 90 * time.Minute, "0": 0, "1.5d": 36 * time.Hour,
	}
	for in, want := range durations {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "3 fortnights", "5y", "-"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	sizes := map[string]int64{"64MiB": 64 << 20, "1GiB": 1 << 30, "10MB": 10e6, "512": 512, "2KiB": 2048, "1.5GiB": 3 << 29}
	for in, want := range sizes {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"MiB", "-1MiB", "lots"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	if s := Size(64 << 20).String(); s != "64MiB" {
		t.Errorf("Size.String = %s", s)
	}
	if s := Duration(14 * 24 * time.Hour).String(); s != "2w" {
		t.Errorf("Duration.String = %s", s)
	}
}

func TestResolvePath(t *testing.T) {
	exists := func(set ...string) func(string) bool {
		return func(p string) bool {
			for _, s := range set {
				if s == p {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		flag, env string
		present   []string
		want      string
	}{
		{"/x.yaml", "/env.yaml", []string{"dr.yaml"}, "/x.yaml"},
		{"", "/env.yaml", []string{"dr.yaml"}, "/env.yaml"},
		{"", "", []string{"dr.yaml", "/etc/dr/dr.yaml"}, "dr.yaml"},
		{"", "", []string{"/etc/dr/dr.yaml"}, "/etc/dr/dr.yaml"},
	}
	for _, tt := range tests {
		got, err := ResolvePath(tt.flag, env(map[string]string{"DR_CONFIG": tt.env}), exists(tt.present...))
		if err != nil || got != tt.want {
			t.Errorf("ResolvePath(%q, %q) = %q, %v; want %q", tt.flag, tt.env, got, err, tt.want)
		}
	}
	if _, err := ResolvePath("", noEnv, exists()); err == nil || !strings.Contains(err.Error(), "/etc/dr/dr.yaml") {
		t.Errorf("no file anywhere: got %v, want an error naming the places tried", err)
	}
}

func TestRedactedAndYAML(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"notify:\n  - {name: ops, url: \"https://user:pw@hooks.example.invalid/T0/B0/secret?token=abc\"}\n"), "dr.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Redacted().YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pw@", "secret", "token=abc"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("redacted YAML still holds %q:\n%s", secret, out)
		}
	}
	if cfg.Notify[0].URL != "https://user:pw@hooks.example.invalid/T0/B0/secret?token=abc" {
		t.Error("Redacted changed the original")
	}
	// What config check prints must load again to the same config.
	dir := t.TempDir()
	plain, _ := cfg.YAML()
	path := filepath.Join(dir, "round.yaml")
	if err := os.WriteFile(path, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path, noEnv)
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, plain)
	}
	if printed, _ := again.YAML(); string(printed) != string(plain) {
		t.Errorf("round trip changed the config:\n got %s\nwant %s", printed, plain)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add(Example)
	f.Add([]byte("stack: [1, 2]\ndestinations: {a: b}\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", noEnv)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *config.Error: %v", err)
			}
			return
		}
		if len(cfg.Destinations) == 0 || cfg.Stack.Dir == "" {
			t.Fatalf("accepted a config without destinations or stack.dir")
		}
		// Whatever is accepted must print and load back unchanged.
		printed, err := cfg.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(printed, "printed.yaml", noEnv)
		if err != nil {
			t.Fatalf("printed config does not load: %v\n%s", err, printed)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("round trip changed the config:\n%s", printed)
		}
	})
}

func TestVolumeListsAndGrace(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		wantErr    string // "" means valid
	}{
		{"excluded and backed up", "stack: {dir: /s, volumes: [a, b], exclude_volumes: [b]}\n", `stack.exclude_volumes[0]: "b" is also in stack.volumes`},
		{"volume twice", "stack: {dir: /s, volumes: [a, a]}\n", `stack.volumes[1]: "a" is listed twice`},
		{"empty exclude", "stack: {dir: /s, exclude_volumes: [\"\"]}\n", "stack.exclude_volumes[0]: must not be empty"},
		{"exclude replaces the default", "stack: {dir: /s, exclude_volumes: [appwrite-redis]}\n", ""},
		{"grace of zero", "stack: {dir: /s}\ndestinations: [{name: x, remote: /x, retention: {incomplete_grace: 0s}}]\n", "incomplete_grace: 0s is too short: want at least 1h"},
		{"grace under an hour", "stack: {dir: /s}\ndestinations: [{name: x, remote: /x, retention: {incomplete_grace: 59m}}]\n", "another host's upload still running"},
		{"timeout under a second", "stack: {dir: /s}\ndestinations: [{name: x, remote: /x, timeout: 500ms}]\n", "destinations[0].timeout"},
		{"timeout over an hour", "stack: {dir: /s}\ndestinations: [{name: x, remote: /x, timeout: 2h}]\n", "want between 1s and 1h"},
		{"timeout of ten seconds", "stack: {dir: /s}\ndestinations: [{name: x, remote: /x, timeout: 10s}]\n", ""},
		{"grace of an hour", "stack: {dir: /s}\ndestinations: [{name: x, remote: /x, retention: {incomplete_grace: 1h}}]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.yaml
			if !strings.Contains(doc, "destinations") {
				doc += "destinations: [{name: local, remote: /x}]\n"
			}
			_, err := Parse([]byte(doc), "dr.yaml", noEnv)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("want an error with %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestVolumesDefaulted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		volumes []string
		want    bool
	}{
		{"the default", DefaultVolumes(), true},
		{"the default in another order", []string{"appwrite-imports", "appwrite-sites", "appwrite-config", "appwrite-certificates", "appwrite-builds", "appwrite-functions", "appwrite-uploads"}, true},
		{"the five of Appwrite 1.6", DefaultVolumes()[:5], false},
		{"none", nil, false},
		{"a volume more", append(DefaultVolumes(), "extra"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Stack{Volumes: tc.volumes}).VolumesDefaulted(); got != tc.want {
				t.Errorf("VolumesDefaulted(%v) = %v, want %v", tc.volumes, got, tc.want)
			}
		})
	}
	for _, v := range []string{"appwrite-sites", "appwrite-imports"} {
		if !slices.Contains(Default().Stack.Volumes, v) {
			t.Errorf("the default volumes lack %s, which Appwrite 1.7+ mounts", v)
		}
	}
}

// TestLoaderLimits: a valid-looking but huge file took 16 s and 3.6 GB
// before the limits; each is now refused at once with a reason.
func TestLoaderLimits(t *testing.T) {
	var list strings.Builder
	list.WriteString("stack:\n  dir: /s\n  volumes:\n")
	for i := 0; i <= maxListLen; i++ {
		fmt.Fprintf(&list, "    - v%d\n", i)
	}
	list.WriteString("destinations: [{name: local, remote: /x}]\n")

	// The schema has no list of lists, so aliases multiply only through
	// lists of structs: 200 notify targets share one 1000-entry "on" list,
	// 200,000 values from a 10 KiB file.
	var bomb strings.Builder
	bomb.WriteString(minimal + "notify:\n  - {url: \"https://h.invalid\", on: &on [" + strings.Repeat("failure, ", 999) + "failure]}\n")
	for i := 0; i < 200; i++ {
		bomb.WriteString("  - {url: \"https://h.invalid\", on: *on}\n")
	}

	big := minimal + "# " + strings.Repeat("x", MaxFileSize) + "\n"

	for _, tc := range []struct {
		name, doc, want string
	}{
		{"file over the size limit", big, "larger than 1024 KiB"},
		{"list over the length limit", list.String(), "1001 entries; at most 1000"},
		{"alias bomb", bomb.String(), "more than 100000 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "dr.yaml", noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %.300v", tc.want, err)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %v", err)
			}
		})
	}

	path := filepath.Join(t.TempDir(), "dr.yaml")
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, noEnv); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load of a file over the limit: %v", err)
	}
}

// keyError finds the error for key among a Parse's errors and checks its
// line (when line is not 0) and that its message holds msg.
func keyError(t *testing.T, err error, key string, line int, msg string) *Error {
	t.Helper()
	var found *Error
	for _, e := range err.(Errors) {
		if e.Key == key {
			found = e
		}
	}
	if found == nil {
		t.Fatalf("no error for key %s in: %v", key, err)
	}
	if line != 0 && found.Line != line {
		t.Errorf("line = %d, want %d (%v)", found.Line, line, found)
	}
	if !strings.Contains(found.Error(), msg) {
		t.Errorf("message %q lacks %q", found.Error(), msg)
	}
	return found
}
