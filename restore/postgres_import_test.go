package restore

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// A dump psql takes whole but that lacks a completion trailer fails the
// import: psql would have ended a COPY at the end of its input.
func TestImportWholeNeedsEveryTrailer(t *testing.T) {
	whole := "--\n-- PostgreSQL database dump\n--\n\nCREATE DATABASE \"a\";\n\\connect a\nCOPY \"public\".\"t\" (\"id\") FROM stdin;\n1\n2\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n"
	imp := func(_ context.Context, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	if err := importWhole(context.Background(), strings.NewReader(whole), imp); err != nil {
		t.Errorf("whole dump: %v", err)
	}
	cut := whole[:strings.Index(whole, "2\n")]
	if err := importWhole(context.Background(), strings.NewReader(cut), imp); !errors.Is(err, ErrDumpCutShort) {
		t.Errorf("cut dump: %v", err)
	}
	// psql's own failure is the import's.
	boom := errors.New("exit code 3: ERROR: syntax error")
	if err := importWhole(context.Background(), strings.NewReader(whole), func(context.Context, io.Reader) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("failed psql: %v", err)
	}
}
