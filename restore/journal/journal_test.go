package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadWithoutJournalIsNil(t *testing.T) {
	j, err := Read(t.TempDir())
	if j != nil || err != nil {
		t.Fatalf("Read of an empty state dir = %+v, %v; want nil, nil", j, err)
	}
}

func TestWriteReadRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	want := &Journal{
		Backup: "app-20261125T080000Z.tar.zst", Project: "app", DBService: "mariadb",
		Parts: []string{"db"}, Phase: PhaseDB, Stopped: []string{"appwrite", "worker"},
		Unfinished: []string{ItemDB}, SafetyDumps: []string{"/s/a.sql.zst"}, PID: 42,
		StartedAt: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC),
	}
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", st.Mode().Perm())
	}
	// Replacing it leaves no temporary file behind, not even one a run
	// killed in the middle of a write left.
	if err := os.WriteFile(filepath.Join(dir, "."+FileName+".123"), []byte(`{"vers`), 0o600); err != nil {
		t.Fatal(err)
	}
	want.Phase = PhaseVolumes
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files after two writes, want the journal only", len(entries))
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Phase != PhaseVolumes || got.Backup != want.Backup || strings.Join(got.Stopped, ",") != "appwrite,worker" || !got.HalfDone() {
		t.Errorf("read back %+v", got)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if j, err := Read(dir); j != nil || err != nil {
		t.Errorf("after Remove: %+v, %v", j, err)
	}
	if err := Remove(dir); err != nil {
		t.Errorf("removing an absent journal: %v", err)
	}
}

func TestWriteIntoUnwritableStateDirFails(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := Write(filepath.Join(blocker, "state"), &Journal{Backup: "b"})
	if err == nil || !strings.Contains(err.Error(), "writing the restore journal") {
		t.Fatalf("got %v, want an error saying the journal could not be written", err)
	}
}

func TestCheckBackup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		journal string // file content; "" means no journal
		refuse  bool
		want    []string // in the error
	}{
		{name: "no journal"},
		{name: "only stopped services: the data is whole",
			journal: `{"version":1,"backup":"b1","phase":"stopping services","stopped":["appwrite"]}`},
		{name: "database half imported", refuse: true,
			journal: `{"version":1,"backup":"b1","parts":["db"],"phase":"importing the database","stopped":["appwrite"],"unfinished":["database"],"safety_dumps":["/state/safety/x.sql.zst"]}`,
			want:    []string{"refusing to back up", "b1", "database may be half restored", "dr restore b1 --only db --yes", "/state/safety/x.sql.zst"}},
		{name: "volume half restored, with the command recorded", refuse: true,
			journal: `{"version":1,"backup":"b2","phase":"restoring volumes","unfinished":["volume:appwrite-uploads"],"command":"dr restore b2 --config /etc/dr/dr.yaml --yes"}`,
			want:    []string{"volume:appwrite-uploads", "dr restore b2 --config /etc/dr/dr.yaml --yes"}},
		{name: "damaged journal", refuse: true, journal: `{"version":1,"backup":`,
			want: []string{"refusing to back up", "damaged"}},
		{name: "journal of another format", refuse: true, journal: `{"version":7}`,
			want: []string{"format version 7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.journal != "" {
				if err := os.WriteFile(Path(dir), []byte(tc.journal), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := CheckBackup(dir)
			if (err != nil) != tc.refuse {
				t.Fatalf("CheckBackup = %v, refuse %v", err, tc.refuse)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			var unfinished *UnfinishedError
			if tc.refuse && strings.Contains(tc.name, "half") && !errors.As(err, &unfinished) {
				t.Errorf("error is not an *UnfinishedError: %T", err)
			}
		})
	}
}
