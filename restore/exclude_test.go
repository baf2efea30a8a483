package restore

import (
	"archive/tar"
	"testing"
)

func TestExcluded(t *testing.T) {
	r := Request{Exclude: []string{"volumes/appwrite-uploads/a/evil.php"}}
	tests := []struct {
		hdr  tar.Header
		want bool
	}{
		{tar.Header{Name: "volumes/appwrite-uploads/a/evil.php", Typeflag: tar.TypeReg}, true},
		{tar.Header{Name: "volumes/appwrite-uploads/a/fine.txt", Typeflag: tar.TypeReg}, false},
		{tar.Header{Name: "volumes/appwrite-uploads/a/link", Typeflag: tar.TypeLink, Linkname: "volumes/appwrite-uploads/a/evil.php"}, true},
		// A symbolic link is written as a link: it holds no content.
		{tar.Header{Name: "volumes/appwrite-uploads/a/sym", Typeflag: tar.TypeSymlink, Linkname: "volumes/appwrite-uploads/a/evil.php"}, false},
		{tar.Header{Name: "volumes/appwrite-functions/a/evil.php", Typeflag: tar.TypeReg}, false},
	}
	for _, tt := range tests {
		if got := r.excluded(&tt.hdr); got != tt.want {
			t.Errorf("%s (%c): got %v, want %v", tt.hdr.Name, tt.hdr.Typeflag, got, tt.want)
		}
	}
	if (Request{}).excluded(&tests[0].hdr) {
		t.Error("an empty request excludes a file")
	}
}
