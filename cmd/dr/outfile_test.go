package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeygenRefusesAnOutThatIsNoFile: an --out that cannot name a new
// file is refused before anything is made, with an error naming the
// flag and what is wrong, and nothing is left behind (no temporary file,
// no directory made).
func TestKeygenRefusesAnOutThatIsNoFile(t *testing.T) {
	for _, tt := range []struct {
		name string
		out  func(dir string) string
		want []string
	}{
		{"empty", func(string) string { return "" }, []string{"--out is empty", "e.g. --out dr-identity.txt"}},
		{"blank", func(string) string { return "  " }, []string{"--out is empty"}},
		{"a directory", func(dir string) string { return dir }, []string{"is a directory", filepath.Join("%s", "dr-identity.txt")}},
		{"a directory with its slash", func(dir string) string { return dir + "/" }, []string{"is a directory"}},
		{"a path whose directory does not exist", func(dir string) string { return filepath.Join(dir, "usb", "key.txt") },
			[]string{"--out", filepath.Join("%s", "usb") + " does not exist", "create it first"}},
		{"a path under a file", func(dir string) string { return filepath.Join(dir, "file", "key.txt") },
			[]string{"--out", filepath.Join("%s", "file") + " is not a directory"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir) // an empty --out must not write here either
			_, errOut, code := run(t, nil, "keygen", "--out", tt.out(dir))
			if code != exitUsage {
				t.Errorf("exit %d, want %d (usage)", code, exitUsage)
			}
			for _, want := range tt.want {
				if want = strings.ReplaceAll(want, "%s", dir); !strings.Contains(errOut, want) {
					t.Errorf("the error does not say %q: %s", want, errOut)
				}
			}
			for _, bad := range []string{"link ", "tmp-"} {
				if strings.Contains(errOut, bad) {
					t.Errorf("the error still speaks of the temporary file (%q): %s", bad, errOut)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("the directory holds %d entries after the refusal, want only the test's file", len(entries))
			}
		})
	}
}

// TestInitRefusesAnOutThatIsNoFile: dr init with an empty --out, or one
// naming a directory, is refused before the engine is asked anything,
// naming the flag.
func TestInitRefusesAnOutThatIsNoFile(t *testing.T) {
	for _, out := range []string{"", t.TempDir()} {
		_, errOut, code := run(t, nil, "init", "--out", out)
		if code != exitUsage || !strings.Contains(errOut, "--out") {
			t.Errorf("dr init --out %q: exit %d, %s", out, code, errOut)
		}
	}
}
