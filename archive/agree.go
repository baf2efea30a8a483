package archive

import (
	"fmt"
	"maps"
	"reflect"
)

// Agree checks that the manifest inside an archive (inner) and its
// sidecar say the same about everything a restore acts on: the backup's
// name and stack, every entry, the dump chunks, the database with its
// tables and row counts, and the volumes. Restore plans
// from the sidecar, which sits beside the archive on a remote anyone with
// write access can replace, while the object's hash only covers the
// archive; without this check an edited sidecar could point a verified
// archive at other volumes or databases. Status and Object differ by
// design (the commit adds them); the rest (host, times, warnings, the
// recipients, which age itself checks) is shown, never acted on. The
// error names the first field that differs.
func Agree(inner, sidecar *Manifest) error {
	if what := Differs(inner, sidecar); what != "" {
		return fmt.Errorf("the sidecar and the archive's %s disagree on the %s: the sidecar was altered or belongs to another archive; refusing the backup", ManifestEntry, what)
	}
	return nil
}

// Differs names the first thing a restore acts on that two manifests of
// a backup say differently, or returns "" when they agree on all of it.
func Differs(a, b *Manifest) string {
	for _, f := range []struct {
		what string
		a, b any
	}{
		{"backup name", a.Name, b.Name},
		{"stack", a.Stack, b.Stack},
		{"entries", normEntries(a.Entries), normEntries(b.Entries)},
		{"dump chunks", chunksOf(a), chunksOf(b)},
		{"tables and row counts", tablesOf(a), tablesOf(b)},
		{"database", normDatabase(a.Database), normDatabase(b.Database)},
		{"volumes", normVolumes(a.Volumes), normVolumes(b.Volumes)},
	} {
		if !reflect.DeepEqual(f.a, f.b) {
			return f.what
		}
	}
	return ""
}

func normEntries(e []Entry) []Entry {
	if len(e) == 0 {
		return nil
	}
	return e
}

func chunksOf(m *Manifest) []Chunk {
	if m.Database == nil || len(m.Database.Chunks) == 0 {
		return nil
	}
	return m.Database.Chunks
}

func tablesOf(m *Manifest) []Table {
	if m.Database == nil || len(m.Database.Tables) == 0 {
		return nil
	}
	return m.Database.Tables
}

// normDatabase makes an empty list and a missing one equal, as JSON
// round trips may turn one into the other.
func normDatabase(d *Database) *Database {
	if d == nil {
		return nil
	}
	c := *d
	for _, s := range []*[]string{&c.DumpOptions, &c.Databases, &c.Users} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	if len(c.Chunks) == 0 {
		c.Chunks = nil
	}
	if len(c.Tables) == 0 {
		c.Tables = nil
	}
	if len(c.Objects) == 0 {
		c.Objects = nil
	}
	if len(c.Omitted) == 0 {
		c.Omitted = nil
	}
	return &c
}

func normVolumes(vs []Volume) []Volume {
	if len(vs) == 0 {
		return nil
	}
	out := make([]Volume, len(vs))
	for i, v := range vs {
		out[i] = v
		if len(v.Labels) == 0 {
			out[i].Labels = nil
		} else {
			out[i].Labels = maps.Clone(v.Labels)
		}
	}
	return out
}
