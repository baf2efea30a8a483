package engine_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
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

// TestOneHelperListsAndReadsSeveralVolumes: a run's volumes share one
// helper container (one start, one find): each session lists and reads
// its own volume, and the helper goes once the last session is closed.
func TestOneHelperListsAndReadsSeveralVolumes(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	var names []string
	for i, fill := range []string{"printf first > /v/a.txt", "true", "mkdir /v/d && printf third > /v/d/c.txt"} {
		name := fmt.Sprintf("drtest-helper-%d-%d", os.Getpid(), i)
		if out, err := exec.Command("docker", "volume", "create", name).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", name).Run() })
		if out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", name+":/v", teststack.Image(), "-c", fill).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		names = append(names, name)
	}
	// The helpers that mount any of the volumes.
	helpers := func() int {
		seen := map[string]bool{}
		for _, name := range names {
			out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+engine.LabelHelper, "--filter", "volume="+name).Output()
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range strings.Fields(string(out)) {
				seen[id] = true
			}
		}
		return len(seen)
	}
	sessions, err := c.OpenVolumes(ctx, names, teststack.Image())
	if err != nil {
		t.Fatal(err)
	}
	if got := helpers(); got != 1 {
		t.Errorf("three volumes made %d helpers, want one", got)
	}
	want := []map[string]string{{"a.txt": "first"}, {}, {"d/c.txt": "third"}}
	for i, sess := range sessions {
		listed, err := sess.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		var paths []string
		for _, e := range listed {
			if e.Type == 'f' {
				paths = append(paths, e.Path)
			}
		}
		if listed[0].Path != "" || len(paths) != len(want[i]) {
			t.Errorf("volume %d listed as %+v", i, listed)
		}
		err = sess.ReadFiles(ctx, paths, func(hdr *tar.Header, r io.Reader) error {
			data, err := io.ReadAll(r)
			files[hdr.Name] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(files) != fmt.Sprint(want[i]) {
			t.Errorf("volume %d read as %q, want %q", i, files, want[i])
		}
	}
	// The whole stream of the last volume, as a first backup reads it.
	rc, err := sessions[2].ReadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	var entries []string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		entries = append(entries, hdr.Name)
	}
	rc.Close()
	if !slices.Equal(entries, []string{"volume/", "volume/d/", "volume/d/c.txt"}) {
		t.Errorf("the third volume's stream holds %q", entries)
	}
	sessions[0].Close()
	sessions[2].Close()
	if got := helpers(); got != 1 {
		t.Errorf("with a session still open, %d helpers are left, want the one", got)
	}
	sessions[1].Close()
	if got := helpers(); got != 0 {
		t.Errorf("all sessions closed, %d helpers are left", got)
	}
}
