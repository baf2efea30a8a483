// Package forensics answers what changed: between two backups, or between
// a backup and the running stack (dr diff). The comparison itself is pure
// (Compare on two Snapshots); the snapshots come from a manifest and the
// archive's stack files (FromBackup) or from the live stack (Live).
package forensics

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"path"
	"slices"
	"strings"
)

// FileState is one entry of a volume: a regular file, a directory, a
// symlink or a hard link, with what dr diff compares.
type FileState struct {
	Kind   string // file, dir, symlink, hardlink (archive.EntryKind values)
	SHA256 string // regular files only
	Link   string // symlink target, or the hard link's path in the volume
	Mode   int64  // permission bits (07777)
	UID    int
	GID    int
}

// Table is a table or view with its row count.
type Table struct {
	Rows int64
	View bool
}

// Snapshot is one side of a comparison. A nil map or slice means the side
// did not record that part (an older manifest), which is said in the
// report instead of showing everything as added or removed.
type Snapshot struct {
	// Label names the side: a backup's name, or "live".
	Label string
	// Volumes maps a configured volume name to its entries by path inside
	// the volume ("" is the volume's root directory).
	Volumes map[string]map[string]FileState
	// Tables by "database.table"; nil when the side has no database.
	Tables map[string]Table
	// Objects are triggers, routines and events as "kind database.name".
	Objects []string
	// Checksums are CHECKSUM TABLE … EXTENDED by "database.table"; nil:
	// not recorded (a backup's come from its drill report).
	Checksums map[string]uint64
	// Users are the database accounts as user@host; nil: not recorded.
	Users []string
	// Files are the stack files (compose files and others listed in
	// stack.files) by path relative to the stack dir, .env excluded.
	Files map[string][]byte
	// env holds a fingerprint of each .env value, by key: the values
	// themselves never enter a snapshot, so no report can print them.
	env map[string][32]byte
	// envErr says why the side's .env could not be read (it names the
	// line, never quotes it).
	envErr error
}

// SetEnvUnreadable records that the side has a .env that could not be
// parsed: the report says so instead of comparing keys.
func (s *Snapshot) SetEnvUnreadable(err error) { s.env, s.envErr = nil, err }

// SetEnv records the .env's keys, keeping only a fingerprint of each
// value (nil env: the side has no .env).
func (s *Snapshot) SetEnv(env map[string]string) {
	if env == nil {
		s.env = nil
		return
	}
	s.env = make(map[string][32]byte, len(env))
	for k, v := range env {
		s.env[k] = sha256.Sum256([]byte(v))
	}
}

// Report is what differs from A to B: "added" is in B and not in A.
type Report struct {
	A       string         `json:"a"`
	B       string         `json:"b"`
	Volumes []VolumeChange `json:"volumes,omitempty"`
	Tables  []TableChange  `json:"tables,omitempty"`
	Objects []ObjectChange `json:"objects,omitempty"`
	Users   *NameChange    `json:"users,omitempty"`
	Files   []FileChange   `json:"files,omitempty"`
	Env     *EnvChange     `json:"env,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	Counts  map[string]int `json:"counts"`
}

// Change says how an item differs.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// VolumeChange lists the entries of one volume that differ; Change says
// whether the whole volume is missing on one side.
type VolumeChange struct {
	Volume  string       `json:"volume"`
	Change  string       `json:"change"` // added, removed (the whole volume) or changed
	Added   []string     `json:"added,omitempty"`
	Removed []string     `json:"removed,omitempty"`
	Changed []EntryDelta `json:"changed,omitempty"`
}

// EntryDelta is an entry present on both sides that differs in What
// (content, kind, link, mode 0644 -> 0600, owner 0:0 -> 33:33).
type EntryDelta struct {
	Path string   `json:"path"`
	What []string `json:"what"`
}

// TableChange is a table or view added or removed, or a table whose row
// count changed.
type TableChange struct {
	Table  string `json:"table"`
	View   bool   `json:"view,omitempty"`
	Change string `json:"change"`
	RowsA  *int64 `json:"rows_a,omitempty"`
	RowsB  *int64 `json:"rows_b,omitempty"`
	// ChecksumA and ChecksumB are set when the row counts agree and
	// CHECKSUM TABLE does not (dr diff --live --checksum).
	ChecksumA *uint64 `json:"checksum_a,omitempty"`
	ChecksumB *uint64 `json:"checksum_b,omitempty"`
}

// ObjectChange is a trigger, procedure, function or event added or
// removed.
type ObjectChange struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"` // database.name
	Change string `json:"change"`
}

