package engine_test

import (
	"archive/tar"
	"context"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/teststack"
)

// TestVolumeSessionListsAndReadsWhatChanged: a volume session lists every
// entry of a volume with its stamp (a name with a newline in it too), and
// reads just the files asked for through one tar, leaving out one removed
// since the listing.
func TestVolumeSessionListsAndReadsWhatChanged(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	name := "drtest-session-" + strings.ToLower(t.Name()[len(t.Name())-8:])
	if out, err := exec.Command("docker", "volume", "create", name).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", name).Run() })
	fill := `set -e; cd /v; mkdir -p dir/empty; printf one > dir/a.txt; printf 'two!' > "dir/new
line.txt"; ln dir/a.txt dir/hard; ln -s a.txt dir/link; printf gone > gone.txt; chmod 0640 dir/a.txt`
	if out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", name+":/v", teststack.Image(), "-c", fill).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sess, err := c.OpenVolume(ctx, name, teststack.Image())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	listed, err := sess.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]engine.ListedEntry{}
	for _, e := range listed {
		byPath[e.Path] = e
	}
	a, hard := byPath["dir/a.txt"], byPath["dir/hard"]
	switch {
	case listed[0].Path != "" || listed[0].Type != 'd':
		t.Errorf("the listing starts with %+v, not the root", listed[0])
	case a.Type != 'f' || a.Size != 3 || a.Mode != 0o640 || a.Links != 2 || a.Inode != hard.Inode || a.CTime == 0 || a.MTime == 0:
		t.Errorf("dir/a.txt listed as %+v (its hard link %+v)", a, hard)
	case byPath["dir/link"].Type != 'l' || byPath["dir/link"].Link != "a.txt":
		t.Errorf("dir/link listed as %+v", byPath["dir/link"])
	case byPath["dir/empty"].Type != 'd':
		t.Errorf("dir/empty listed as %+v", byPath["dir/empty"])
	case byPath["dir/new\nline.txt"].Size != 4:
		t.Errorf("a name with a newline listed as %+v", byPath["dir/new\nline.txt"])
	}

	if out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "rm", "-v", name+":/v", teststack.Image(), "/v/gone.txt").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[string]string{}
	err = sess.ReadFiles(ctx, []string{"dir/new\nline.txt", "gone.txt", "dir/a.txt"}, func(hdr *tar.Header, r io.Reader) error {
		data, err := io.ReadAll(r)
		got[hdr.Name] = string(data)
		return err
	})
	if err != nil {
		t.Fatalf("reading files, one gone since the listing: %v", err)
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"dir/a.txt", "dir/new\nline.txt"}) || got["dir/a.txt"] != "one" || got["dir/new\nline.txt"] != "two!" {
		t.Errorf("read %q", got)
	}
}
