package main

import (
	"strings"
	"testing"
)

// A note that would be lost or that dr list could not show is refused
// before any config is read or backup made.
func TestPinNoteFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--note", "before 1.8.1"}, "--note goes with --pin"},
		{[]string{"backup", "--pin", "--note", "two\nlines"}, "line break"},
		{[]string{"backup", "--pin", "--note", strings.Repeat("x", 201)}, "more than 200"},
		{[]string{"pin", "NAME", "--note", "bell\a"}, "control character"},
		{[]string{"unpin", "NAME", "--note", "x"}, "unknown flag"},
	} {
		_, errOut, code := run(t, nil, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("dr %q: exit %d, want %d with %q:\n%s", tc.args, code, exitUsage, tc.want, errOut)
		}
	}
}
