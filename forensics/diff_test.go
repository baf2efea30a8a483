package forensics

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/golden"
)

func file(sha string) FileState {
	return FileState{Kind: "file", SHA256: sha, Mode: 0o644, UID: 33, GID: 33}
}

func dir() FileState { return FileState{Kind: "dir", Mode: 0o755, UID: 33, GID: 33} }

// base is a backup-like snapshot the cases change.
func base() *Snapshot {
	s := &Snapshot{
		Label: "A",
		Volumes: map[string]map[string]FileState{
			"uploads": {"": dir(), "a.png": file("aa"), "docs": dir(), "docs/b.pdf": file("bb")},
			"config":  {"": dir(), "x.conf": file("cc")},
		},
		Tables: map[string]Table{
			"appwrite._1_users":    {Rows: 3},
			"appwrite._1_sessions": {Rows: 10},
			"appwrite.v_active":    {View: true},
		},
		Objects: []string{"trigger appwrite.audit"},
		Users:   []string{"root@%", "user@%"},
		Files:   map[string][]byte{"docker-compose.yml": []byte("services:\n  db:\n    image: mariadb:10.11\n")},
	}
	s.SetEnv(map[string]string{"_APP_OPENSSL_KEY_V1": "secret-one", "_APP_DB_PASS": "pw"})
	return s
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		change func(b *Snapshot)
		want   map[string]int // Counts
		check  func(t *testing.T, r *Report)
	}{
		{"identical", func(*Snapshot) {}, map[string]int{}, nil},
		{"file added in a volume", func(b *Snapshot) { b.Volumes["uploads"]["evil.php"] = file("ee") },
			map[string]int{"volume entries": 1}, func(t *testing.T, r *Report) {
				if got := r.Volumes[0].Added; !reflect.DeepEqual(got, []string{"evil.php"}) {
					t.Errorf("added = %v", got)
				}
			}},
		{"file removed and directory removed", func(b *Snapshot) {
			delete(b.Volumes["uploads"], "docs")
			delete(b.Volumes["uploads"], "docs/b.pdf")
		}, map[string]int{"volume entries": 2}, func(t *testing.T, r *Report) {
			if got := r.Volumes[0].Removed; !reflect.DeepEqual(got, []string{"docs/", "docs/b.pdf"}) {
				t.Errorf("removed = %v", got)
			}
		}},
		{"content, mode and owner changed", func(b *Snapshot) {
			b.Volumes["config"]["x.conf"] = FileState{Kind: "file", SHA256: "dd", Mode: 0o600, UID: 0, GID: 0}
		}, map[string]int{"volume entries": 1}, func(t *testing.T, r *Report) {
			want := []string{"content", "mode 0644 -> 0600", "owner 33:33 -> 0:0"}
			if got := r.Volumes[0].Changed[0].What; !reflect.DeepEqual(got, want) {
				t.Errorf("what = %v, want %v", got, want)
			}
		}},
		{"file became a symlink", func(b *Snapshot) {
			b.Volumes["config"]["x.conf"] = FileState{Kind: "symlink", Link: "/etc/passwd", Mode: 0o777}
		}, map[string]int{"volume entries": 1}, func(t *testing.T, r *Report) {
			if got := r.Volumes[0].Changed[0].What; !reflect.DeepEqual(got, []string{"kind file -> symlink"}) {
				t.Errorf("what = %v", got)
			}
		}},
		{"whole volume missing", func(b *Snapshot) { delete(b.Volumes, "config") },
			map[string]int{"volume entries": 2}, func(t *testing.T, r *Report) {
				if r.Volumes[0].Change != Removed {
					t.Errorf("change = %s", r.Volumes[0].Change)
				}
			}},
		{"empty volume added", func(b *Snapshot) { b.Volumes["new"] = map[string]FileState{} },
			map[string]int{"volume entries": 1}, nil},
		{"row added", func(b *Snapshot) { b.Tables["appwrite._1_users"] = Table{Rows: 4} },
			map[string]int{"tables": 1}, func(t *testing.T, r *Report) {
				if c := r.Tables[0]; *c.RowsA != 3 || *c.RowsB != 4 || c.Change != Changed {
					t.Errorf("change = %+v", c)
				}
			}},
		{"table added, view removed", func(b *Snapshot) {
			b.Tables["appwrite.loot"] = Table{Rows: 1}
			delete(b.Tables, "appwrite.v_active")
		}, map[string]int{"tables": 2}, func(t *testing.T, r *Report) {
			if r.Tables[0].Table != "appwrite.loot" || r.Tables[0].Change != Added || !r.Tables[1].View || r.Tables[1].Change != Removed {
				t.Errorf("tables = %+v", r.Tables)
			}
		}},
		{"trigger added, trigger removed, procedure added", func(b *Snapshot) {
			b.Objects = []string{"trigger appwrite.steal", "procedure appwrite.p"}
		}, map[string]int{"objects": 3}, func(t *testing.T, r *Report) {
			want := []ObjectChange{{"trigger", "appwrite.audit", Removed}, {"procedure", "appwrite.p", Added}, {"trigger", "appwrite.steal", Added}}
			if !reflect.DeepEqual(r.Objects, want) {
				t.Errorf("objects = %+v", r.Objects)
			}
		}},
		{"user added", func(b *Snapshot) { b.Users = append(b.Users, "backdoor@%") },
			map[string]int{"users": 1}, nil},
		{"users not recorded", func(b *Snapshot) { b.Users = nil },
			map[string]int{}, func(t *testing.T, r *Report) {
				if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "users not recorded in B") {
					t.Errorf("notes = %v", r.Notes)
				}
			}},
		{"no database on one side", func(b *Snapshot) { b.Tables, b.Objects = nil, nil },
			map[string]int{}, func(t *testing.T, r *Report) {
				if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "B holds no database") {
					t.Errorf("notes = %v", r.Notes)
				}
			}},
		{"compose changed", func(b *Snapshot) {
			b.Files["docker-compose.yml"] = []byte("services:\n  db:\n    image: mariadb:11.4\n")
		}, map[string]int{"files": 1}, func(t *testing.T, r *Report) {
			if !strings.Contains(r.Files[0].Unified, "-    image: mariadb:10.11\n+    image: mariadb:11.4\n") {
				t.Errorf("unified = %s", r.Files[0].Unified)
			}
		}},
		{"override added", func(b *Snapshot) { b.Files["docker-compose.override.yml"] = []byte("x: 1\n") },
			map[string]int{"files": 1}, func(t *testing.T, r *Report) {
				if r.Files[0].Change != Added || !strings.HasPrefix(r.Files[0].Unified, "--- /dev/null") {
					t.Errorf("file = %+v", r.Files[0])
				}
			}},
		{"env keys", func(b *Snapshot) {
			b.SetEnv(map[string]string{"_APP_OPENSSL_KEY_V1": "secret-two", "_APP_NEW": "x"})
		}, map[string]int{"env keys": 3}, func(t *testing.T, r *Report) {
			want := &EnvChange{Added: []string{"_APP_NEW"}, Removed: []string{"_APP_DB_PASS"}, Changed: []string{"_APP_OPENSSL_KEY_V1"}}
			if !reflect.DeepEqual(r.Env, want) {
				t.Errorf("env = %+v", r.Env)
			}
		}},
		{"env same key, same value", func(b *Snapshot) {
			b.SetEnv(map[string]string{"_APP_DB_PASS": "pw", "_APP_OPENSSL_KEY_V1": "secret-one"})
		}, map[string]int{}, nil},
		{"unreadable env", func(b *Snapshot) { b.SetEnvUnreadable(errors.New(".env line 3 is not KEY=VALUE")) },
			map[string]int{}, func(t *testing.T, r *Report) {
				if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "the .env of B could not be read (.env line 3") {
					t.Errorf("notes = %v", r.Notes)
				}
			}},
		{"no env on one side", func(b *Snapshot) { b.SetEnv(nil) },
			map[string]int{}, func(t *testing.T, r *Report) {
				if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "B has no .env") {
					t.Errorf("notes = %v", r.Notes)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			b.Label = "B"
			tt.change(b)
			r := Compare(a, b)
			for k, v := range r.Counts {
				if v == 0 {
					delete(r.Counts, k)
				}
			}
			if !reflect.DeepEqual(r.Counts, tt.want) {
				t.Fatalf("counts = %v, want %v", r.Counts, tt.want)
			}
			if r.Empty() != (len(tt.want) == 0) {
				t.Errorf("Empty() = %v", r.Empty())
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			assertNoSecret(t, r)
		})
	}
}

