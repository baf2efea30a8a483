// Package excerpt shortens what an error message quotes: a statement can
// be megabytes long, and a name can hold a newline that would break the
// message's line in a log.
package excerpt

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Max is the most bytes of the quoted text an excerpt keeps.
const Max = 120

// Of is s on one line: control characters written as escapes (\n, \t, \r,
// \x00), cut after Max bytes of s on a character's boundary, and then
// ending in "…" and the whole size.
func Of(s string) string {
	cut := s
	if len(cut) > Max {
		n := Max
		for n > 0 && !utf8.RuneStart(cut[n]) {
			n--
		}
		cut = cut[:n]
	}
	var b strings.Builder
	for _, r := range cut {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	if len(cut) < len(s) {
		fmt.Fprintf(&b, "… (%d bytes)", len(s))
	}
	return b.String()
}
