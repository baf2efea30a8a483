package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/storage"
)

// dr diff answers as diff(1): 1 only for "different", 2 for any trouble,
// even one that other commands report as a failure (1).
func TestDiffExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"same", nil, 0},
		{"different", &differencesFound{n: 3, a: "a", b: "live"}, 1},
		{"destination down", diffTrouble{fmt.Errorf("x: %w", storage.ErrNoDestination)}, 2},
		{"engine down", diffTrouble{errors.New("cannot reach the docker engine")}, 2},
		{"bad usage", usagef("give two backups"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestDiffHelpEndsWithItsOwnExitStatus(t *testing.T) {
	root := newRootCommand(&app{})
	cmd, _, err := root.Find([]string{"diff"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cmd.Long, diffExitStatusHelp) {
		t.Errorf("diff help ends with:\n%s", cmd.Long[max(0, len(cmd.Long)-300):])
	}
	if other, _, _ := root.Find([]string{"list"}); !strings.HasSuffix(other.Long, exitStatusHelp("dr list")) {
		t.Error("list lost the common exit status table")
	}
}