// assertNoSecret fails when any .env value of the fixtures shows in the
// report, as text or JSON.
func assertNoSecret(t *testing.T, r *Report) {
	t.Helper()
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"secret-one", "secret-two", "pw\""} {
		if strings.Contains(text.String(), secret) || strings.Contains(string(js), secret) {
			t.Errorf("the report shows the .env value %q", secret)
		}
	}
}

func TestFromManifest(t *testing.T) {
	m := &archive.Manifest{
		Name:    "app-20261126T090000Z",
		Volumes: []archive.Volume{{Name: "uploads"}, {Name: "empty"}},
		Entries: []archive.Entry{
			{Name: "compose/docker-compose.yml", Kind: archive.KindFile, SHA256: "ff"},
			{Name: "volumes/uploads/", Kind: archive.KindDir, Mode: 0o40755},
			{Name: "volumes/uploads/a/", Kind: archive.KindDir, Mode: 0o755, UID: 33, GID: 33},
			{Name: "volumes/uploads/a/f", Kind: archive.KindFile, Mode: 0o100644, SHA256: "aa", UID: 33, GID: 33},
			{Name: "volumes/uploads/a/h", Kind: archive.KindHardlink, Link: "volumes/uploads/a/f"},
			{Name: "volumes/other/x", Kind: archive.KindFile, SHA256: "bb"},
		},
		Database: &archive.Database{
			Tables:  []archive.Table{{Database: "app", Name: "t", Rows: 2}, {Database: "app", Name: "v", View: true}},
			Objects: []archive.Object{{Database: "app", Kind: archive.ObjectEvent, Name: "e"}},
		},
	}
	s := FromManifest(m)
	wantVolumes := map[string]map[string]FileState{
		"uploads": {
			"":    {Kind: "dir", Mode: 0o755},
			"a":   {Kind: "dir", Mode: 0o755, UID: 33, GID: 33},
			"a/f": {Kind: "file", Mode: 0o644, SHA256: "aa", UID: 33, GID: 33},
			"a/h": {Kind: "hardlink", Link: "a/f"},
		},
		"empty": {},
	}
	if !reflect.DeepEqual(s.Volumes, wantVolumes) {
		t.Errorf("volumes = %+v", s.Volumes)
	}
	if !reflect.DeepEqual(s.Tables, map[string]Table{"app.t": {Rows: 2}, "app.v": {View: true}}) {
		t.Errorf("tables = %+v", s.Tables)
	}
	if !reflect.DeepEqual(s.Objects, []string{"event app.e"}) {
		t.Errorf("objects = %v", s.Objects)
	}
	if s.Users != nil {
		t.Errorf("users = %v, want nil (not recorded)", s.Users)
	}
	m.Database.Users = []string{}
	if s := FromManifest(m); s.Users == nil {
		t.Error("an empty recorded user list reads as not recorded")
	}
}

