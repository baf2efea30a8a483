package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
)

func TestParseDfAvail(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"Filesystem     1024-blocks      Used Available Capacity Mounted on\noverlay         102687672  25339284  72089180      27% /var/lib/mysql\n", 72089180 << 10, true},
		{"", 0, false},
		{"Filesystem 1024-blocks Used Available\n", 0, false},
		{"head\nx y z notanumber 1% /\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDfAvail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDfAvail(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDiskVerdict(t *testing.T) {
	if c := diskVerdict(Check{Name: CheckDisk}, 100<<20, 200<<20); c.Passed || !strings.Contains(c.Detail, "free space") {
		t.Errorf("too little disk passed: %+v", c)
	}
	if c := diskVerdict(Check{Name: CheckDisk}, 200<<20, 200<<20); !c.Passed {
		t.Errorf("enough disk failed: %+v", c)
	}
}

func TestCheckTableProblems(t *testing.T) {
	rows := [][]string{
		{"appwrite.a", "check", "status", "OK"},
		{"appwrite.b", "check", "warning", "Table is marked as crashed"},
		{"appwrite.b", "check", "status", "Corrupt"},
		{"appwrite.c", "check", "error", "Table 'appwrite.c' doesn't exist"},
		{"appwrite.c", "check", "status", "Operation failed"},
		{"short"},
	}
	got := checkTableProblems(rows)
	if len(got) != 2 || !strings.HasPrefix(got[0], "appwrite.b") || !strings.HasPrefix(got[1], "appwrite.c") {
		t.Errorf("got %v", got)
	}
	if p := checkTableProblems(rows[:1]); len(p) != 0 {
		t.Errorf("an OK table is a problem: %v", p)
	}
}

func TestEnvChecks(t *testing.T) {
	full := "_APP_OPENSSL_KEY_V1=key-one\n_APP_DB_HOST=mariadb\n_APP_DB_PORT=3306\n_APP_DB_SCHEMA=appwrite\n_APP_DB_USER=user\n_APP_DB_PASS=pass\n"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	same := write("same.env", full)
	other := write("other.env", strings.Replace(full, "key-one", "key-two", 1))
	noKey := write("nokey.env", "_APP_DB_HOST=x\n")
	tests := []struct {
		name             string
		archived         *string
		live             string
		env, key         string // "pass", "fail" or "skip"
		keyDetailHasNone string
	}{
		{"equal", &full, same, "pass", "pass", ""},
		{"differs", &full, other, "pass", "fail", "key-"},
		{"no live env", &full, filepath.Join(dir, "missing"), "pass", "skip", ""},
		{"live lacks the key", &full, noKey, "pass", "fail", ""},
		{"archived lacks keys", ptr("_APP_OPENSSL_KEY_V1=key-one\n"), same, "fail", "pass", ""},
		{"not appwrite", ptr("FOO=bar\n"), same, "pass", "skip", ""},
		{"no env in backup", nil, same, "skip", "skip", ""},
		{"unparsable", ptr("key-one\n"), same, "fail", "skip", "key-one"},
	}
	d := &driller{cfg: config.Default()}
	verdict := func(c Check) string {
		switch {
		case c.Skipped:
			return "skip"
		case c.Passed:
			return "pass"
		}
		return "fail"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			if tt.archived != nil {
				data = []byte(*tt.archived)
			}
			env, key := d.envChecks(data, tt.live)
			if verdict(env) != tt.env || verdict(key) != tt.key {
				t.Errorf("env %s (%s), key %s (%s); want %s, %s", verdict(env), env.Detail, verdict(key), key.Detail, tt.env, tt.key)
			}
			if tt.keyDetailHasNone != "" && (strings.Contains(key.Detail, tt.keyDetailHasNone) || strings.Contains(env.Detail, tt.keyDetailHasNone)) {
				t.Errorf("a detail prints a value: %q / %q", env.Detail, key.Detail)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestOwnerIsStablePerStateDir(t *testing.T) {
	if Owner("/var/lib/dr") != Owner("/var/lib/dr/") || Owner("/var/lib/dr") == Owner("/var/lib/dr2") {
		t.Error("owner labels do not tell state dirs apart")
	}
}

func TestObjectsVerdict(t *testing.T) {
	want := []archive.Object{
		{Database: "appwrite", Kind: archive.ObjectTrigger, Name: "_1_users_touch"},
		{Database: "appwrite", Kind: archive.ObjectProcedure, Name: "count_sessions"},
		{Database: "appwrite", Kind: archive.ObjectEvent, Name: "purge"},
	}
	all := [][]string{
		{"appwrite", "trigger", "_1_users_touch"},
		{"appwrite", "procedure", "count_sessions"},
		{"appwrite", "event", "purge"},
	}
	tests := []struct {
		name        string
		rows        [][]string
		pass        bool
		detailHolds string
	}{
		{"all present", all, true, "all 3"},
		{"more on the server is fine", append(all, []string{"appwrite", "function", "extra"}), true, "all 3"},
		{"an event missing", all[:2], false, "event appwrite.purge"},
		{"same name, other kind", [][]string{all[0], {"appwrite", "function", "count_sessions"}, all[2]}, false, "procedure appwrite.count_sessions"},
		{"other database", [][]string{{"other", "trigger", "_1_users_touch"}, all[1], all[2]}, false, "trigger appwrite._1_users_touch"},
		{"short rows ignored", [][]string{{"appwrite"}, all[1], all[2]}, false, "_1_users_touch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pass, detail := objectsVerdict(want, tt.rows)
			if pass != tt.pass || !strings.Contains(detail, tt.detailHolds) {
				t.Errorf("got %v %q, want %v and a detail holding %q", pass, detail, tt.pass, tt.detailHolds)
			}
		})
	}
}
