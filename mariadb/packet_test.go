package mariadb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
)

// fakeServer answers the queries around an import the way a server would,
// and records what ran. Import calls it from one goroutine only.
type fakeServer struct {
	limit    string // the global max_allowed_packet
	setFails bool   // SET GLOBAL is refused (no privilege)
	// importCode is the import client's exit code; importCancel, when set,
	// is called during the import (an interrupted restore).
	importCode   int
	importCancel func()
	ran          []string
	imported     []byte
	importLimit  string // the global limit while the import ran
}

func (f *fakeServer) Exec(ctx context.Context, _ string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch opts.Cmd[3] {
	case "dr-query":
		sql := opts.Cmd[4]
		f.ran = append(f.ran, sql)
		switch {
		case sql == "SELECT @@global.max_allowed_packet":
			_, err := io.WriteString(opts.Stdout, f.limit+"\n")
			return &engine.ExecResult{}, err
		case strings.HasPrefix(sql, "SET GLOBAL max_allowed_packet = "):
			if f.setFails {
				return &engine.ExecResult{ExitCode: 1, Stderr: "ERROR 1227 (42000): Access denied; you need (at least one of) the SUPER privilege(s)"}, nil
			}
			f.limit = strings.TrimPrefix(sql, "SET GLOBAL max_allowed_packet = ")
			return &engine.ExecResult{}, nil
		}
		return &engine.ExecResult{ExitCode: 1, Stderr: "unexpected query"}, nil
	case "dr-import":
		f.ran = append(f.ran, "import")
		f.importLimit = f.limit
		if !strings.Contains(opts.Cmd[2], "--max-allowed-packet="+MaxAllowedPacket) {
			return &engine.ExecResult{ExitCode: 1, Stderr: "the import client lacks --max-allowed-packet"}, nil
		}
		b, err := io.ReadAll(opts.Stdin)
		f.imported = b
		if f.importCancel != nil {
			f.importCancel()
			return nil, context.Canceled
		}
		if err != nil {
			return nil, err
		}
		return &engine.ExecResult{ExitCode: f.importCode, Stderr: "ERROR 2006 (HY000) at line 47: Server has gone away"}, nil
	}
	return nil, errors.New("unexpected command")
}

func TestImportRaisesThePacketLimitAndPutsItBack(t *testing.T) {
	const (
		def   = "16777216"
		raise = "SET GLOBAL max_allowed_packet = 1073741824"
		back  = "SET GLOBAL max_allowed_packet = 16777216"
		read  = "SELECT @@global.max_allowed_packet"
	)
	tests := []struct {
		name        string
		server      fakeServer
		cancel      bool
		wantErr     bool
		wantRan     []string
		wantDuring  string // the server's limit while the import ran
		wantAfter   string
		wantWarning string
	}{
		{
			name:       "default limit: raised, then put back",
			server:     fakeServer{limit: def},
			wantRan:    []string{read, raise, "import", back},
			wantDuring: "1073741824", wantAfter: def,
		},
		{
			name:       "already at the maximum: left alone",
			server:     fakeServer{limit: "1073741824"},
			wantRan:    []string{read, "import"},
			wantDuring: "1073741824", wantAfter: "1073741824",
		},
		{
			name:       "failed import: put back all the same",
			server:     fakeServer{limit: def, importCode: 1},
			wantErr:    true,
			wantRan:    []string{read, raise, "import", back},
			wantDuring: "1073741824", wantAfter: def,
		},
		{
			name:       "interrupted import: put back all the same",
			server:     fakeServer{limit: def},
			cancel:     true,
			wantErr:    true,
			wantRan:    []string{read, raise, "import", back},
			wantDuring: "1073741824", wantAfter: def,
		},
		{
			name:       "no privilege to raise it: the import still runs, with a warning",
			server:     fakeServer{limit: def, setFails: true},
			wantRan:    []string{read, raise, "import"},
			wantDuring: def, wantAfter: def,
			wantWarning: "could not raise the server's max_allowed_packet",
		},
		{
			name:       "unreadable limit: the import still runs, with a warning",
			server:     fakeServer{limit: "not a number"},
			wantRan:    []string{read, "import"},
			wantDuring: "not a number", wantAfter: "not a number",
			wantWarning: "could not read the server's max_allowed_packet",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &tt.server
			if tt.cancel {
				f.importCancel = cancel
			}
			var logs bytes.Buffer
			srv := New(f, "db").WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
			err := srv.Import(ctx, strings.NewReader("INSERT INTO t VALUES (1);\n"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Import = %v, want error: %v", err, tt.wantErr)
			}
			if !slices.Equal(f.ran, tt.wantRan) {
				t.Errorf("ran %q, want %q", f.ran, tt.wantRan)
			}
			if f.importLimit != tt.wantDuring || f.limit != tt.wantAfter {
				t.Errorf("server limit during the import %s, after %s; want %s, %s", f.importLimit, f.limit, tt.wantDuring, tt.wantAfter)
			}
			if string(f.imported) != "INSERT INTO t VALUES (1);\n" {
				t.Errorf("imported %q", f.imported)
			}
			if tt.wantWarning != "" && !strings.Contains(logs.String(), tt.wantWarning) {
				t.Errorf("log lacks %q:\n%s", tt.wantWarning, logs.String())
			}
		})
	}
}

// TestPutBackPacketLimit is what the run after a killed import does with
// the limit the journal recorded: the server still holds the value the
// import raised it to, which only the recorded one replaces.
func TestPutBackPacketLimit(t *testing.T) {
	const raised = "1073741824"
	tests := []struct {
		name        string
		server      fakeServer
		original    int64
		wantChanged bool
		wantErr     bool
		wantAfter   string
	}{
		{"left raised by a killed import: the recorded value back", fakeServer{limit: raised}, 16 << 20, true, false, "16777216"},
		{"already put back", fakeServer{limit: "16777216"}, 16 << 20, false, false, "16777216"},
		{"restarted since, with its configured value: left alone", fakeServer{limit: "67108864"}, 16 << 20, false, false, "67108864"},
		{"the operator's own limit was the maximum already", fakeServer{limit: raised}, 1 << 30, false, false, raised},
		{"nothing recorded", fakeServer{limit: raised}, 0, false, false, raised},
		{"no privilege to set it: an error", fakeServer{limit: raised, setFails: true}, 16 << 20, false, true, raised},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &tt.server
			changed, err := New(f, "db").PutBackPacketLimit(context.Background(), tt.original)
			if (err != nil) != tt.wantErr || changed != tt.wantChanged {
				t.Fatalf("PutBackPacketLimit = %v, %v; want changed %v, error %v", changed, err, tt.wantChanged, tt.wantErr)
			}
			if f.limit != tt.wantAfter {
				t.Errorf("server limit after: %s, want %s", f.limit, tt.wantAfter)
			}
		})
	}
}