func TestWriteTextGolden(t *testing.T) {
	a, b := base(), base()
	a.Label, b.Label = "app-20261126T090000Z", LiveLabel
	b.Volumes["uploads"]["shell.php"] = file("ee")
	b.Volumes["config"]["x.conf"] = FileState{Kind: "file", SHA256: "cc", Mode: 0o666, UID: 33, GID: 33}
	delete(b.Volumes["uploads"], "a.png")
	b.Tables["appwrite._1_users"] = Table{Rows: 4}
	a.Checksums = map[string]uint64{"appwrite._1_sessions": 1234567890}
	b.Checksums = map[string]uint64{"appwrite._1_sessions": 987654321}
	b.Objects = append(b.Objects, "trigger appwrite.copy_sessions")
	b.Users = append(b.Users, "backdoor@%")
	b.Files["docker-compose.yml"] = []byte("services:\n  db:\n    image: mariadb:10.11\n    ports: [\"3306:3306\"]\n")
	b.SetEnv(map[string]string{"_APP_OPENSSL_KEY_V1": "secret-two", "_APP_DB_PASS": "pw"})
	r := Compare(a, b)
	var got bytes.Buffer
	if err := r.WriteText(&got); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "report.txt", got.Bytes())
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "report.json", append(js, '\n'))
}

func TestWriteTextCapsLongLists(t *testing.T) {
	a, b := base(), base()
	for i := range maxTextEntries + 5 {
		b.Volumes["uploads"][strings.Repeat("x", i+1)] = file("ff")
	}
	var out bytes.Buffer
	if err := Compare(a, b).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "… and 5 more") {
		t.Errorf("long list not capped:\n%s", out.String())
	}
}

func TestSecretLikeFilesShowNoLines(t *testing.T) {
	a, b := base(), base()
	a.Files["secrets.env"] = []byte("TOKEN=old-token-value\n")
	b.Files["secrets.env"] = []byte("TOKEN=new-token-value\n")
	r := Compare(a, b)
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if len(r.Files) != 1 || !r.Files[0].Hidden || strings.Contains(out.String(), "token-value") {
		t.Errorf("an env-like stack file was shown:\n%s", out.String())
	}
}
