package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int
		writes []string
		want   string
	}{
		{"under the limit", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly the limit", 6, []string{"abc", "def"}, "abcdef"},
		{"keeps the tail", 4, []string{"abc", "def"}, "cdef"},
		{"one write larger than the limit", 3, []string{"abcdefgh"}, "fgh"},
		{"many small writes", 5, strings.Split(strings.Repeat("x", 100)+"12345", ""), "12345"},
		{"does not start inside a character", 4, []string{"aé€"}, "€"},
		{"nothing written", 8, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &tailBuffer{limit: tc.limit}
			for _, w := range tc.writes {
				n, err := b.Write([]byte(w))
				if n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			if got := b.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if len(b.buf) > 2*tc.limit {
				t.Errorf("buffer holds %d bytes for a limit of %d", len(b.buf), tc.limit)
			}
		})
	}
}

func TestEnvNames(t *testing.T) {
	got := envNames([]string{"MYSQL_ROOT_PASSWORD=s3cret=with=equals", "PATH=/bin", "EMPTY=", "NOVALUE", "=odd"})
	want := []string{"EMPTY", "MYSQL_ROOT_PASSWORD", "NOVALUE", "PATH"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("envNames = %q, want %q", got, want)
	}
	for _, k := range got {
		if strings.Contains(k, "s3cret") {
			t.Fatalf("envNames leaked a value: %q", k)
		}
	}
}

func TestExecResultErr(t *testing.T) {
	for _, tc := range []struct {
		res  ExecResult
		want string
	}{
		{ExecResult{ExitCode: 0, Stderr: "warning"}, ""},
		{ExecResult{ExitCode: 2, Stderr: "mariadb-dump: Got error: 1045\n"}, "dumping the database: exit code 2: mariadb-dump: Got error: 1045"},
		{ExecResult{ExitCode: 137}, "dumping the database: exit code 137 (no error output)"},
	} {
		err := tc.res.Err("dumping the database")
		if tc.want == "" {
			if err != nil {
				t.Errorf("Err() for exit 0 = %v, want nil", err)
			}
			continue
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("Err() = %v, want %q", err, tc.want)
		}
		var exitErr *ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode != tc.res.ExitCode {
			t.Errorf("Err() = %#v, want an *ExitError with code %d", err, tc.res.ExitCode)
		}
	}
}

func TestDescribeCommand(t *testing.T) {
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"mariadb-admin", "ping"}, "mariadb-admin ping"},
		{[]string{"sh", "-c", strings.Repeat("a", 100)}, "sh -c " + strings.Repeat("a", 74) + "…"},
		{[]string{"echo", strings.Repeat("é", 60)}, "echo " + strings.Repeat("é", 37) + "…"},
	} {
		if got := describeCommand(tc.cmd); got != tc.want {
			t.Errorf("describeCommand(%q) = %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestNewWithoutEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/dr-test/docker.sock")
	c, err := New(context.Background())
	if err == nil {
		c.Close()
		t.Fatal("New succeeded against a socket that does not exist")
	}
	if !errors.Is(err, ErrNoEngine) {
		t.Errorf("errors.Is(%v, ErrNoEngine) = false", err)
	}
	want := "cannot reach the Docker engine at unix:///nonexistent/dr-test/docker.sock: dial unix /nonexistent/dr-test/docker.sock: connect: no such file or directory; start it (systemctl start docker) or set DOCKER_HOST"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans several lines: %q", err)
	}
}

func FuzzTailBuffer(f *testing.F) {
	f.Add([]byte("hello world"), 4, 3)
	f.Add([]byte("aé€😀 end"), 5, 1)
	f.Add([]byte{}, 1, 1)
	f.Fuzz(func(t *testing.T, data []byte, limit, chunk int) {
		if limit <= 0 || limit > 1<<16 || chunk <= 0 {
			t.Skip()
		}
		b := &tailBuffer{limit: limit}
		for rest := data; len(rest) > 0; {
			n := min(chunk, len(rest))
			b.Write(rest[:n])
			rest = rest[n:]
		}
		got := b.String()
		if len(got) > limit {
			t.Fatalf("tail is %d bytes, limit %d", len(got), limit)
		}
		if !strings.HasSuffix(string(data), got) {
			t.Fatalf("tail %q is not a suffix of the input", got)
		}
		if len(data) <= limit && got != string(data) {
			t.Fatalf("input of %d bytes under the limit %d came back as %q", len(data), limit, got)
		}
		if len(b.buf) > 2*limit {
			t.Fatalf("buffer holds %d bytes for limit %d", len(b.buf), limit)
		}
	})
}

func FuzzEnvNames(f *testing.F) {
	f.Add("A=1\nB=\nC")
	f.Add("=x\n==\nPASSWORD=a=b")
	f.Fuzz(func(t *testing.T, env string) {
		entries := strings.Split(env, "\n")
		for _, name := range envNames(entries) {
			if name == "" || strings.Contains(name, "=") {
				t.Fatalf("envNames(%q) returned %q", entries, name)
			}
		}
	})
}
