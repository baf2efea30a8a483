package forensics

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/dotenv"
	"github.com/appwrite-dr/dr/mariadb"
)

// LiveLabel names the running stack's side of a report.
const LiveLabel = "live"

// Engine is the part of the Docker engine a live snapshot needs.
type Engine interface {
	mariadb.Execer
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
	FindComposeVolume(ctx context.Context, project, key string) (*engine.VolumeInfo, error)
	ReadVolume(ctx context.Context, name, image string) (io.ReadCloser, error)
}

// LiveOptions say what of the running stack to read.
type LiveOptions struct {
	Project   string
	DBService string
	// Dir is the stack dir holding the compose files and .env.
	Dir string
	// Files are stack files to read besides those the backup holds
	// (stack.files), relative to Dir.
	Files []string
	// Volumes are the configured volumes; the backup's are read too.
	// A configured volume the stack lacks is left out (an older
	// Appwrite without it), unless the backup holds it.
	Volumes []string
	// Databases to compare; empty: every database but the server's own.
	Databases []string
	// Checksums, when set, are the backup's CHECKSUM TABLE sums (from a
	// drill of it): the live tables among them are summed too and
	// compared. Nil: contents are compared by row count only.
	Checksums map[string]uint64
	// Kind is the database's kind (dbkind): stack.database.kind, or ""
	// or auto for the backup's (CompareLive), else the one the running
	// container's image tells.
	Kind string
}

// Live takes a snapshot of the running stack for comparison with base (a
// backup's snapshot, or nil): its database's tables with exact row
// counts, objects and users, its volumes hashed as they stream from the
// engine (nothing is copied to disk), and its stack files and .env.
// Nothing is written.
func Live(ctx context.Context, eng Engine, base *Snapshot, opts LiveOptions) (*Snapshot, error) {
	stack, err := eng.FindStack(ctx, opts.Project, opts.DBService)
	if err != nil {
		return nil, fmt.Errorf("finding the running stack: %w", err)
	}
	db, ok := stack.Service(opts.DBService)
	if !ok || !db.Running {
		return nil, fmt.Errorf("the database service %s of project %s is not running; start it (docker compose up -d %s) to compare with the live stack", opts.DBService, stack.Project, opts.DBService)
	}
	s := &Snapshot{Label: LiveLabel}
	srv := liveServer(eng, db, opts.Kind)
	if err := srv.read(ctx, s, opts.Databases); err != nil {
		return nil, err
	}
	if opts.Checksums != nil {
		if err := srv.checksums(ctx, s, opts.Checksums); err != nil {
			return nil, err
		}
	}
	if err := readVolumes(ctx, eng, stack.Project, db.ImageID, s, volumeNames(base, opts.Volumes)); err != nil {
		return nil, err
	}
	if err := readStackFiles(s, base, opts); err != nil {
		return nil, err
	}
	return s, nil
}

func readDatabase(ctx context.Context, srv *mariadb.Server, s *Snapshot, wanted []string) error {
	dbs := wanted
	if len(dbs) == 0 {
		rows, err := srv.Query(ctx, "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name")
		if err != nil {
			return fmt.Errorf("listing the live databases: %w", err)
		}
		for _, r := range rows {
			// Aside schemas are a restore's way back, not the stack.
			if mariadb.IsStackDatabase(r[0]) {
				dbs = append(dbs, r[0])
			}
		}
	}
	s.Tables = map[string]Table{}
	if len(dbs) == 0 {
		return nil
	}
	in := mariadb.SQLList(dbs)
	rows, err := srv.Query(ctx, "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ("+in+")")
	if err != nil {
		return fmt.Errorf("listing the live tables: %w", err)
	}
	var refs []mariadb.TableRef
	for _, r := range rows {
		if len(r) != 3 {
			continue
		}
		view := r[2] == "VIEW"
		s.Tables[r[0]+"."+r[1]] = Table{View: view}
		if !view {
			// Counted as a backup counts them: a system-versioned
			// table's row versions, its history included.
			refs = append(refs, mariadb.TableRef{Database: r[0], Name: r[1], AllVersions: r[2] == "SYSTEM VERSIONED"})
		}
	}
	counts, err := srv.RowCounts(ctx, refs)
	if err != nil {
		return fmt.Errorf("counting the live rows: %w", err)
	}
	for key, n := range counts {
		t := s.Tables[key]
		t.Rows = n
		s.Tables[key] = t
	}
	objects := []struct{ query, what string }{
		{"SELECT 'trigger', trigger_schema, trigger_name FROM information_schema.triggers WHERE trigger_schema IN (" + in + ")", "triggers"},
		{"SELECT LOWER(routine_type), routine_schema, routine_name FROM information_schema.routines WHERE routine_schema IN (" + in + ")", "routines"},
		{"SELECT 'event', event_schema, event_name FROM information_schema.events WHERE event_schema IN (" + in + ")", "events"},
	}
	for _, q := range objects {
		rows, err := srv.Query(ctx, q.query)
		if err != nil {
			return fmt.Errorf("listing the live %s: %w", q.what, err)
		}
		for _, r := range rows {
			if len(r) == 3 {
				s.Objects = append(s.Objects, r[0]+" "+r[1]+"."+r[2])
			}
		}
	}
	// An account that cannot read mysql.user leaves the users out, as a
	// backup does; the report says they were not compared.
	if users, err := srv.Users(ctx); err == nil {
		s.Users = users
	}
	return nil
}

