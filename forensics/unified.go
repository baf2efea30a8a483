package forensics

import (
	"bytes"
	"fmt"
	"strings"
)

// A small LCS diff instead of a library: the one classic Go package for
// unified diffs (pmezard/go-difflib) has been archived for years, and
// stack files are a few hundred lines, for which a plain LCS table after
// trimming the common head and tail is small and exact.

// contextLines is how many unchanged lines surround each hunk, as diff -u.
const contextLines = 3

// maxCells bounds the LCS table (4 bytes a cell): past it, after the
// common head and tail are trimmed, a file is reported as changed without
// its lines.
const maxCells = 4 << 20

type opKind byte

const (
	opEqual opKind = ' '
	opDel   opKind = '-'
	opIns   opKind = '+'
)

type op struct {
	kind opKind
	a, b int // line index in a (equal, del) and b (equal, ins)
}

// Unified is a unified diff (diff -u) of a and b, named path, with the
// sides labelled; nil a or b is a file missing on that side.
func Unified(path string, a, b []byte, labelA, labelB string) string {
	var out strings.Builder
	nameA, nameB := "a/"+path, "b/"+path
	if a == nil {
		nameA = "/dev/null"
	}
	if b == nil {
		nameB = "/dev/null"
	}
	fmt.Fprintf(&out, "--- %s\t(%s)\n+++ %s\t(%s)\n", nameA, labelA, nameB, labelB)
	if bytes.IndexByte(a, 0) >= 0 || bytes.IndexByte(b, 0) >= 0 {
		out.WriteString("Binary files differ\n")
		return out.String()
	}
	la, lb := splitLines(a), splitLines(b)
	ops, ok := diffLines(la, lb)
	if !ok {
		fmt.Fprintf(&out, "(%d and %d lines: too many differences to show line by line)\n", len(la), len(lb))
		return out.String()
	}
	writeHunks(&out, ops, la, lb)
	return out.String()
}

// splitLines cuts text into lines; a last line without a newline is kept
// and marked as diff -u does.
func splitLines(text []byte) []string {
	if len(text) == 0 {
		return nil
	}
	s := string(text)
	noEOL := !strings.HasSuffix(s, "\n")
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if noEOL {
		lines[len(lines)-1] += "\n\\ No newline at end of file\n"
	}
	return lines
}

// diffLines returns the edit script from a to b: the longest common
// subsequence stays, the rest is deleted or inserted. ok is false when the
// differing middle is too large for the table.
func diffLines(a, b []string) ([]op, bool) {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	if (len(ma)+1)*(len(mb)+1) > maxCells {
		return nil, false
	}
	// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
	w := len(mb) + 1
	lcs := make([]int32, (len(ma)+1)*w)
	for i := len(ma) - 1; i >= 0; i-- {
		for j := len(mb) - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	ops := make([]op, 0, len(a)+len(b))
	for i := range head {
		ops = append(ops, op{opEqual, i, i})
	}
	i, j := 0, 0
	for i < len(ma) || j < len(mb) {
		switch {
		case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
			ops = append(ops, op{opEqual, head + i, head + j})
			i++
			j++
		case j < len(mb) && (i == len(ma) || lcs[i*w+j+1] >= lcs[(i+1)*w+j]):
			ops = append(ops, op{opIns, head + i, head + j})
			j++
		default:
			ops = append(ops, op{opDel, head + i, head + j})
			i++
		}
	}
	// Deletions before insertions inside each run of changes, as diff -u.
	for start := 0; start < len(ops); {
		if ops[start].kind == opEqual {
			start++
			continue
		}
		end := start
		for end < len(ops) && ops[end].kind != opEqual {
			end++
		}
		var dels, ins []op
		for _, o := range ops[start:end] {
			if o.kind == opDel {
				dels = append(dels, o)
			} else {
				ins = append(ins, o)
			}
		}
		copy(ops[start:], append(dels, ins...))
		start = end
	}
	for k := range tail {
		ops = append(ops, op{opEqual, len(a) - tail + k, len(b) - tail + k})
	}
	return ops, true
}

func writeHunks(out *strings.Builder, ops []op, a, b []string) {
	for k := 0; k < len(ops); {
		if ops[k].kind == opEqual {
			k++
			continue
		}
		start := max(k-contextLines, 0)
		// Extend the hunk while the next change is within two contexts.
		end := k
		for {
			for end < len(ops) && ops[end].kind != opEqual {
				end++
			}
			next := end
			for next < len(ops) && ops[next].kind == opEqual {
				next++
			}
			if next < len(ops) && next-end <= 2*contextLines {
				end = next
				continue
			}
			end = min(end+contextLines, len(ops))
			break
		}
		hunk := ops[start:end]
		var aStart, aCount, bStart, bCount int
		aStart, bStart = -1, -1
		for _, o := range hunk {
			if o.kind != opIns {
				if aStart < 0 {
					aStart = o.a
				}
				aCount++
			}
			if o.kind != opDel {
				if bStart < 0 {
					bStart = o.b
				}
				bCount++
			}
		}
		fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aCount, hunk[0].a), hunkRange(bStart, bCount, hunk[0].b))
		for _, o := range hunk {
			var line string
			if o.kind == opIns {
				line = b[o.b]
			} else {
				line = a[o.a]
			}
			out.WriteByte(byte(o.kind))
			out.WriteString(line)
			if !strings.HasSuffix(line, "\n") {
				out.WriteByte('\n')
			}
		}
		k = end
	}
}

// hunkRange is "start,count" with 1-based lines; an empty side names the
// line before the hunk, as diff -u does.
func hunkRange(start, count, at int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", at)
	}
	if count == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