// NameChange lists names added and removed.
type NameChange struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// FileChange is a stack file added, removed or changed, with a unified
// diff of its lines.
type FileChange struct {
	Path    string `json:"path"`
	Change  string `json:"change"`
	Unified string `json:"unified,omitempty"`
	// Hidden: the file's lines are not shown, as it may hold secrets
	// (another env file listed in stack.files).
	Hidden bool `json:"hidden,omitempty"`
}

// secretLike says whether a stack file may hold secrets as .env does
// (foo.env, .env.local): its lines are never shown.
func secretLike(p string) bool {
	base := path.Base(p)
	return strings.HasSuffix(base, ".env") || strings.HasPrefix(base, ".env")
}

// EnvChange lists the .env keys that differ, never their values.
type EnvChange struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

// Empty says whether the two sides agree on everything both recorded.
func (r *Report) Empty() bool { return r.Total() == 0 }

// Total is the number of differences found.
func (r *Report) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// Compare reports what differs from a to b.
func Compare(a, b *Snapshot) *Report {
	r := &Report{A: a.Label, B: b.Label, Counts: map[string]int{}}
	r.compareVolumes(a, b)
	r.compareTables(a, b)
	r.compareObjects(a, b)
	r.compareUsers(a, b)
	r.compareFiles(a, b)
	r.compareEnv(a, b)
	return r
}

func (r *Report) compareVolumes(a, b *Snapshot) {
	for _, name := range unionKeys(a.Volumes, b.Volumes) {
		va, inA := a.Volumes[name]
		vb, inB := b.Volumes[name]
		c := VolumeChange{Volume: name, Change: Changed}
		switch {
		case !inA:
			c.Change = Added
		case !inB:
			c.Change = Removed
		}
		for _, p := range unionKeys(va, vb) {
			ea, okA := va[p]
			eb, okB := vb[p]
			switch {
			case !okA:
				c.Added = append(c.Added, displayPath(p, eb))
			case !okB:
				c.Removed = append(c.Removed, displayPath(p, ea))
			default:
				if what := entryDelta(ea, eb); len(what) > 0 {
					c.Changed = append(c.Changed, EntryDelta{Path: displayPath(p, eb), What: what})
				}
			}
		}
		n := len(c.Added) + len(c.Removed) + len(c.Changed)
		if c.Change != Changed {
			n = max(n, 1)
		}
		if n > 0 {
			r.Volumes = append(r.Volumes, c)
			r.Counts["volume entries"] += n
		}
	}
}

// displayPath shows a directory with a trailing slash, the root as "/".
func displayPath(p string, e FileState) string {
	if e.Kind == "dir" {
		return p + "/"
	}
	return p
}

func entryDelta(a, b FileState) []string {
	var what []string
	if a.Kind != b.Kind {
		return []string{fmt.Sprintf("kind %s -> %s", a.Kind, b.Kind)}
	}
	if a.SHA256 != b.SHA256 {
		what = append(what, "content")
	}
	if a.Link != b.Link {
		what = append(what, fmt.Sprintf("link %s -> %s", a.Link, b.Link))
	}
	if a.Mode&07777 != b.Mode&07777 {
		what = append(what, fmt.Sprintf("mode %04o -> %04o", a.Mode&07777, b.Mode&07777))
	}
	if a.UID != b.UID || a.GID != b.GID {
		what = append(what, fmt.Sprintf("owner %d:%d -> %d:%d", a.UID, a.GID, b.UID, b.GID))
	}
	return what
}

func (r *Report) compareTables(a, b *Snapshot) {
	if a.Tables == nil || b.Tables == nil {
		switch {
		case a.Tables == nil && b.Tables == nil:
		case a.Tables == nil:
			r.Notes = append(r.Notes, fmt.Sprintf("%s holds no database: tables not compared", a.Label))
		default:
			r.Notes = append(r.Notes, fmt.Sprintf("%s holds no database: tables not compared", b.Label))
		}
		return
	}
	for _, name := range unionKeys(a.Tables, b.Tables) {
		ta, inA := a.Tables[name]
		tb, inB := b.Tables[name]
		c := TableChange{Table: name}
		switch {
		case !inA:
			c.Change, c.View, c.RowsB = Added, tb.View, rowsOf(tb)
		case !inB:
			c.Change, c.View, c.RowsA = Removed, ta.View, rowsOf(ta)
		case ta.View != tb.View:
			c.Change = Changed
			c.View = tb.View
		case !ta.View && ta.Rows != tb.Rows:
			c.Change, c.RowsA, c.RowsB = Changed, &ta.Rows, &tb.Rows
		case !ta.View && checksumDiffers(a, b, name):
			sa, sb := a.Checksums[name], b.Checksums[name]
			c.Change, c.ChecksumA, c.ChecksumB = Changed, &sa, &sb
		default:
			continue
		}
		r.Tables = append(r.Tables, c)
		r.Counts["tables"]++
	}
}

