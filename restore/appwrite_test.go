package restore

import (
	"errors"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
)

func TestCheckVersion(t *testing.T) {
	stackOf := func(image string) *engine.Stack {
		return &engine.Stack{Containers: []engine.Container{{Service: "appwrite", Image: image}, {Service: "mariadb", Image: "mariadb:10.11"}}}
	}
	backupOf := func(version string) *archive.Manifest {
		return &archive.Manifest{Appwrite: &archive.Appwrite{Service: "appwrite", Image: "appwrite/appwrite:" + version, Version: version}}
	}
	for _, tc := range []struct {
		name    string
		m       *archive.Manifest
		stack   *engine.Stack
		allow   bool
		refused bool
	}{
		{"same version", backupOf("1.8.0"), stackOf("appwrite/appwrite:1.8.0"), false, false},
		{"older backup into a newer stack", backupOf("1.7.4"), stackOf("appwrite/appwrite:1.8.0"), false, true},
		{"newer backup into an older stack", backupOf("1.8.0"), stackOf("appwrite/appwrite:1.7.4"), false, true},
		{"allowed", backupOf("1.7.4"), stackOf("appwrite/appwrite:1.8.0"), true, false},
		{"a backup made before dr recorded the version", &archive.Manifest{}, stackOf("appwrite/appwrite:1.8.0"), false, false},
		{"a stack without an appwrite service", backupOf("1.7.4"), &engine.Stack{Containers: []engine.Container{{Service: "mariadb"}}}, false, false},
		{"a running image pinned by digest", backupOf("1.7.4"), stackOf("appwrite/appwrite@sha256:0a1b"), false, false},
		{"no stack found", backupOf("1.7.4"), nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkVersion("app-20261110T080000Z.tar.zst", tc.m, tc.stack, tc.allow)
			var ve *VersionChangeError
			if tc.refused != errors.As(err, &ve) {
				t.Fatalf("refused = %v, want %v (%v)", err != nil, tc.refused, err)
			}
			if tc.refused {
				msg := err.Error()
				for _, want := range []string{tc.m.Appwrite.Version, "--allow-version-change", "only into the version"} {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %q: %s", want, msg)
					}
				}
			}
		})
	}
}
