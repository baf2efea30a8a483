package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/dotenv"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// runAppwriteImage recreates the stack's appwrite service from image, as
// an operator does by editing the tag in docker-compose.yml. The image is
// the test image tagged locally under an Appwrite-shaped name: nothing is
// pulled.
func runAppwriteImage(t *testing.T, s *teststack.Stack, image string) {
	t.Helper()
	if out, err := exec.Command("docker", "tag", teststack.Image(), image).CombinedOutput(); err != nil {
		t.Fatalf("docker tag %s: %v\n%s", image, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", image).Run() })
	data, err := os.ReadFile(s.ComposeFile())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if lines[i] == "  "+teststack.AppService+":" {
			lines[i+1] = "    image: " + image
		}
	}
	if err := os.WriteFile(s.ComposeFile(), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Compose(t, "up", "-d", teststack.AppService)
}

func setEnvLine(t *testing.T, s *teststack.Stack, key, line string) {
	t.Helper()
	data, err := os.ReadFile(s.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if !strings.HasPrefix(l, key+"=") {
			kept = append(kept, l)
		}
	}
	if line != "" {
		kept = append(kept, line)
	}
	if err := os.WriteFile(s.EnvFile(), []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAppwriteVersionAndEnvChecks: dr backup refuses an Appwrite stack
// whose .env lacks _APP_OPENSSL_KEY_V1 and warns when uploads live on
// another storage device, never printing a value; the manifest records
// the Appwrite version; once the stack runs another version, dr restore
// and the runbooks refuse, naming both, until --allow-version-change.
func TestAppwriteVersionAndEnvChecks(t *testing.T) {
	s := teststack.Up(t, teststack.Options{Name: "awver"})
	cfg, dest, _ := stackConfig(t, s, "")
	runAppwriteImage(t, s, "dr-test/appwrite:1.7.4")

	envData, err := os.ReadFile(s.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	env, err := dotenv.Parse(envData)
	if err != nil {
		t.Fatal(err)
	}
	key := env["_APP_OPENSSL_KEY_V1"]
	if key == "" {
		t.Fatal("the test stack's .env has no _APP_OPENSSL_KEY_V1")
	}
	setEnvLine(t, s, "_APP_OPENSSL_KEY_V1", "")
	out, errOut, code := run(t, nil, "backup", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "has no _APP_OPENSSL_KEY_V1") || !strings.Contains(errOut, "add _APP_OPENSSL_KEY_V1 to") {
		t.Errorf("backup without the key: exit %d, want %d naming the key and the fix\n%s%s", code, exitFailed, out, errOut)
	}
	setEnvLine(t, s, "_APP_OPENSSL_KEY_V1", "_APP_OPENSSL_KEY_V1="+key)
	setEnvLine(t, s, "_APP_STORAGE_DEVICE", "_APP_STORAGE_DEVICE=S3")
	out, errOut, code = run(t, nil, "backup", "--config", cfg)
	if code != exitOK || !strings.Contains(out+errOut, "_APP_STORAGE_DEVICE in .env is not local") {
		t.Errorf("backup with uploads on S3: exit %d, want a warning\n%s%s", code, out, errOut)
	}
	for _, secret := range []string{key, env["_APP_DB_PASS"], env["_APP_DB_ROOT_PASS"]} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("a .env value was printed:\n%s%s", out, errOut)
		}
	}

	sidecars, _ := filepath.Glob(filepath.Join(dest, "*"+archive.SidecarSuffix))
	if len(sidecars) != 1 {
		t.Fatalf("want one backup, found sidecars %v", sidecars)
	}
	var m archive.Manifest
	data, err := os.ReadFile(sidecars[0])
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil || m.Appwrite == nil || m.Appwrite.Version != "1.7.4" || m.Appwrite.Image != "dr-test/appwrite:1.7.4" || m.Appwrite.Service != "appwrite" {
		t.Fatalf("the manifest records appwrite %+v (%v), want dr-test/appwrite:1.7.4, version 1.7.4", m.Appwrite, err)
	}

	runAppwriteImage(t, s, "dr-test/appwrite:1.8.0")
	_, errOut, code = run(t, nil, "restore", "--latest", "--yes", "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "Appwrite 1.7.4") || !strings.Contains(errOut, "Appwrite 1.8.0") || !strings.Contains(errOut, "--allow-version-change") {
		t.Errorf("restore into another version: exit %d, want %d naming 1.7.4, 1.8.0 and the flag\n%s", code, exitFailed, errOut)
	}
	out, errOut, code = run(t, nil, "runbook", "run", "db-corrupted", "--yes", "--config", cfg)
	if code != exitFailed || !strings.Contains(out+errOut, "stopped at step 1") || !strings.Contains(out+errOut, "Appwrite 1.8.0") {
		t.Errorf("runbook into another version: exit %d, want it refused at step 1\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, nil, "restore", "--latest", "--only", "db", "--yes", "--allow-version-change", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "the backup is of 1.7.4, the stack runs 1.8.0") || !strings.Contains(out, "imported;") {
		t.Errorf("restore --allow-version-change: exit %d\n%s%s", code, out, errOut)
	}
}
