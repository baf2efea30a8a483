package forensics

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/internal/dotenv"
)

// envFile is the .env's name among the stack files.
const envFile = ".env"

// maxStackFile bounds one stack file read into memory (compose files are
// kilobytes).
const maxStackFile = 16 << 20

// FromManifest is the part of a backup's snapshot its manifest records:
// volumes, tables, objects and users. The stack files are in the archive
// (see ReadStackFiles).
func FromManifest(m *archive.Manifest) *Snapshot {
	s := &Snapshot{Label: m.Name, Volumes: map[string]map[string]FileState{}}
	for _, v := range m.Volumes {
		s.Volumes[v.Name] = map[string]FileState{}
	}
	for _, e := range m.Entries {
		rest, ok := strings.CutPrefix(e.Name, archive.VolumesPrefix)
		if !ok {
			continue
		}
		vol, p, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		entries, ok := s.Volumes[vol]
		if !ok {
			continue
		}
		st := FileState{Kind: string(e.Kind), SHA256: e.SHA256, Mode: e.Mode & 07777, UID: e.UID, GID: e.GID, Link: e.Link}
		if e.Kind == archive.KindHardlink {
			st.Link = strings.TrimPrefix(e.Link, archive.VolumePrefix(vol))
		}
		entries[strings.TrimSuffix(p, "/")] = st
	}
	if db := m.Database; db != nil {
		s.Tables = map[string]Table{}
		for _, t := range db.Tables {
			s.Tables[t.Database+"."+t.Name] = Table{Rows: t.Rows, View: t.View}
		}
		for _, o := range db.Objects {
			s.Objects = append(s.Objects, o.Kind+" "+o.Database+"."+o.Name)
		}
		if db.Users != nil {
			s.Users = append([]string{}, db.Users...)
		}
	}
	return s
}

// StackFiles are a backup's stack files read from its archive.
type StackFiles struct {
	// Files by path relative to the stack dir, .env excluded.
	Files map[string][]byte
	// Env is the parsed .env; nil when the backup holds none.
	Env map[string]string
	// EnvErr says why the backup's .env could not be parsed.
	EnvErr error
}

// ReadStackFiles reads the stack files (compose/…) of an archive stream,
// decrypting with ids when encrypted, each checked against m, the
// backup's manifest. The stack files are the archive's first entries, so
// it stops reading at the first entry past them: the dump and volumes are
// never downloaded for a diff.
func ReadStackFiles(ctx context.Context, r io.Reader, m *archive.Manifest, encrypted bool, ids []age.Identity) (*StackFiles, error) {
	plain, closeDec, err := archive.Decompress(r, encrypted, ids)
	if err != nil {
		return nil, err
	}
	defer closeDec()
	out := &StackFiles{Files: map[string][]byte{}}
	ar := archive.NewReader(ctx, plain, m, archive.ReaderOptions{Identities: ids})
	defer ar.Close()
	for {
		item, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w", err)
		}
		rel, ok := strings.CutPrefix(item.Name, archive.ComposePrefix)
		if !ok {
			return out, nil
		}
		if item.Header.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(ar, maxStackFile+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s from the archive: %w", item.Name, err)
		}
		if len(data) > maxStackFile {
			return nil, fmt.Errorf("reading %s from the archive: larger than %d bytes", item.Name, maxStackFile)
		}
		if rel == envFile {
			// A .env dr cannot read is said in the report: it must not
			// stop the rest of the comparison.
			out.Env, out.EnvErr = dotenv.Parse(data)
			continue
		}
		out.Files[rel] = data
	}
}

// Opener opens an archive object on a destination.
type Opener interface {
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}

// FromBackup is a backup's whole snapshot: its manifest plus the stack
// files read from the archive object on src.
func FromBackup(ctx context.Context, src Opener, object string, encrypted bool, m *archive.Manifest, ids []age.Identity) (*Snapshot, error) {
	s := FromManifest(m)
	rc, err := src.Open(ctx, object)
	if err != nil {
		return nil, fmt.Errorf("opening backup %s: %w", m.Name, err)
	}
	defer rc.Close()
	files, err := ReadStackFiles(ctx, rc, m, encrypted, ids)
	if err != nil {
		return nil, fmt.Errorf("reading the stack files of backup %s: %w", m.Name, err)
	}
	s.Files = files.Files
	if files.EnvErr != nil {
		s.SetEnvUnreadable(files.EnvErr)
	} else {
		s.SetEnv(files.Env)
	}
	return s, nil
}
