package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain path", "/var/backups/appwrite", "/var/backups/appwrite"},
		{"named remote", "gdrive:appwrite-backups", "gdrive:appwrite-backups"},
		{"webdav url with password and obscured pass",
			":webdav,url='http://bob:PASSWORD@host:8080/dav',user=bob,pass=OBSCURED:path",
			":webdav,url='http://bob:<redacted>@host:8080/dav',user=bob,pass=<redacted>:path"},
		{"quoted pass with a comma and a colon", ":sftp,host=h,pass='a,b:c''d',shell_type=none:",
			":sftp,host=h,pass=<redacted>,shell_type=none:"},
		{"double-quoted", `:webdav,pass="x:y":`, `:webdav,pass=<redacted>:`},
		{"unterminated quote", ":sftp,pass='abc:def", ":sftp,pass=<redacted>"},
		{"s3 keys", ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000',access_key_id=AKIA123,secret_access_key=s3cr3t/+x,force_path_style=true:bucket",
			":s3,provider=Rclone,endpoint='http://127.0.0.1:9000',access_key_id=<redacted>,secret_access_key=<redacted>,force_path_style=true:bucket"},
		{"azure", ":azureblob,account=acc,key=K3Y==,sas_url='https://a.blob/x?sv=1&sig=abc':c",
			":azureblob,account=acc,key=<redacted>,sas_url=<redacted>:c"},
		{"token json", `:drive,token='{"access_token":"ya29"}',client_secret=cs:dir`,
			`:drive,token=<redacted>,client_secret=<redacted>:dir`},
		{"bearer and headers", `:webdav,bearer_token=tok,headers="Authorization,Bearer abc":`,
			`:webdav,bearer_token=<redacted>,headers=<redacted>:`},
		{"named remote with override", "b2remote,key=abc,account=id:bucket", "b2remote,key=<redacted>,account=id:bucket"},
		{"case of keys", ":ftp,PASS=x:", ":ftp,PASS=<redacted>:"},
		{"url userinfo in prose", `Get "https://alice:hunter2@example.com/x": EOF`, `Get "https://alice:<redacted>@example.com/x": EOF`},
		{"unencoded @ and / in the password", "https://alice:p@ss/w0rd@example.com/x", "https://alice:<redacted>@example.com/x"},
		{"url without password keeps user", "https://alice@example.com/x", "https://alice@example.com/x"},
		{"go's own stripped password", "http://bob:***@h/", "http://bob:<redacted>@h/"},
		{"webhook query", "https://hooks.example/x?token=abc&channel=ops", "https://hooks.example/x?token=<redacted>&channel=ops"},
		{"command flag with space", "command:/usr/local/bin/page-me --api-key K --to ops", "command:/usr/local/bin/page-me --api-key <redacted> --to ops"},
		{"command flag with equals", "command:/bin/x --password=hunter2", "command:/bin/x --password=<redacted>"},
		{"flag without value is left alone", "mariadb-dump --single-transaction --hex-blob db", "mariadb-dump --single-transaction --hex-blob db"},
		{"hyphenated prose is left alone", "an api-token expired here", "an api-token expired here"},
		{"error text", `destination "s3": opening remote ":s3,secret_access_key=zz:b": boom`, `destination "s3": opening remote ":s3,secret_access_key=<redacted>:b": boom`},
		{"nothing sensitive", "keep_last=7, keep_daily=14: ok", "keep_last=7, keep_daily=14: ok"},
		{"empty", "", ""},
		{"json-escaped quotes", `{"msg":"opening :webdav,pass=\"a b\",user=x:"}`, `{"msg":"opening :webdav,pass=<redacted>,user=x:"}`},
		{"json-escaped unquoted", `{"msg":"pass=abc\n"}`, `{"msg":"pass=<redacted>\n"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.in)
			if got != tc.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if again := String(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestError(t *testing.T) {
	inner := fmt.Errorf("opening :webdav,pass=SECRET: %w", fs.ErrNotExist)
	err := Error(inner)
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Error kept the secret: %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is lost the wrapped error")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

// secretChars are what credentials are made of in the fuzz target: rclone
// obscured strings (base64url), S3 keys (base64), hex tokens.
var secretChars = regexp.MustCompile(`^[A-Za-z0-9+/=_~.]{8,64}$`)

// FuzzString puts a secret into every form dr meets and checks it never
// survives, and that any text comes out stable under a second pass.
func FuzzString(f *testing.F) {
	f.Add("hunter2hunter2", "/var/backups/x")
	f.Add("T0KEN/abc+def==", "bucket/dir")
	f.Add("a.b~c_d=e", "")
	f.Fuzz(func(t *testing.T, secret, path string) {
		if again := String(String(path)); again != String(path) {
			t.Fatalf("not idempotent on %q: %q then %q", path, String(path), again)
		}
		if !secretChars.MatchString(secret) || strings.Contains(Marker, secret) || strings.Contains(path, "\x00") {
			return
		}
		// \x00 stands for the secret, so that a form whose own text
		// contains it (the path, say) is told apart and skipped.
		forms := []string{
			":webdav,url='http://bob:\x00@127.0.0.1:1/dav',user=bob,pass=\x00:" + path,
			":webdav,url='http://bob:\x00@127.0.0.1:1/dav',pass='\x00':" + path,
			":s3,access_key_id=\x00,secret_access_key=\x00,endpoint='http://h':" + path,
			"remote,password=\"\x00\":" + path,
			"https://user:\x00@hooks.example/x?token=\x00",
			"command:/bin/notify --token \x00 --password=\x00",
			"error: " + path + " pass=\x00",
		}
		for _, tmpl := range forms {
			if strings.Contains(strings.ReplaceAll(tmpl, "\x00", " "), secret) {
				continue
			}
			form := strings.ReplaceAll(tmpl, "\x00", secret)
			got := String(form)
			if strings.Contains(got, secret) {
				t.Fatalf("String(%q) = %q keeps the secret", form, got)
			}
		}
	})
}

func TestWriterAndHandler(t *testing.T) {
	var buf strings.Builder
	w := NewWriter(&buf)
	line := "  s3  committed (:s3,secret_access_key=ZZZ:bucket)\n"
	if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).With("remote", ":webdav,pass=YYY:")
	log.Info("opening :sftp,pass=XXX:", "err", errors.New("dial http://u:WWW@h: refused"),
		"list", []string{"a", "token=VVV"}, slog.Group("g", "remote", "b2,key=UUU:x"), "n", 3)
	out := buf.String()
	for _, secret := range []string{"ZZZ", "YYY", "XXX", "WWW", "VVV", "UUU"} {
		if strings.Contains(out, secret) {
			t.Errorf("output keeps %s:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"n":3`) {
		t.Errorf("a number lost its kind:\n%s", out)
	}
}
