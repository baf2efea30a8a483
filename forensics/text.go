package forensics

import (
	"fmt"
	"io"
	"strings"
)

// maxTextEntries caps the entries shown per volume and kind of change in
// the text report: a volume added whole would bury everything else. The
// JSON report lists all.
const maxTextEntries = 100

// WriteText prints the report for an operator: one line per difference,
// marked + (only in B), - (only in A) or ~ (changed), stack file changes
// as unified diffs, .env keys by name only.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "dr diff %s -> %s\n", r.A, r.B)
	for _, v := range r.Volumes {
		switch v.Change {
		case Added:
			fmt.Fprintf(&b, "+ volume %s (only in %s, %d entries)\n", v.Volume, r.B, len(v.Added))
			continue
		case Removed:
			fmt.Fprintf(&b, "- volume %s (missing in %s, %d entries)\n", v.Volume, r.B, len(v.Removed))
			continue
		}
		fmt.Fprintf(&b, "~ volume %s: %d added, %d removed, %d changed\n", v.Volume, len(v.Added), len(v.Removed), len(v.Changed))
		writeCapped(&b, v.Added, func(p string) string { return "    + " + p })
		writeCapped(&b, v.Removed, func(p string) string { return "    - " + p })
		changed := make([]string, len(v.Changed))
		for i, c := range v.Changed {
			changed[i] = c.Path + ": " + strings.Join(c.What, ", ")
		}
		writeCapped(&b, changed, func(p string) string { return "    ~ " + p })
	}
	for _, t := range r.Tables {
		kind := "table"
		if t.View {
			kind = "view"
		}
		switch t.Change {
		case Added:
			fmt.Fprintf(&b, "+ %s %s%s\n", kind, t.Table, rows(t.RowsB))
		case Removed:
			fmt.Fprintf(&b, "- %s %s%s\n", kind, t.Table, rows(t.RowsA))
		default:
			switch {
			case t.ChecksumA != nil && t.ChecksumB != nil:
				fmt.Fprintf(&b, "~ table %s: checksum %d -> %d (same row count)\n", t.Table, *t.ChecksumA, *t.ChecksumB)
			case t.RowsA != nil && t.RowsB != nil:
				fmt.Fprintf(&b, "~ table %s: rows %d -> %d (%+d)\n", t.Table, *t.RowsA, *t.RowsB, *t.RowsB-*t.RowsA)
			default:
				fmt.Fprintf(&b, "~ %s %s: table <-> view\n", kind, t.Table)
			}
		}
	}
	for _, o := range r.Objects {
		fmt.Fprintf(&b, "%s %s %s\n", mark(o.Change), o.Kind, o.Name)
	}
	if r.Users != nil {
		for _, u := range r.Users.Added {
			fmt.Fprintf(&b, "+ user %s\n", u)
		}
		for _, u := range r.Users.Removed {
			fmt.Fprintf(&b, "- user %s\n", u)
		}
	}
	for _, f := range r.Files {
		if f.Hidden {
			fmt.Fprintf(&b, "%s file %s (lines not shown: it may hold secrets)\n", mark(f.Change), f.Path)
			continue
		}
		fmt.Fprintf(&b, "%s file %s\n", mark(f.Change), f.Path)
		for _, line := range strings.SplitAfter(strings.TrimSuffix(f.Unified, "\n"), "\n") {
			b.WriteString("    " + strings.TrimSuffix(line, "\n") + "\n")
		}
	}
	if r.Env != nil {
		for _, k := range r.Env.Added {
			fmt.Fprintf(&b, "+ .env %s\n", k)
		}
		for _, k := range r.Env.Removed {
			fmt.Fprintf(&b, "- .env %s\n", k)
		}
		for _, k := range r.Env.Changed {
			fmt.Fprintf(&b, "~ .env %s (value changed; values are never shown)\n", k)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	switch n := r.Total(); n {
	case 0:
		b.WriteString("no differences\n")
	case 1:
		b.WriteString("1 difference\n")
	default:
		fmt.Fprintf(&b, "%d differences\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCapped(b *strings.Builder, items []string, line func(string) string) {
	for i, it := range items {
		if i == maxTextEntries {
			fmt.Fprintf(b, "      … and %d more (dr diff --json lists them all)\n", len(items)-i)
			return
		}
		b.WriteString(line(it) + "\n")
	}
}

func rows(n *int64) string {
	if n == nil {
		return ""
	}
	return fmt.Sprintf(" (%d rows)", *n)
}

func mark(change string) string {
	switch change {
	case Added:
		return "+"
	case Removed:
		return "-"
	}
	return "~"
}
