package engine

import (
	"strings"
	"testing"
)

func listing(entries ...[]string) []byte {
	var b strings.Builder
	for _, e := range entries {
		for _, f := range e {
			b.WriteString(f)
			b.WriteByte(0)
		}
	}
	return []byte(b.String())
}

var rootLine = []string{"d", "755", "0", "0", "4096", "1700000000.1234567890", "1700000001.5000000000", "2", "3", "", ""}

func TestParseListing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
		check   func(t *testing.T, got []ListedEntry)
	}{
		{name: "root, a file with a newline in its name, a symlink", data: listing(rootLine,
			[]string{"f", "4644", "33", "33", "11", "1700000002.0000000010", "1700000003", "12", "2", "a\nb.txt", ""},
			[]string{"l", "777", "0", "0", "5", "1700000004.0", "1700000004.0", "13", "1", "dir/link", "../a"}),
			check: func(t *testing.T, got []ListedEntry) {
				if len(got) != 3 {
					t.Fatalf("got %d entries", len(got))
				}
				if got[0].Path != "" || got[0].Type != 'd' || got[0].MTime != 1700000000123456789 || got[0].CTime != 1700000001500000000 {
					t.Errorf("root: %+v", got[0])
				}
				f := got[1]
				if f.Path != "a\nb.txt" || f.Mode != 0o4644 || f.UID != 33 || f.Size != 11 || f.MTime != 1700000002000000001 || f.Inode != 12 || f.Links != 2 {
					t.Errorf("file: %+v", f)
				}
				if got[2].Link != "../a" || got[2].Type != 'l' {
					t.Errorf("symlink: %+v", got[2])
				}
			}},
		{name: "empty", data: nil, wantErr: "empty"},
		{name: "cut short", data: listing(rootLine)[:20], wantErr: "cut short"},
		{name: "a field missing", data: listing(rootLine[:10]), wantErr: "multiple of 11"},
		{name: "no root first", data: listing([]string{"f", "644", "0", "0", "1", "1.0", "1.0", "1", "1", "x", ""}), wantErr: "root"},
		{name: "a second root", data: listing(rootLine, rootLine), wantErr: "root"},
		{name: "path escaping", data: listing(rootLine, []string{"f", "644", "0", "0", "1", "1.0", "1.0", "1", "1", "../etc/passwd", ""}), wantErr: "bad path"},
		{name: "absolute path", data: listing(rootLine, []string{"f", "644", "0", "0", "1", "1.0", "1.0", "1", "1", "/x", ""}), wantErr: "bad path"},
		{name: "bad mode", data: listing(rootLine, []string{"f", "99999", "0", "0", "1", "1.0", "1.0", "1", "1", "x", ""}), wantErr: "bad mode"},
		{name: "negative size", data: listing(rootLine, []string{"f", "644", "0", "0", "-1", "1.0", "1.0", "1", "1", "x", ""}), wantErr: "bad size"},
		{name: "bad time", data: listing(rootLine, []string{"f", "644", "0", "0", "1", "yesterday", "1.0", "1", "1", "x", ""}), wantErr: "bad time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListings(tc.data, 1)
			if failedAsWanted(t, err, tc.wantErr) {
				return
			}
			tc.check(t, got[0])
		})
	}
}

// failedAsWanted checks err against wantErr (a part of the message; ""
// for no error) and says whether the case ends there.
func failedAsWanted(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one saying %q", err, wantErr)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// TestParseListings: one find over several volumes lists each from its
// root, in order; a root too many or too few is an error.
func TestParseListings(t *testing.T) {
	file := func(name string) []string {
		return []string{"f", "644", "0", "0", "1", "1.0", "1.0", "7", "1", name, ""}
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		n       int
		want    []int // entries per volume
		wantErr string
	}{
		{name: "three volumes, the second empty", data: listing(rootLine, file("a"), file("b"), rootLine, rootLine, file("c")), n: 3, want: []int{3, 1, 2}},
		{name: "one volume", data: listing(rootLine, file("a")), n: 1, want: []int{2}},
		{name: "a volume missing (find could not list it)", data: listing(rootLine, file("a"), rootLine), n: 3, wantErr: "roots of 2 volume(s), not 3"},
		{name: "a root too many", data: listing(rootLine, rootLine), n: 1, wantErr: "more than the 1 volume(s)"},
		{name: "no root first", data: listing(file("a"), rootLine), n: 1, wantErr: "not the volume's root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListings(tc.data, tc.n)
			if failedAsWanted(t, err, tc.wantErr) {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d listings, want %d", len(got), len(tc.want))
			}
			for i, l := range got {
				if len(l) != tc.want[i] || l[0].Path != "" {
					t.Errorf("volume %d: %d entries starting with %q, want %d from the root", i, len(l), l[0].Path, tc.want[i])
				}
			}
		})
	}
}

// FuzzParseListing: the listing is a helper's output over volumes that
// anything in the stack can write to; no input panics, and every listing
// accepted is n volumes, each from its root, every other entry with a
// clean relative path and a mode of permission bits.
func FuzzParseListing(f *testing.F) {
	f.Add(listing(rootLine, []string{"f", "644", "0", "0", "1", "1.5", "2.0", "1", "1", "x", ""}), uint8(1))
	f.Add(listing(rootLine, rootLine, []string{"f", "644", "0", "0", "1", "1.5", "2.0", "1", "1", "x", ""}), uint8(2))
	f.Add(listing(rootLine), uint8(1))
	f.Add([]byte("d\x00"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		volumes := int(n%4) + 1
		got, err := ParseListings(data, volumes)
		if err != nil {
			return
		}
		if len(got) != volumes {
			t.Fatalf("%d listings, want %d", len(got), volumes)
		}
		for _, l := range got {
			for i, e := range l {
				if (e.Path == "") != (i == 0) || strings.HasPrefix(e.Path, "/") || strings.HasPrefix(e.Path, "../") || e.Path == ".." {
					t.Fatalf("entry %d has path %q", i, e.Path)
				}
				if e.Mode < 0 || e.Mode > 0o7777 || e.Size < 0 {
					t.Fatalf("entry %d: %+v", i, e)
				}
			}
		}
	})
}
