package excerpt

import (
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"short", "DROP TABLE `a`", "DROP TABLE `a`"},
		{"a newline and a tab in a name", "DROP TABLE `a\nb\tc\rd`", "DROP TABLE `a\\nb\\tc\\rd`"},
		{"other control bytes", "a\x00b\x1bc\x7f", `a\x00b\x1bc\x7f`},
		{"unicode stays", "é ☃", "é ☃"},
		{"just Max", strings.Repeat("x", Max), strings.Repeat("x", Max)},
		{"cut", strings.Repeat("x", Max+1), strings.Repeat("x", Max) + "… (121 bytes)"},
		{"cut on a character's boundary", strings.Repeat("x", Max-1) + "é", strings.Repeat("x", Max-1) + "… (121 bytes)"},
		{"cut in a 30 KB statement", "SELECT " + strings.Repeat("1,", 15000), "SELECT " + strings.Repeat("1,", 56) + "1… (30007 bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.in); got != tc.want {
				t.Errorf("Of = %q, want %q", got, tc.want)
			}
		})
	}
}
