package backup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/internal/teststack"
)

// readmeByHand is docs/volumes.md's by-hand restore of one volume, without its
// first lines (the settings a reader edits; the test sets them).
func readmeByHand(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "volumes.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## Restore one volume by hand")
	if !ok {
		t.Fatal("docs/volumes.md has no \"Restore one volume by hand\" section")
	}
	_, block, ok := strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal("the by-hand section has no sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, "DEST=") || strings.HasPrefix(l, "S=") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// TestIncrementalVolumeRestoresByHandFromTheDocs runs docs/volumes.md's
// commands (age, tar, jq, zstd, a shell loop over the manifest) on the
// second of two encrypted incremental backups, into a new volume, which
// then holds what the stack's volume held, file for file.
func TestIncrementalVolumeRestoresByHandFromTheDocs(t *testing.T) {
	for _, tool := range []string{"age", "tar", "zstd", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if teststack.Required() {
				t.Fatalf("%s is not installed (make setup installs it; DR_INTEGRATION=required, so this is a failure)", tool)
			}
			t.Skipf("%s is not installed (make setup installs it)", tool)
		}
	}
	script := readmeByHand(t)
	s := stack.Get(t)
	eng := newEngine(t)
	local := t.TempDir()
	cfg := testConfig(t, s, map[string]string{"local": local})
	cfg.Stack.Volumes = []string{"appwrite-uploads"}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Encryption.Recipients = []string{id.Recipient().String()}
	if _, err := backupAt(t, eng, cfg, openAll(t, cfg), nextTime()); err != nil {
		t.Fatal(err)
	}
	// The second backup holds files the first stored and new ones.
	s.Exec(t, teststack.AppService, "mkdir -p /storage/uploads/byhand && head -c 200000 /dev/urandom > '/storage/uploads/byhand/new file.bin' && chmod 0640 '/storage/uploads/byhand/new file.bin' && ln '/storage/uploads/byhand/new file.bin' /storage/uploads/byhand/hard")
	t.Cleanup(func() { s.Exec(t, teststack.AppService, "rm -rf /storage/uploads/byhand") })
	res, err := backupAt(t, eng, cfg, openAll(t, cfg), nextTime())
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Manifest.Volumes[0]; v.ReadFiles != 1 {
		t.Errorf("the second backup read %d files, want the new one alone", v.ReadFiles)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := s.Volume("byhand")
	if out, err := exec.Command("docker", "volume", "create", target).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", target).Run() })
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "DEST="+local, "B="+res.Name, "S="+res.Manifest.Stack, "V=appwrite-uploads", "KEY="+keyFile, "VOLUME="+target)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the by-hand restore of docs/volumes.md: %v\n%s", err, out)
	}
	got, want := s.VolumeTree(t, "byhand"), s.VolumeTree(t, "appwrite-uploads")
	if len(want) < 5 {
		t.Fatalf("the uploads volume holds too little to test with: %v", want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: restored by hand as %q, the volume holds %q", p, got[p], w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: restored by hand, not in the volume", p)
		}
	}
}
