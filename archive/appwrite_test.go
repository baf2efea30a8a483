package archive

import "testing"

func TestAppwriteVersion(t *testing.T) {
	for image, want := range map[string]string{
		"appwrite/appwrite:1.8.0":                     "1.8.0",
		"docker.io/appwrite/appwrite:1.7.4":           "1.7.4",
		"registry.example:5000/mirror/appwrite:1.6.1": "1.6.1",
		"appwrite/appwrite:1.8.0@sha256:0123abcd":     "1.8.0",
		"appwrite/appwrite":                           "",
		"appwrite/appwrite:latest":                    "",
		"appwrite/appwrite@sha256:0123abcd":           "",
		"registry.example:5000/appwrite":              "",
		"dr-test/mariadb:10.11":                       "",
		"appwrite/appwrite-custom:1.8.0":              "",
		"sha256:4c3b0d1e2f":                           "",
		"":                                            "",
	} {
		if got := AppwriteVersion(image); got != want {
			t.Errorf("AppwriteVersion(%q) = %q, want %q", image, got, want)
		}
	}
}
