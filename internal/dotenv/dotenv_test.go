package dotenv

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{"plain", "A=1\nB=two\n", map[string]string{"A": "1", "B": "two"}, ""},
		{"comments and blanks", "# c\n\nA=1\n  # indented\n", map[string]string{"A": "1"}, ""},
		{"export", "export A=1\n", map[string]string{"A": "1"}, ""},
		{"double quotes", `A="x y # not a comment"` + "\n", map[string]string{"A": "x y # not a comment"}, ""},
		{"single quotes", "A='x'\n", map[string]string{"A": "x"}, ""},
		{"inline comment", "A=x # c\n", map[string]string{"A": "x"}, ""},
		{"empty value", "A=\n", map[string]string{"A": ""}, ""},
		{"equals in value", "A=b=c\n", map[string]string{"A": "b=c"}, ""},
		{"bom", "\ufeffA=1\n", map[string]string{"A": "1"}, ""},
		{"crlf", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}, ""},
		{"no equals", "A=1\nsecret-value\n", nil, "line 2 is not KEY=VALUE"},
		{"bad key", "1A=x\n", nil, "line 1"},
		{"open quote", "A=\"secret\n", nil, "never closes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error quotes the line: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x'\n", "# c\nC=\"y\" # z\n", "=", "A=\"", "\ufeffA=1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		if err != nil {
			return
		}
		for k := range env {
			if !validKey(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
		}
	})
}
