package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/remote/remotetest"
)

// Exit codes decided through the commands themselves, without Docker: the
// commands that need no engine (list, prune) on in-memory destinations,
// one of them refusing connections where a case says so.
func TestExitCodesWithFakes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		down   bool   // a second destination, "down", refuses connections
		extra  string // appended to the config
		locked bool   // another run holds the lock
		want   int
		stderr string
	}{
		{"list", []string{"list"}, false, "", false, exitOK, ""},
		{"list with one destination down works from the other", []string{"list"}, true, "", false, exitOK, "destination=down"},
		{"prune with one destination down is partly done and names it", []string{"prune"}, true, "", false, exitPartial, "down"},
		{"prune --json with one destination down ends stderr with the error object", []string{"prune", "--json"}, true, "", false, exitPartial, `{"message_type":"exit_error","code":4,"message":"unreachable destinations down`},
		{"prune while another run holds the lock", []string{"prune"}, false, "", true, exitLocked, "holds the lock"},
		{"prune --dry-run takes no lock", []string{"prune", "--dry-run"}, false, "", true, exitOK, ""},
		{"an unknown --destination", []string{"prune", "--destination", "nope"}, false, "", false, exitUsage, `"nope"`},
		{"list of an unknown --destination", []string{"list", "--destination", "nope"}, false, "", false, exitUsage, `"nope"`},
		{"an unknown config key", []string{"list"}, false, "retension: {}\n", false, exitUsage, "retension"},
		{"a bad flag", []string{"prune", "--no-such-flag"}, false, "", false, exitUsage, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			dests := fmt.Sprintf("  - {name: mem, remote: %q}\n", remotetest.Memory(t))
			if tc.down {
				dests += fmt.Sprintf("  - {name: down, remote: %q, timeout: 2s}\n", remotetest.Refused(t))
			}
			cfg := writeConfig(t, fmt.Sprintf("stack: {dir: %s, project: app}\nstate_dir: %s\ndestinations:\n%s%s", t.TempDir(), state, dests, tc.extra))
			if tc.locked {
				held, err := lock.Acquire(state, "test")
				if err != nil {
					t.Fatal(err)
				}
				defer held.Release()
			}
			_, errOut, code := run(t, nil, append(tc.args, "--config", cfg)...)
			if code != tc.want || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("dr %v: exit %d, want %d with %q on stderr:\n%s", tc.args, code, tc.want, tc.stderr, errOut)
			}
		})
	}
}