// readChecksums sums the live tables the backup's sums cover (a table
// only live is reported as added anyway, and summing it would cost a read
// of every row for nothing).
func readChecksums(ctx context.Context, srv *mariadb.Server, s *Snapshot, backup map[string]uint64) error {
	var refs []mariadb.TableRef
	for key, t := range s.Tables {
		if _, ok := backup[key]; !ok || t.View {
			continue
		}
		db, name, _ := strings.Cut(key, ".")
		refs = append(refs, mariadb.TableRef{Database: db, Name: name})
	}
	slices.SortFunc(refs, func(x, y mariadb.TableRef) int {
		return strings.Compare(x.Database+"."+x.Name, y.Database+"."+y.Name)
	})
	sums, err := srv.Checksums(ctx, refs)
	if err != nil {
		return fmt.Errorf("checksumming the live tables: %w", err)
	}
	s.Checksums = sums
	return nil
}

// volumeNames are the volumes to read live: the backup's and the
// configured ones.
func volumeNames(base *Snapshot, configured []string) []string {
	names := slices.Clone(configured)
	if base != nil {
		for name := range base.Volumes {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func readVolumes(ctx context.Context, eng Engine, project, image string, s *Snapshot, names []string) error {
	s.Volumes = map[string]map[string]FileState{}
	for _, name := range names {
		info, err := eng.FindComposeVolume(ctx, project, name)
		if errors.Is(err, engine.ErrVolumeNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		entries, err := hashVolume(ctx, eng, info.Name, image)
		if err != nil {
			return fmt.Errorf("reading live volume %s: %w", name, err)
		}
		s.Volumes[name] = entries
	}
	return nil
}

// hashVolume streams a volume from the engine and keeps each entry's
// kind, mode, owner and, for regular files, sha256; the contents only pass
// through the hash.
func hashVolume(ctx context.Context, eng Engine, name, image string) (map[string]FileState, error) {
	rc, err := eng.ReadVolume(ctx, name, image)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return HashTar(ctx, rc, archive.VolumeRoot)
}

// HashTar reads a volume's tar stream whose entries sit under root (as
// engine.ReadVolume makes it) into entries by path inside the volume, as
// FromManifest names a backup's.
func HashTar(ctx context.Context, r io.Reader, root string) (map[string]FileState, error) {
	out := map[string]FileState{}
	err := archive.WalkVolume(ctx, r, root, func(f archive.VolumeFile) error {
		hdr := f.Header
		st := FileState{Mode: hdr.Mode & 07777, UID: hdr.Uid, GID: hdr.Gid}
		switch hdr.Typeflag {
		case tar.TypeDir:
			st.Kind = string(archive.KindDir)
		case tar.TypeSymlink:
			st.Kind, st.Link = string(archive.KindSymlink), hdr.Linkname
		case tar.TypeLink:
			st.Kind, st.Link = string(archive.KindHardlink), f.Link
		case tar.TypeReg:
			h := sha256.New()
			if _, err := io.Copy(h, f.Content); err != nil {
				return fmt.Errorf("reading %s: %w", f.Rel, err)
			}
			st.Kind, st.SHA256 = string(archive.KindFile), hex.EncodeToString(h.Sum(nil))
		default:
			// Devices and fifos: a backup leaves them out too.
			return nil
		}
		out[f.Rel] = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func readStackFiles(s *Snapshot, base *Snapshot, opts LiveOptions) error {
	names := slices.Clone(opts.Files)
	if base != nil {
		for p := range base.Files {
			names = append(names, p)
		}
	}
	names = slices.DeleteFunc(names, func(n string) bool { return filepath.Clean(n) == envFile })
	slices.Sort(names)
	names = slices.Compact(names)
	s.Files = map[string][]byte{}
	for _, rel := range names {
		if filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
			return fmt.Errorf("stack file %q is not inside the stack dir", rel)
		}
		data, err := readSmall(filepath.Join(opts.Dir, rel))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		s.Files[rel] = data
	}
	data, err := readSmall(filepath.Join(opts.Dir, envFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	env, err := dotenv.Parse(data)
	if err != nil {
		// An unreadable .env (an attacker's, say) is reported, and the
		// rest is still compared.
		s.SetEnvUnreadable(err)
		return nil
	}
	s.SetEnv(env)
	return nil
}

func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStackFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if len(data) > maxStackFile {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", p, maxStackFile)
	}
	return data, nil
}

// overrideFile is read live whether or not a backup holds it: compose
// picks it up by itself, which makes it a place to hide a change.
const overrideFile = "docker-compose.override.yml"

// StackOptions are the live options for a configured stack.
func StackOptions(stack config.Stack, project string) LiveOptions {
	if project == "" {
		project = stack.Project
	}
	files := slices.Clone(stack.Files)
	if !slices.Contains(files, overrideFile) {
		files = append(files, overrideFile)
	}
	return LiveOptions{
		Project: project, DBService: stack.Database.Service, Dir: stack.Dir,
		Files: files, Volumes: stack.Volumes, Databases: stack.Database.Databases,
		Kind: stack.Database.Kind,
	}
}

// CompareLive compares a backup (its sidecar m and the archive object on
// src, for the stack files) with the running stack.
func CompareLive(ctx context.Context, eng Engine, src Opener, object string, m *archive.Manifest, ids []age.Identity, opts LiveOptions) (*Report, error) {
	a, err := FromBackup(ctx, src, object, strings.HasSuffix(object, archive.EncryptedSuffix), m, ids)
	if err != nil {
		return nil, err
	}
	a.Checksums = opts.Checksums
	if (opts.Kind == "" || strings.EqualFold(opts.Kind, dbkind.Auto)) && m.Database != nil {
		opts.Kind = m.Database.Kind
	}
	b, err := Live(ctx, eng, a, opts)
	if err != nil {
		return nil, err
	}
	return Compare(a, b), nil
}
