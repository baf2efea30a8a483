package teststack

import (
	"maps"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestProjectName(t *testing.T) {
	valid := regexp.MustCompile(`^dr[a-z0-9]*[0-9a-f]{8}$`)
	for _, tc := range []struct{ name, prefix string }{
		{"engine", "drengine"},
		{"Backup/Restore", "drbackuprestore"},
		{"", "dr"},
		{"ünï-code_1", "drncode1"},
	} {
		got := projectName(tc.name)
		if !strings.HasPrefix(got, tc.prefix) || !valid.MatchString(got) || len(got) != len(tc.prefix)+8 {
			t.Errorf("projectName(%q) = %q, want %q + 8 hex digits", tc.name, got, tc.prefix)
		}
	}
	if projectName("x") == projectName("x") {
		t.Error("two project names for the same package are equal; stacks would collide")
	}
}

func TestQuoting(t *testing.T) {
	for _, tc := range []struct{ in, quoted, ident string }{
		{"appwrite", "'appwrite'", "`appwrite`"},
		{`it's\`, `'it\'s\\'`, "`it's\\`"},
		{"a`b", "'a`b'", "`a``b`"},
	} {
		if got := quote(tc.in); got != tc.quoted {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.quoted)
		}
		if got := ident(tc.in); got != tc.ident {
			t.Errorf("ident(%q) = %s, want %s", tc.in, got, tc.ident)
		}
	}
}

// TestSeedMatchesStack keeps seed.go in step with the seed SQL and the
// compose file, on a real stack.
func TestSeedMatchesStack(t *testing.T) {
	s := Up(t, Options{Name: "teststack"})

	rows := map[string]int{}
	for _, db := range SeedDatabases() {
		for k, v := range s.Rows(t, db) {
			rows[k] = v
		}
	}
	want := SeedRows()
	for table, n := range want {
		if rows[table] != n {
			t.Errorf("%s has %d rows, seed.go says %d", table, rows[table], n)
		}
	}
	for table := range rows {
		if _, ok := want[table]; !ok {
			t.Errorf("%s is in the stack but not in SeedRows", table)
		}
	}

	if got := s.Objects(t, "appwrite"); !slices.Equal(got, SeedObjects()) {
		t.Errorf("objects = %q, want %q", got, SeedObjects())
	}

	nonInno := strings.Split(s.SQL(t, "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND engine <> 'InnoDB' AND table_schema IN ('appwrite', 'appwrite_logs')"), "\n")
	if !slices.Equal(nonInno, SeedNonInnoDB()) {
		t.Errorf("non-InnoDB tables = %q, want %q", nonInno, SeedNonInnoDB())
	}

	sums := s.Checksums(t, "appwrite")
	if len(sums) != len(s.Tables(t, "appwrite")) || sums["_1_users"] == "" || sums["_1_users"] == "0" {
		t.Errorf("checksums = %v, want one non-zero sum per table", sums)
	}
	if again := s.Checksums(t, "appwrite"); !maps.Equal(sums, again) {
		t.Errorf("checksums changed between two reads of an idle database: %v, then %v", sums, again)
	}

	// Unicode and binary data arrived intact (the client charset matters).
	if got := s.SQL(t, "SELECT name FROM appwrite._1_users WHERE _id = 3"); got != "🦄 Unicorn #3" {
		t.Errorf("user 3's name = %q, want the unicorn emoji intact", got)
	}
	if got := s.SQL(t, "SELECT HEX(LEFT(avatar, 7)) FROM appwrite._1_users WHERE _id = 1"); got != "00275C220D0A1A" {
		t.Errorf("avatar prefix = %s, want NUL, quote, backslash, double quote, CR, LF, Ctrl-Z", got)
	}

	app := s.ContainerID(t, AppService)
	for volume, files := range SeedVolumeFiles() {
		mountpoint := "/storage/" + strings.TrimPrefix(volume, "appwrite-")
		for _, f := range files {
			p := path.Join(mountpoint, f)
			if out, err := exec.Command("docker", "exec", app, "sh", "-c", `test -e "$1" || test -L "$1"`, "sh", p).CombinedOutput(); err != nil {
				t.Errorf("volume %s lacks %s: %v %s", volume, f, err, out)
			}
		}
	}
	if out, err := exec.Command("docker", "volume", "inspect", s.Volume("appwrite-uploads")).CombinedOutput(); err != nil {
		t.Errorf("volume %s not found: %v %s", s.Volume("appwrite-uploads"), err, out)
	}
}
