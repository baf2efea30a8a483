package scan

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		reply    string
		infected bool
		sig      string
		err      string // "" none; "reply" a *ReplyError; else a substring
	}{
		{"stream: OK\x00", false, "", ""},
		{"stream: OK\n", false, "", ""},
		{"stream: OK", false, "", ""},
		{"stream: Win.Test.EICAR_HDB-1 FOUND\x00", true, "Win.Test.EICAR_HDB-1", ""},
		{"stream: evil.php.UNOFFICIAL FOUND", true, "evil.php.UNOFFICIAL", ""},
		{"stream: YARA.rule:with:colons.UNOFFICIAL FOUND", true, "YARA.rule:with:colons.UNOFFICIAL", ""},
		{"INSTREAM size limit exceeded. ERROR\x00", false, "", "reply"},
		{"stream: Can't allocate memory ERROR", false, "", "reply"},
		{"stream:  FOUND", false, "", "no signature"},
		{"PONG", false, "", "not a verdict"},
		{"", false, "", "not a verdict"},
		{"stream: OK\nstream: OK", false, "", "not one line"},
		{"stream: maybe", false, "", "not a verdict"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimRight(tt.reply, "\x00\n"), func(t *testing.T) {
			v, err := ParseReply(tt.reply)
			switch {
			case tt.err == "reply":
				var re *ReplyError
				if !errors.As(err, &re) {
					t.Fatalf("got %v, %v; want a *ReplyError", v, err)
				}
				return
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, %v; want an error with %q", v, err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if v.Infected != tt.infected || v.Signature != tt.sig {
				t.Errorf("got %+v, want infected=%v %q", v, tt.infected, tt.sig)
			}
		})
	}
}

// FuzzParseReply: whatever a clamd (or something posing as one) answers,
// the parser never panics, and a clean verdict is only ever "stream: OK".
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK\x00", "stream: Eicar-Sig FOUND\x00", "INSTREAM size limit exceeded. ERROR\x00", "PONG\x00", "", "stream: ", " FOUND", "stream: OK ERROR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		v, err := ParseReply(reply)
		if err != nil {
			if v != (Verdict{}) {
				t.Fatalf("an error with a verdict: %+v", v)
			}
			return
		}
		if !v.Infected && strings.TrimRight(reply, "\x00\r\n") != "stream: OK" {
			t.Fatalf("%q read as clean", reply)
		}
		if v.Infected && (v.Signature == "" || strings.ContainsAny(v.Signature, "\x00\n")) {
			t.Fatalf("%q: bad signature %q", reply, v.Signature)
		}
	})
}
