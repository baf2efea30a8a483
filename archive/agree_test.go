package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestSidecarMustAgreeWithTheArchive: a sidecar edited on the remote,
// with the object's size and hash left intact so that the archive itself
// verifies, is refused for every field a restore acts on.
func TestSidecarMustAgreeWithTheArchive(t *testing.T) {
	data, sidecar := build(t, WriterOptions{ChunkSize: 40}, testDump)
	tests := []struct {
		name string
		edit func(m *Manifest)
		want string // "" means the edit is harmless and verification passes
	}{
		{"unchanged", func(m *Manifest) {}, ""},
		{"warnings are not acted on", func(m *Manifest) { m.Warnings = append(m.Warnings, "edited") }, ""},
		{"host is not acted on", func(m *Manifest) { m.Host = "elsewhere" }, ""},
		{"a row count", func(m *Manifest) { m.Database.Tables[0].Rows++ }, "tables and row counts"},
		{"a table added", func(m *Manifest) {
			m.Database.Tables = append(m.Database.Tables, Table{Database: "mysql", Name: "user", Rows: 1})
		}, "tables and row counts"},
		{"the databases", func(m *Manifest) { m.Database.Databases = []string{"mysql"} }, "database"},
		{"the database kind", func(m *Manifest) { m.Database.Kind = "mongodb" }, "database"},
		{"a volume renamed", func(m *Manifest) { m.Volumes[0].Name = "victim" }, "volumes"},
		{"a volume's engine name", func(m *Manifest) { m.Volumes[0].Docker = "victim" }, "volumes"},
		{"a volume's labels", func(m *Manifest) {
			m.Volumes[0].Labels = map[string]string{"com.docker.compose.project": "other"}
		}, "volumes"},
		{"a volume added", func(m *Manifest) { m.Volumes = append(m.Volumes, Volume{Name: "victim"}) }, "volumes"},
		{"the stack", func(m *Manifest) { m.Stack = "other" }, "stack"},
		{"an entry's mode", func(m *Manifest) { m.Entries[0].Mode = 0o4755 }, "entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := deepCopy(t, sidecar)
			tt.edit(s)
			_, err := Verify(context.Background(), bytes.NewReader(data), s, ReaderOptions{})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("verify: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatal("verify passed an altered sidecar")
			case !strings.Contains(err.Error(), "disagree on the "+tt.want):
				t.Errorf("error %q does not say the sidecar disagrees on the %s", err, tt.want)
			}
		})
	}
}

func TestAgreeTreatsEmptyAndMissingListsAlike(t *testing.T) {
	a := &Manifest{Name: "n", Stack: "s", Database: &Database{Databases: []string{}, Tables: []Table{}}, Volumes: []Volume{{Name: "v", Labels: map[string]string{}}}}
	b := &Manifest{Name: "n", Stack: "s", Database: &Database{}, Volumes: []Volume{{Name: "v"}}}
	if err := Agree(a, b); err != nil {
		t.Error(err)
	}
}

func deepCopy(t *testing.T, m *Manifest) *Manifest {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var c Manifest
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}
