package restore

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// victimVolume makes a docker volume that belongs to no stack, holding
// one file, and returns its name and a reader of that file.
func victimVolume(t *testing.T, s *teststack.Stack) (string, func() string) {
	t.Helper()
	name := s.Project + "-victim"
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	docker("volume", "create", name)
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", name).Run() })
	write := func(content string) {
		docker("run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", name+":/v", teststack.Image(), "-c", "echo "+content+" > /v/precious.txt")
	}
	write("before")
	read := func() string {
		return strings.TrimSpace(docker("run", "--rm", "--network", "none", "--entrypoint", "cat", "-v", name+":/v:ro", teststack.Image(), "/v/precious.txt"))
	}
	return name, read
}

// TestVolumeOutsideTheStackIsRefusedBeforeAnythingIsStopped: a complete,
// verifiable backup (the archive and its manifest.json agree) that holds
// a volume outside the stack, as one planted on a writable remote would.
// The restore refuses it while planning: no service is stopped, the other
// volume and the stack's own are untouched.
func TestVolumeOutsideTheStackIsRefusedBeforeAnythingIsStopped(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	victim, read := victimVolume(t, s)

	// The planted backup: dr itself backs up the victim when a config
	// names it, which gives an archive that verifies in full.
	cfg.Stack.Volumes = []string{"appwrite-config", victim}
	res := takeBackup(t, eng, cfg, dests)
	if len(res.Manifest.Volumes) != 2 {
		t.Fatalf("the planted backup holds volumes %+v", res.Manifest.Volumes)
	}
	// The victim changes after the backup: a restore into it would show.
	if out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", victim+":/v", teststack.Image(), "-c", "echo after > /v/precious.txt").CombinedOutput(); err != nil {
		t.Fatalf("changing the victim volume: %v: %s", err, out)
	}
	wantVictim := read()

	for _, tt := range []struct {
		name       string
		configured []string
		volumes    []string
		want       string
	}{
		{"a volume stack.volumes does not list", appVolumes, nil, "stack.volumes does not list"},
		{"the same, asked for by --volume", appVolumes, []string{victim}, "stack.volumes does not list"},
		{"listed, but no volume of the project", append([]string{victim}, appVolumes...), nil, "no service of project " + s.Project + " mounts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg.Stack.Volumes = tt.configured
			config, started := s.VolumeTree(t, "appwrite-config"), startedAt(t, s)
			_, err := restoreNow(t, eng, cfg, dests, Request{Name: res.Name, Parts: []string{PartVolumes}, Volumes: tt.volumes})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), victim) {
				t.Fatalf("got %v, want the volume %s refused (%q)", err, victim, tt.want)
			}
			if got := read(); got != wantVictim {
				t.Errorf("the victim volume was overwritten: %q, want %q", got, wantVictim)
			}
			if !maps.Equal(started, startedAt(t, s)) {
				t.Errorf("services were stopped or restarted: %v -> %v", started, startedAt(t, s))
			}
			if after := s.VolumeTree(t, "appwrite-config"); !maps.Equal(config, after) {
				t.Error("the stack's own volume changed although the restore was refused")
			}
		})
	}
}

// TestSidecarDisagreeingWithTheArchiveIsRefusedBeforeAnythingIsStopped:
// the sidecar of a real backup is rewritten on the destination with the
// object's size and sha256 kept, so the archive itself still verifies;
// what the restore would act on differs from the archive's own
// manifest.json. The restore refuses during verification, before any
// service is stopped or the database touched.
func TestSidecarDisagreeingWithTheArchiveIsRefusedBeforeAnythingIsStopped(t *testing.T) {
	s := stack.Get(t)
	eng := teststack.Engine(t)
	cfg, dests := setup(t, s)
	cfg.Stack.Volumes = []string{"appwrite-config"}
	res := takeBackup(t, eng, cfg, dests)
	path := filepath.Join(cfg.Destinations[0].Remote, archive.SidecarName(res.Name))
	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		edit func(m *archive.Manifest)
		want string
	}{
		{"a row count", func(m *archive.Manifest) {
			for i := range m.Database.Tables {
				if !m.Database.Tables[i].View && m.Database.Tables[i].Rows > 0 {
					m.Database.Tables[i].Rows++
					return
				}
			}
			t.Fatal("the backup has no table with rows")
		}, "tables and row counts"},
		{"the databases", func(m *archive.Manifest) { m.Database.Databases = append(m.Database.Databases, "mysql") }, "database"},
		{"a volume's files", func(m *archive.Manifest) { m.Volumes[0].Files += 1000 }, "volumes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := archive.ParseManifest(original)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			data, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := os.WriteFile(path, original, 0o600); err != nil {
					t.Error(err)
				}
			})
			sums, started, config := dbChecksums(t, s), startedAt(t, s), s.VolumeTree(t, "appwrite-config")

			_, err = restoreNow(t, eng, cfg, dests, Request{Name: res.Name})
			if err == nil || !strings.Contains(err.Error(), "did not verify") || !strings.Contains(err.Error(), "disagree on the "+tt.want) {
				t.Fatalf("got %v, want the altered sidecar refused (disagree on the %s)", err, tt.want)
			}
			if !maps.Equal(started, startedAt(t, s)) {
				t.Errorf("services were stopped or restarted: %v -> %v", started, startedAt(t, s))
			}
			if !maps.Equal(sums, dbChecksums(t, s)) {
				t.Error("the database changed although the backup was refused")
			}
			if !maps.Equal(config, s.VolumeTree(t, "appwrite-config")) {
				t.Error("the volume changed although the backup was refused")
			}
			if left, _ := os.ReadDir(filepath.Join(cfg.StateDir, "safety")); len(left) != 0 {
				t.Error("a safety dump was made: the restore got as far as the database")
			}
		})
	}
}
