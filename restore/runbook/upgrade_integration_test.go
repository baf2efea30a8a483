package runbook

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/backup"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// The upgrade-failed crisis staged on a stack of its own: "Appwrite 1.8.0"
// runs, a pinned backup is taken before the upgrade, the upgrade changes
// the image tags, adds a service and an .env key, migrates the schema and
// writes to a volume, and two newer backups follow. The runbook brings
// 1.8.0 back identical: compose files, .env, schema and rows, volumes, and
// containers running the old image, the new service gone.
func TestUpgradeFailed(t *testing.T) {
	teststack.Skip(t)
	oldImage, newImage := versionImages(t)
	s := teststack.Up(t, teststack.Options{Name: "upgrade"})
	eng := teststack.Engine(t)
	ctx := context.Background()

	// Install "1.8.0": Appwrite's compose file names its version in the
	// image tag of the appwrite service and its workers.
	compose := readFile(t, s.ComposeFile())
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		from := "  " + svc + ":\n    image: ${DR_TEST_IMAGE:-dr-test/mariadb:10.11}\n"
		if !strings.Contains(compose, from) {
			t.Fatalf("the test stack's compose file no longer has %q", from)
		}
		compose = strings.Replace(compose, from, "  "+svc+":\n    image: "+oldImage+"\n", 1)
	}
	writeFile(t, s.ComposeFile(), compose)
	s.Compose(t, "up", "-d")
	waitSeeded(t, s)

	cfg, dests := setup(t, s)
	want := take(t, s)
	wantSchema := schema(t, s)

	// Before the upgrade: the pinned backup, with its note.
	at := nextTime()
	res, err := backup.Run(ctx, eng, cfg, dests, backup.Options{ToolVersion: "dr test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dests {
		if _, err := d.PinWithNote(ctx, res.Name, at, "before 1.8.1"); err != nil {
			t.Fatal(err)
		}
	}
	pinned := res.Name

	// The upgrade: new tags, a service the old version lacks, a new .env
	// key, a migrated schema, rows rewritten, a file in a volume.
	upgraded := strings.ReplaceAll(compose, oldImage, newImage)
	upgraded = strings.Replace(upgraded, "\nvolumes:\n", `
  worker-migrations:
    image: `+newImage+`
    network_mode: none
    entrypoint: ["sh", "-c", "trap 'exit 0' TERM INT; sleep infinity & wait"]

volumes:
`, 1)
	writeFile(t, s.ComposeFile(), upgraded)
	writeFile(t, s.EnvFile(), readFile(t, s.EnvFile())+"_APP_MIGRATIONS_WORKER=enabled\n")
	s.Compose(t, "up", "-d")
	if got := imageOf(t, s, teststack.AppService); got != newImage {
		t.Fatalf("after the upgrade appwrite runs %s, want %s", got, newImage)
	}
	s.SQL(t, `ALTER TABLE appwrite._1_users ADD COLUMN mfa TINYINT NOT NULL DEFAULT 0;
		CREATE TABLE appwrite._1_challenges (_id INT AUTO_INCREMENT PRIMARY KEY, userId VARCHAR(255), token VARCHAR(255));
		INSERT INTO appwrite._1_challenges (userId, token) VALUES ('u1', 't1'), ('u2', 't2');
		UPDATE appwrite._1_users SET name = CONCAT(name, ' (1.8.1)'), mfa = 1;`)
	s.Exec(t, teststack.AppService, "echo '{\"version\":\"1.8.1\"}' > /storage/config/upgrade.json && rm -f /storage/config/traefik.yml")
	if schema(t, s) == wantSchema {
		t.Fatal("the migration did not change the schema: the test proves nothing")
	}
	backupAt(t, eng, cfg, dests, nextTime())
	newest := backupAt(t, eng, cfg, dests, nextTime())

	var out bytes.Buffer
	log := runRunbook(t, "upgrade-failed", runbookEnv(eng, cfg, dests, &out))
	t.Log(log)
	if !strings.Contains(log, pinned) || !strings.Contains(log, "before 1.8.1") || strings.Contains(log, newest) {
		t.Errorf("the log does not name the pinned backup %s with its note (or names the newest, %s):\n%s", pinned, newest, log)
	}
	if !strings.Contains(log, teststack.AppService+": "+oldImage) {
		t.Errorf("the last step does not report appwrite on %s:\n%s", oldImage, log)
	}

	assertRecovered(t, want, take(t, s))
	if got := schema(t, s); got != wantSchema {
		t.Errorf("the schema differs from the pinned backup's:\n got %s\nwant %s", got, wantSchema)
	}
	for _, svc := range []string{teststack.AppService, teststack.WorkerService} {
		if got := imageOf(t, s, svc); got != oldImage {
			t.Errorf("%s runs %s after the runbook, want the old version's %s", svc, got, oldImage)
		}
	}
	if out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project="+s.Project,
		"--filter", "label=com.docker.compose.service=worker-migrations").Output(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("the new version's worker-migrations container is still there (%q, %v)", out, err)
	}
	servicesRunning(t, s)
}

// versionImages makes two local images standing in for two Appwrite
// versions, with distinct IDs and no registry: a tag of the test image,
// and an image built from it with one label more. Both go when the test
// ends (after its stack, which is removed first).
func versionImages(t *testing.T) (string, string) {
	t.Helper()
	return versionImagesOf(t, teststack.Image())
}

// versionImagesOf is versionImages made from the image base.
func versionImagesOf(t *testing.T, base string) (string, string) {
	t.Helper()
	repo := "dr-test/appwrite-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "-" + time.Now().UTC().Format("150405")
	oldImage, newImage := repo+":1.8.0", repo+":1.8.1"
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", oldImage, newImage).CombinedOutput(); err != nil {
			t.Errorf("removing the test's images: %v: %s", err, out)
		}
	})
	if out, err := exec.Command("docker", "tag", base, oldImage).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v: %s", err, out)
	}
	build := exec.Command("docker", "build", "-q", "-t", newImage, "-")
	build.Stdin = strings.NewReader("FROM " + oldImage + "\nLABEL dr.test.version=1.8.1\n")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v: %s", err, out)
	}
	return oldImage, newImage
}

// imageOf is the image reference the service's container was created from.
func imageOf(t *testing.T, s *teststack.Stack, service string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", "{{.Config.Image}}", s.ContainerID(t, service)).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", service, err)
	}
	return strings.TrimSpace(string(out))
}

// schema is every column of the Appwrite database's tables with its type,
// default and nullability, in order: what a migration changes.
func schema(t *testing.T, s *teststack.Stack) string {
	t.Helper()
	return s.SQL(t, `SELECT table_name, column_name, column_type, is_nullable, IFNULL(column_default, '-')
		FROM information_schema.columns WHERE table_schema = 'appwrite' ORDER BY table_name, ordinal_position`)
}

// waitSeeded waits for the recreated appwrite container's seeding check
// (the volumes are seeded already; the marker is per container).
func waitSeeded(t *testing.T, s *teststack.Stack) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if exec.Command("docker", "exec", s.ContainerID(t, teststack.AppService), "test", "-e", "/tmp/dr-seeded").Run() == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the appwrite container did not finish starting")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
