package storage

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Policy is a destination's restic-style retention policy. A backup is
// kept when any rule keeps it.
type Policy struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
	// Within keeps every backup taken less than this long before the
	// newest one (not before now: a host that stopped backing up keeps
	// what it has).
	Within time.Duration
	// Location is the time zone of the hourly … yearly buckets.
	Location *time.Location
}

// Empty says whether the policy has no rule; an empty policy deletes
// nothing.
func (p Policy) Empty() bool {
	return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0 && p.Within == 0
}

// Candidate is a complete backup the policy judges.
type Candidate struct {
	Name string
	Time time.Time
	// Pinned backups (dr pin) are always kept.
	Pinned bool
	// DrillPassed: the backup's last restore drill passed. The newest such
	// backup is always kept.
	DrillPassed bool
}

// Decision is the policy's verdict on one backup, with every rule that
// keeps it.
type Decision struct {
	Name    string
	Time    time.Time
	Keep    bool
	Reasons []string
}

// futureSlack is how far ahead of now a backup may be dated (clock skew
// between hosts) and still count as a real backup.
const futureSlack = 5 * time.Minute

// Apply decides, for each backup, keep or remove, newest first. Its
// invariants: the newest backup is never removed, nor a pinned one, nor
// the newest whose drill passed; an empty policy removes nothing; a backup
// dated in the future (past now plus a few minutes of skew) is kept and
// takes no place in any rule, so it never pushes real ones out.
func Apply(p Policy, backups []Candidate, now time.Time) []Decision {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	sorted := append([]Candidate(nil), backups...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].Time.Equal(sorted[j].Time) {
			return sorted[i].Time.After(sorted[j].Time)
		}
		return sorted[i].Name > sorted[j].Name
	})
	out := make([]Decision, len(sorted))
	reasons := make([][]string, len(sorted))
	keep := func(i int, why string) { reasons[i] = append(reasons[i], why) }

	var real []int // indexes of backups not dated in the future, newest first
	for i, b := range sorted {
		if b.Time.After(now.Add(futureSlack)) {
			keep(i, "dated in the future (a wrong clock?): kept, counted by no rule")
			continue
		}
		real = append(real, i)
	}
	if p.Empty() {
		for _, i := range real {
			keep(i, "the policy is empty: nothing is deleted")
		}
	}
	if len(real) > 0 {
		keep(real[0], "newest")
		newest := sorted[real[0]].Time
		for n, i := range real {
			b := sorted[i]
			if n < p.Last {
				keep(i, fmt.Sprintf("last %d", p.Last))
			}
			if p.Within > 0 && !b.Time.Before(newest.Add(-p.Within)) {
				keep(i, "within "+formatWithin(p.Within)+" of the newest")
			}
			if b.Pinned {
				keep(i, "pinned")
			}
		}
		for _, i := range real {
			if sorted[i].DrillPassed {
				keep(i, "newest whose drill passed")
				break
			}
		}
		for _, rule := range []struct {
			name string
			n    int
			key  func(time.Time) string
		}{
			// The zone name tells apart the hour that repeats when DST ends.
			{"hourly", p.Hourly, func(t time.Time) string { return t.Format("2006-01-02 15h MST") }},
			{"daily", p.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
			{"weekly", p.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%04d-W%02d", y, w) }},
			{"monthly", p.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
			{"yearly", p.Yearly, func(t time.Time) string { return t.Format("2006") }},
		} {
			if rule.n <= 0 {
				continue
			}
			seen := map[string]bool{}
			for _, i := range real {
				k := rule.key(sorted[i].Time.In(loc))
				if seen[k] {
					continue
				}
				if len(seen) == rule.n {
					break
				}
				seen[k] = true
				keep(i, fmt.Sprintf("%s %s (%d of %d)", rule.name, k, len(seen), rule.n))
			}
		}
	}
	for i, b := range sorted {
		out[i] = Decision{Name: b.Name, Time: b.Time, Keep: len(reasons[i]) > 0, Reasons: reasons[i]}
	}
	return out
}

// formatWithin prints a duration as an operator wrote it: 30d, 36h, 90m.
func formatWithin(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return strings.TrimSuffix(d.String(), "0s")
}