// checksumDiffers says whether both sides checksummed the table and the
// sums differ: the same row count with other contents.
func checksumDiffers(a, b *Snapshot, name string) bool {
	sa, okA := a.Checksums[name]
	sb, okB := b.Checksums[name]
	return okA && okB && sa != sb
}

func rowsOf(t Table) *int64 {
	if t.View {
		return nil
	}
	return &t.Rows
}

func (r *Report) compareObjects(a, b *Snapshot) {
	if a.Tables == nil || b.Tables == nil {
		return
	}
	add, rm := setDiff(a.Objects, b.Objects)
	for _, o := range rm {
		kind, name, _ := strings.Cut(o, " ")
		r.Objects = append(r.Objects, ObjectChange{Kind: kind, Name: name, Change: Removed})
	}
	for _, o := range add {
		kind, name, _ := strings.Cut(o, " ")
		r.Objects = append(r.Objects, ObjectChange{Kind: kind, Name: name, Change: Added})
	}
	slices.SortFunc(r.Objects, func(x, y ObjectChange) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Change, y.Change))
	})
	r.Counts["objects"] = len(r.Objects)
}

func (r *Report) compareUsers(a, b *Snapshot) {
	if a.Tables == nil || b.Tables == nil {
		return
	}
	for _, s := range []*Snapshot{a, b} {
		if s.Users == nil {
			r.Notes = append(r.Notes, fmt.Sprintf("database users not recorded in %s (a backup made before dr recorded them, or the account dr uses may not read mysql.user): users not compared", s.Label))
			return
		}
	}
	add, rm := setDiff(a.Users, b.Users)
	if len(add)+len(rm) > 0 {
		r.Users = &NameChange{Added: add, Removed: rm}
		r.Counts["users"] = len(add) + len(rm)
	}
}

func (r *Report) compareFiles(a, b *Snapshot) {
	for _, p := range unionKeys(a.Files, b.Files) {
		fa, inA := a.Files[p]
		fb, inB := b.Files[p]
		c := FileChange{Path: p}
		switch {
		case !inA:
			c.Change = Added
		case !inB:
			c.Change = Removed
		case string(fa) == string(fb):
			continue
		default:
			c.Change = Changed
		}
		if secretLike(p) {
			c.Hidden = true
		} else {
			c.Unified = Unified(p, fa, fb, a.Label, b.Label)
		}
		r.Files = append(r.Files, c)
		r.Counts["files"]++
	}
}

func (r *Report) compareEnv(a, b *Snapshot) {
	for _, s := range []*Snapshot{a, b} {
		if s.envErr != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("the .env of %s could not be read (%v): .env not compared", s.Label, s.envErr))
			return
		}
	}
	switch {
	case a.env == nil && b.env == nil:
		return
	case a.env == nil || b.env == nil:
		missing := a.Label
		if b.env == nil {
			missing = b.Label
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s has no .env: .env not compared", missing))
		return
	}
	e := &EnvChange{}
	for _, k := range unionKeys(a.env, b.env) {
		va, inA := a.env[k]
		vb, inB := b.env[k]
		switch {
		case !inA:
			e.Added = append(e.Added, k)
		case !inB:
			e.Removed = append(e.Removed, k)
		case va != vb:
			e.Changed = append(e.Changed, k)
		}
	}
	if n := len(e.Added) + len(e.Removed) + len(e.Changed); n > 0 {
		r.Env = e
		r.Counts["env keys"] = n
	}
}

// unionKeys are the keys of both maps, sorted.
func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// setDiff returns what b has and a lacks, and what a has and b lacks,
// sorted.
func setDiff(a, b []string) (added, removed []string) {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, x := range a {
		inA[x] = true
	}
	for _, x := range b {
		inB[x] = true
	}
	for x := range inB {
		if !inA[x] {
			added = append(added, x)
		}
	}
	for x := range inA {
		if !inB[x] {
			removed = append(removed, x)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}
