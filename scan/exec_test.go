package scan

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

// fakeExec plays clamdscan in a container: it reads stdin whole and
// answers with the exit code and output given.
type fakeExec struct {
	code   int
	stdout string
	stderr string
	err    error
	read   int
	cmd    []string
}

func (f *fakeExec) Exec(_ context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	f.cmd = opts.Cmd
	if f.err != nil {
		return nil, f.err
	}
	if opts.Stdin != nil {
		n, _ := io.Copy(io.Discard, opts.Stdin)
		f.read += int(n)
	}
	if opts.Stdout != nil {
		io.WriteString(opts.Stdout, f.stdout)
	}
	return &engine.ExecResult{ExitCode: f.code, Stderr: f.stderr}, nil
}

func (f *fakeExec) FindStack(context.Context, string, string) (*engine.Stack, error) {
	return &engine.Stack{Project: "appwrite", Containers: []engine.Container{
		{ID: "c1", Service: "clamav", Running: true},
		{ID: "c2", Service: "stopped"},
	}}, nil
}

func TestExecScanner(t *testing.T) {
	tests := []struct {
		name     string
		fake     fakeExec
		infected bool
		errKind  string // "", "unreachable", "reply"
		errText  string
	}{
		{"clean", fakeExec{code: 0, stdout: "stream: OK\n"}, false, "", ""},
		{"found", fakeExec{code: 1, stdout: "stream: Eicar-Signature FOUND\n"}, true, "", ""},
		{"too large", fakeExec{code: 2, stdout: "stream: INSTREAM size limit exceeded. ERROR\n"}, false, "reply", "StreamMaxLength"},
		{"clamd down", fakeExec{code: 2, stderr: "ERROR: Could not connect to clamd on LocalSocket /run/clamav/clamd.ctl: No such file or directory"}, false, "unreachable", "Could not connect"},
		{"no clamdscan", fakeExec{code: 127, stderr: "exec: clamdscan: not found"}, false, "unreachable", "has no clamdscan"},
		{"container gone", fakeExec{err: errors.New("No such container: c1")}, false, "unreachable", "No such container"},
		{"descriptor passed", fakeExec{code: 1, stdout: "fd[11]: evil.php.UNOFFICIAL FOUND\n"}, true, "", ""},
		{"garbage", fakeExec{code: 0, stdout: "hello\n"}, false, "other", "not a verdict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fake
			s := NewExec(&f, "c1", "clamav")
			v, err := s.Scan(context.Background(), strings.NewReader("file content"))
			switch tt.errKind {
			case "":
				if err != nil {
					t.Fatal(err)
				}
				if v.Infected != tt.infected {
					t.Errorf("got %+v", v)
				}
				if f.read != len("file content") || strings.Join(f.cmd, " ") != "clamdscan --no-summary --stream -" {
					t.Errorf("clamdscan got %d bytes through %v", f.read, f.cmd)
				}
				return
			case "unreachable":
				if !IsUnreachable(err) {
					t.Fatalf("got %v, want unreachable", err)
				}
			case "reply":
				var re *ReplyError
				if !errors.As(err, &re) {
					t.Fatalf("got %v, want a reply error", err)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("got %v, want an error with %q", err, tt.errText)
			}
		})
	}
}

func TestExecPingScansNothing(t *testing.T) {
	ok := &fakeExec{code: 0, stdout: "stream: OK\n"}
	if err := NewExec(ok, "c1", "clamav").Ping(context.Background()); err != nil || ok.read != 0 {
		t.Fatalf("ping: %v (read %d)", err, ok.read)
	}
	down := &fakeExec{code: 2, stderr: "ERROR: Could not connect to clamd"}
	if err := NewExec(down, "c1", "clamav").Ping(context.Background()); !IsUnreachable(err) {
		t.Fatalf("got %v, want unreachable", err)
	}
}

func TestOpen(t *testing.T) {
	cfg := config.Default()
	if s, err := Open(context.Background(), cfg, &fakeExec{}); s != nil || err != nil {
		t.Fatalf("unset: got %v, %v; want nothing", s, err)
	}
	cfg.Scan.Clamd = "container:clamav"
	s, err := Open(context.Background(), cfg, &fakeExec{stdout: "stream: OK\n"})
	if err != nil || s.String() != "container:clamav" {
		t.Fatalf("container: %v, %v", s, err)
	}
	for _, svc := range []string{"stopped", "missing"} {
		cfg.Scan.Clamd = "container:" + svc
		if _, err := Open(context.Background(), cfg, &fakeExec{}); !IsUnreachable(err) || !strings.Contains(err.Error(), "not running") {
			t.Errorf("%s: got %v, want an error saying it is not running", svc, err)
		}
	}
	cfg.Scan.Clamd = "unix:/nonexistent/clamd.ctl"
	if _, err := Open(context.Background(), cfg, &fakeExec{}); !IsUnreachable(err) || !strings.Contains(err.Error(), "/nonexistent/clamd.ctl") {
		t.Errorf("got %v, want unreachable naming the socket", err)
	}
}

// scripted answers a list of verdicts in turn.
type scripted struct {
	verdicts []Verdict
	errs     []error
	i        int
}

func (s *scripted) Ping(context.Context) error { return nil }
func (s *scripted) String() string             { return "unix:/fake" }
func (s *scripted) Scan(_ context.Context, r io.Reader) (Verdict, error) {
	io.Copy(io.Discard, r)
	i := s.i
	s.i++
	return s.verdicts[i], s.errs[i]
}

func TestReportRecordsEachVerdict(t *testing.T) {
	s := &scripted{
		verdicts: []Verdict{{}, {Infected: true, Signature: "Sig"}, {}, {}, {}},
		errs:     []error{nil, nil, &ReplyError{Reply: "INSTREAM size limit exceeded. ERROR"}, &UnreachableError{Addr: "x", Err: errors.New("gone")}, nil},
	}
	rep := &Report{Scanner: s.String(), Volumes: []string{"appwrite-uploads"}}
	ctx := context.Background()
	for i, name := range []string{"a", "b", "c", "d"} {
		err := rep.File(ctx, s, name, strings.NewReader("12345"))
		if (err != nil) != (i == 3) {
			t.Fatalf("file %s: %v", name, err)
		}
	}
	if err := rep.File(ctx, s, "e", strings.NewReader("x")); err == nil {
		t.Fatal("scanning went on after the scanner went away")
	}
	if rep.Files != 2 || rep.Bytes != 10 || len(rep.Infected) != 1 || rep.Infected[0] != (Infected{File: "b", Signature: "Sig"}) ||
		len(rep.Unscanned) != 1 || rep.Unscanned[0].File != "c" || rep.Error == "" || rep.Clean() {
		t.Fatalf("report %+v", rep)
	}
	sum := rep.Summary()
	for _, want := range []string{"2 files", "1 infected: b (Sig)", "1 not scanned: c", "scanning stopped"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
}
