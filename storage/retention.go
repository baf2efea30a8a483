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
	Within Within
	// Location is the time zone of the hourly … yearly buckets.
	Location *time.Location
}

// Empty says whether the policy has no rule; an empty policy deletes
// nothing.
func (p Policy) Empty() bool {
	return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0 && p.Within.IsZero()
}

// Within is a keep_within span in restic's calendar units: months and
// years are calendar ones, so "1 month" before March 31 is March 3 (Go's
// and restic's AddDate), and days are the configured zone's days.
type Within struct {
	Years, Months, Days, Hours int
}

// IsZero says whether the rule is off.
func (w Within) IsZero() bool { return w == Within{} }

// Since is the oldest time the rule keeps, counted back from the newest
// backup in the buckets' zone.
func (w Within) Since(newest time.Time, loc *time.Location) time.Time {
	return newest.In(loc).AddDate(-w.Years, -w.Months, -w.Days).Add(-time.Duration(w.Hours) * time.Hour)
}

// String spells the span out ("1 month 14 days"): in a dry run, "1m"
// could be read as a minute.
func (w Within) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		unit string
	}{{w.Years, "year"}, {w.Months, "month"}, {w.Days, "day"}, {w.Hours, "hour"}} {
		switch {
		case p.n == 1:
			parts = append(parts, "1 "+p.unit)
		case p.n != 0:
			parts = append(parts, fmt.Sprintf("%d %ss", p.n, p.unit))
		}
	}
	if len(parts) == 0 {
		return "0 hours"
	}
	return strings.Join(parts, " ")
}

// Candidate is a complete backup the policy judges.
type Candidate struct {
	Name string
	Time time.Time
	// Pinned backups (dr pin) are always kept.
	Pinned bool
	// DrillPassed: the backup's last restore drill passed, by a report
	// bound to its archive (DrillSummary.ProvesPass). The newest such
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
		since := p.Within.Since(sorted[real[0]].Time, loc)
		for n, i := range real {
			b := sorted[i]
			if n < p.Last {
				keep(i, fmt.Sprintf("last %d", p.Last))
			}
			if !p.Within.IsZero() && !b.Time.Before(since) {
				keep(i, "within "+p.Within.String()+" of the newest")
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
			oldest, keptOldest := real[len(real)-1], false
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
				keptOldest = keptOldest || i == oldest
			}
			// restic (0.17 on) also keeps the oldest backup while a bucket
			// rule has room left: "keep_yearly: 10" over two years of
			// history then reaches back to the first backup instead of
			// stopping at the newest one of the first year. It only ever
			// keeps more.
			if len(seen) < rule.n && !keptOldest {
				keep(oldest, fmt.Sprintf("oldest, while the %s rule has room (%d of %d used)", rule.name, len(seen), rule.n))
			}
		}
	}
	for i, b := range sorted {
		out[i] = Decision{Name: b.Name, Time: b.Time, Keep: len(reasons[i]) > 0, Reasons: reasons[i]}
	}
	return out
}
