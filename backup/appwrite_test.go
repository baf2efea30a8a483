package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
)

func TestCheckEnv(t *testing.T) {
	const secret = "s3cr3t-value-never-printed"
	for _, tc := range []struct {
		name     string
		env      *string // nil: no .env
		appwrite bool
		wantErr  string
		wantWarn string
	}{
		{"appwrite with its key", envOf("_APP_OPENSSL_KEY_V1=" + secret + "\n"), true, "", ""},
		{"appwrite without its key", envOf("_APP_DB_PASS=" + secret + "\n"), true, "has no _APP_OPENSSL_KEY_V1", ""},
		{"appwrite with an empty key", envOf("_APP_OPENSSL_KEY_V1=\n"), true, "has no _APP_OPENSSL_KEY_V1", ""},
		{"appwrite without a .env", nil, true, "does not exist", ""},
		{"another stack without the key", envOf("FOO=" + secret + "\n"), false, "", ""},
		{"another stack without a .env", nil, false, "", ""},
		{"uploads on S3", envOf("_APP_OPENSSL_KEY_V1=" + secret + "\n_APP_STORAGE_DEVICE=" + secret + "\n"), true, "", "_APP_STORAGE_DEVICE in .env is not local"},
		{"uploads local (Appwrite's spelling)", envOf("_APP_OPENSSL_KEY_V1=k\n_APP_STORAGE_DEVICE=Local\n"), true, "", ""},
		{"uploads local", envOf("_APP_OPENSSL_KEY_V1=k\n_APP_STORAGE_DEVICE=local\n"), true, "", ""},
		{"an unreadable line", envOf("_APP_OPENSSL_KEY_V1 " + secret + "\n"), true, "line 1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.env != nil {
				if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(*tc.env), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			warnings, err := checkEnv(dir, tc.appwrite)
			all := strings.Join(warnings, "\n")
			if err != nil {
				all += err.Error()
			}
			if strings.Contains(all, secret) {
				t.Fatalf("a .env value was printed: %s", all)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
			}
			if tc.wantErr == "" && tc.wantWarn == "" && len(warnings) > 0 {
				t.Fatalf("unexpected warnings: %v", warnings)
			}
			if tc.wantWarn != "" && !strings.Contains(all, tc.wantWarn) {
				t.Fatalf("warnings %v, want one saying %q", warnings, tc.wantWarn)
			}
		})
	}
}

func TestAppwriteOf(t *testing.T) {
	stack := &engine.Stack{Containers: []engine.Container{
		{Service: "appwrite", Image: "appwrite/appwrite:1.8.0"},
		{Service: "mariadb", Image: "mariadb:10.11"},
	}}
	got := appwriteOf(stack)
	if got == nil || got.Service != "appwrite" || got.Image != "appwrite/appwrite:1.8.0" || got.Version != "1.8.0" {
		t.Fatalf("appwriteOf = %+v", got)
	}
	if got := appwriteOf(&engine.Stack{Containers: []engine.Container{{Service: "mariadb"}}}); got != nil {
		t.Fatalf("a stack without an appwrite service: %+v", got)
	}
}
func envOf(s string) *string { return &s }
