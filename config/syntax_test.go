package config

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestYAMLSyntaxErrorLines: a file that is not valid YAML is reported at
// the line an operator has to look at, counted from 1, whether yaml's
// scanner or its parser found the problem, and the line is said once.
func TestYAMLSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		msg  string
	}{
		// The parser's problems (yaml.v3 counts their lines from 0).
		{"unclosed flow list", "stack:\n  dir: [unclosed\n", 2, "did not find expected ',' or ']'"},
		// Opened on the first line, yaml names where it found the problem.
		{"unclosed flow mapping", "stack: {dir: /srv\ndestinations: []\n", 2, "did not find expected ',' or '}'"},
		{"key indented less than its block", "stack:\n  dir: /srv\n dir2: x\n", 3, "did not find expected key"},
		{"list item inside a mapping", "stack:\n  dir: /srv\n  - a\n", 2, "did not find expected key"},
		{"list entry's key indented less", "stack:\n  dir: /srv\ndestinations:\n  - name: a\n   remote: b\n", 4, "did not find expected '-' indicator"},
		{"problem on the first line", "]\n", 1, "did not find expected node content"},
		// The scanner's problems (counted from 1).
		{"value after a value", "stack:\n  dir: /srv\n  x: a: b\n", 3, "mapping values are not allowed in this context"},
		{"key without its colon", "stack:\n  dir /srv\n  project: x\n", 3, "mapping values are not allowed in this context"},
		{"unclosed quote", "stack:\n  dir: /srv\n  project: 'x\n", 3, "found unexpected end of stream"},
		{"character that starts no token", "stack:\n  dir: /srv\n  project: @x\n", 3, "found character that cannot start any token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "dr.yaml", noEnv)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if ce.Line != tt.line {
				t.Errorf("line %d, want %d: %v", ce.Line, tt.line, err)
			}
			msg := err.Error()
			if want := "dr.yaml:" + strconv.Itoa(tt.line) + ": not valid YAML: " + tt.msg; msg != want {
				t.Errorf("got %q, want %q", msg, want)
			}
			if strings.Contains(msg, "line ") {
				t.Errorf("the message names a line of its own: %q", msg)
			}
		})
	}
}
