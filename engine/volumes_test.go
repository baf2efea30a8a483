package engine_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// tarListing reads a tar stream into "name mode uid:gid size linkname"
// lines (sorted), and the content of regular files.
func tarListing(t *testing.T, r io.Reader) ([]string, map[string]string) {
	t.Helper()
	tr := tar.NewReader(r)
	var lines []string
	contents := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading volume tar: %v", err)
		}
		lines = append(lines, fmt.Sprintf("%s %o %d:%d %d %s", h.Name, h.Mode&0o7777, h.Uid, h.Gid, h.Size, h.Linkname))
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			contents[h.Name] = string(b)
		}
	}
	sort.Strings(lines)
	return lines, contents
}

func readVolume(t *testing.T, c *engine.Client, name string) ([]string, map[string]string) {
	t.Helper()
	rc, err := c.ReadVolume(context.Background(), name, teststack.Image())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	return tarListing(t, rc)
}

func TestReadVolume(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	lines, contents := readVolume(t, c, s.Volume("appwrite-uploads"))
	joined := strings.Join(lines, "\n")
	for _, want := range []string{
		"volume/ 755 0:0 0 ",
		"volume/app-console/bucket1/private.txt 600 33:33 8 ",
		"volume/app-console/bucket 2/résumé 履歴書.txt 644 33:33 ",
		"volume/app-console/latest-notes 777 33:33 0 bucket1/notes.txt",
		"volume/app-console/empty/ 755 33:33 0 ",
		"volume/app-console/bucket1/photo.bin 644 33:33 200000 ",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("volume listing lacks %q:\n%s", want, joined)
		}
	}
	if contents["volume/app-console/bucket1/private.txt"] != "private\n" {
		t.Errorf("private.txt = %q", contents["volume/app-console/bucket1/private.txt"])
	}
}

func TestReplaceVolumeRoundTrip(t *testing.T) {
	s := shared.Get(t)
	c := newClient(t)
	ctx := context.Background()
	target := fmt.Sprintf("drenginevol%d", time.Now().UnixNano())
	if err := c.CreateVolume(ctx, target, map[string]string{"dr.test": "engine"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", target).Run() })

	// Something the restore must remove: the volume equals the backup after.
	seed := exec.Command("docker", "run", "--rm", "--network", "none", "-v", target+":/v", "--entrypoint", "sh", teststack.Image(), "-c", "echo stale > /v/stale.txt; chmod 700 /v")
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("seeding the target volume: %v %s", err, out)
	}

	source := s.Volume("appwrite-uploads")
	rc, err := c.ReadVolume(ctx, source, teststack.Image())
	if err != nil {
		t.Fatal(err)
	}
	err = c.ReplaceVolume(ctx, target, teststack.Image(), rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}

	want, wantContents := readVolume(t, c, source)
	got, gotContents := readVolume(t, c, target)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("restored volume differs:\n got %q\nwant %q", got, want)
	}
	for name, body := range wantContents {
		if gotContents[name] != body {
			t.Errorf("%s differs after the round trip", name)
		}
	}

	out, err := exec.Command("docker", "ps", "-aq", "--filter", "volume="+target).Output()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("helper containers left on %s: %q %v", target, out, err)
	}
}

func TestVolumeErrors(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	missing := fmt.Sprintf("drenginemissing%d", time.Now().UnixNano())
	if ok, err := c.VolumeExists(ctx, missing); ok || err != nil {
		t.Errorf("VolumeExists(missing) = %v, %v", ok, err)
	}
	if _, err := c.ReadVolume(ctx, missing, teststack.Image()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("ReadVolume(missing): err = %v", err)
	}
	if err := c.ReplaceVolume(ctx, missing, teststack.Image(), strings.NewReader("")); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("ReplaceVolume(missing): err = %v", err)
	}
}
