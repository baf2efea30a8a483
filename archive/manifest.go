package archive

import (
	"encoding/json"
	"fmt"
	"time"
)

// FormatVersion is the archive layout this build writes. Readers refuse a
// manifest with a higher version rather than misreading it, and read
// every lower one.
//
// Version 2 dropped the whole dump's sha256 (database.dump_sha256): every
// byte of the dump is covered by its chunk's sha256, which every reader
// checks, and no reader ever checked the other, which cost a second hash
// of every byte on each backup. The layout is otherwise version 1's.
//
// Version 3 stores the contents of volume files apart, as blobs shared by
// the backups of a stack (see BlobName): the archive keeps each such
// file's tar header with no content, its manifest entry names the blob
// (blob) and keeps the content's size and time (mtime), and the sidecar
// lists the blob objects the backup needs on its destination (blobs).
// Versions 1 and 2 hold every volume file's content in the archive, and
// are still read.
const FormatVersion = 3

// Entry names inside every archive.
const (
	ManifestEntry   = "manifest.json"
	DumpChunkPrefix = "db/dump.sql."
	// BrokenViewsEntry holds the definitions of the views the dump left
	// out (see Database.Omitted), for an operator to create them again
	// once what they use is back; no restore runs it.
	BrokenViewsEntry = "db/views-left-out.sql"
	ComposePrefix    = "compose/"
	VolumesPrefix    = "volumes/"
)

// Status says how far a backup got. Only a sidecar with StatusComplete makes a
// backup exist for list, restore, drills and retention.
type Status string

const (
	StatusComplete Status = "complete"
	// StatusWritten marks the manifest inside the archive: at the time it is
	// written the upload has not been verified yet.
	StatusWritten Status = "written"
)

// Manifest describes one backup. The same type is stored twice: as the last
// tar entry (manifest.json, Object unset) and as the sidecar object beside the
// archive (Object set, Status complete), which is the commit.
type Manifest struct {
	Format      int         `json:"format"`
	Tool        string      `json:"tool"`
	Stack       string      `json:"stack"`
	Host        string      `json:"host"`
	Name        string      `json:"name"`
	StartedAt   time.Time   `json:"started_at"`
	FinishedAt  time.Time   `json:"finished_at"`
	Status      Status      `json:"status"`
	Database    *Database   `json:"database,omitempty"`
	Entries     []Entry     `json:"entries"`
	Volumes     []Volume    `json:"volumes,omitempty"`
	Compression Compression `json:"compression"`
	Encryption  *Encryption `json:"encryption,omitempty"`
	Object      *ObjectInfo `json:"object,omitempty"`
	// Blobs, in a sidecar only, are the blob objects the backup needs on
	// the sidecar's destination, each once (see BlobObject).
	Blobs    []BlobObject `json:"blobs,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	// Appwrite is set when the stack has an appwrite service.
	Appwrite *Appwrite `json:"appwrite,omitempty"`
}

// Database records the dump: where it came from and what was seen in it.
type Database struct {
	Kind          string   `json:"kind"` // mariadb or mysql
	Service       string   `json:"service"`
	Container     string   `json:"container"`
	Image         string   `json:"image"`
	ImageDigest   string   `json:"image_digest,omitempty"`
	ServerVersion string   `json:"server_version"`
	ClientVersion string   `json:"client_version"`
	Client        string   `json:"client"` // mariadb-dump or mysqldump
	DumpOptions   []string `json:"dump_options"`
	Databases     []string `json:"databases"`
	IncludeGrants bool     `json:"include_grants,omitempty"`
	ChunkSize     int64    `json:"chunk_size"`
	Chunks        []Chunk  `json:"chunks"`
	DumpSize      int64    `json:"dump_size"`
	// DumpSHA256 is the whole dump's sha256, in format 1 manifests only
	// (see FormatVersion); nothing checks it.
	DumpSHA256 string  `json:"dump_sha256,omitempty"`
	Tables     []Table `json:"tables"`
	// Objects are the triggers, routines and events the dump creates; a
	// drill checks that each exists after the import. Absent in manifests
	// written before dr recorded them.
	Objects []Object `json:"objects,omitempty"`
	// Users are the server's accounts as user@host, for dr diff to show
	// accounts an attacker added. Nil in manifests written before dr
	// recorded them, or when the account dr uses cannot read mysql.user.
	Users []string `json:"users,omitempty"`
	// Omitted is what the backup could not hold, each with why: a
	// restore of it lacks them. Absent when it holds everything (and in
	// manifests written before dr recorded it).
	Omitted []Omission `json:"omitted,omitempty"`
}

// Omission kinds.
const (
	// OmittedView is a view the dump left out because it cannot be
	// opened; its definition is in BrokenViewsEntry.
	OmittedView = "view"
	// OmittedHistory is a system-versioned table whose history the dump
	// client could not dump: the backup holds its current rows only.
	OmittedHistory = "history"
)

// Omission is one thing a backup lacks.
type Omission struct {
	Kind     string `json:"kind"`
	Database string `json:"database"`
	Name     string `json:"name"`
	Reason   string `json:"reason"`
}

// String says what a restore lacks, for warnings, reports and
// notifications.
func (o Omission) String() string {
	switch o.Kind {
	case OmittedView:
		return fmt.Sprintf("view %s.%s is not in the backup: it cannot be opened (%s), so the dump left it out; its definition is in the archive's %s", o.Database, o.Name, o.Reason, BrokenViewsEntry)
	case OmittedHistory:
		return fmt.Sprintf("the history of system-versioned table %s.%s is not in the backup (%s): a restore brings back its current rows only", o.Database, o.Name, o.Reason)
	default:
		return fmt.Sprintf("%s %s.%s is not in the backup: %s", o.Kind, o.Database, o.Name, o.Reason)
	}
}

// Lacks is what a restore of the backup lacks, one sentence each.
func (d *Database) Lacks() []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, o := range d.Omitted {
		out = append(out, o.String())
	}
	return out
}

// Counts is the one place a backup's tables and rows are counted, for
// every command that shows them: views are not tables (they hold no rows
// and the restore recreates them from their definition).
func (d *Database) Counts() (tables int, rows int64) {
	if d == nil {
		return 0, 0
	}
	for _, t := range d.Tables {
		if !t.View {
			tables++
			rows += t.Rows
		}
	}
	return tables, rows
}

// WrongRows compares the row counts a server holds after an import,
// keyed database.table as tables name them, with the rows the dump
// carried: each table (views left out) that is missing from counts or
// holds another number of rows, one sentence each. It is the one verdict
// of a restore's and a drill's row checks, whatever the server.
func WrongRows(tables []Table, counts map[string]int64) []string {
	var wrong []string
	for _, t := range tables {
		if t.View {
			continue
		}
		key := t.Database + "." + t.Name
		got, ok := counts[key]
		switch {
		case !ok:
			wrong = append(wrong, key+" is missing")
		case got != t.Rows:
			wrong = append(wrong, fmt.Sprintf("%s has %d rows, the backup %d", key, got, t.Rows))
		}
	}
	return wrong
}

// Chunk is one fixed-size piece of the dump stream, stored as its own tar
// entry so that restore can verify it before feeding it to the server.
type Chunk struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Table is a table seen in the dump stream with the rows its INSERTs carry.
type Table struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Engine   string `json:"engine,omitempty"`
	Rows     int64  `json:"rows"`
	View     bool   `json:"view,omitempty"`
	// Versioned marks a system-versioned table: Rows counts its row
	// versions (FOR SYSTEM_TIME ALL), history included when the dump
	// held it. False in manifests written before dr recorded it.
	Versioned bool `json:"system_versioned,omitempty"`
}

// Object kinds: what CREATE statement of the dump made the object.
const (
	ObjectTrigger   = "trigger"
	ObjectProcedure = "procedure"
	ObjectFunction  = "function"
	ObjectEvent     = "event"
)

// Object is a trigger, stored procedure, stored function or event.
type Object struct {
	Database string `json:"database"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

// EntryKind is the type of a tar entry.
type EntryKind string

const (
	KindFile    EntryKind = "file"
	KindDir     EntryKind = "dir"
	KindSymlink EntryKind = "symlink"
)

// Entry is one tar entry other than the dump chunks and manifest.json.
type Entry struct {
	Name   string    `json:"name"`
	Kind   EntryKind `json:"kind"`
	Size   int64     `json:"size"`
	Mode   int64     `json:"mode"`
	SHA256 string    `json:"sha256,omitempty"`
	Link   string    `json:"link,omitempty"`
	UID    int       `json:"uid,omitempty"`
	GID    int       `json:"gid,omitempty"`
	// MTime is the entry's modification time (unix seconds), in format 3
	// volume entries: what a restore by hand sets on a file whose
	// content it wrote from a blob.
	MTime int64 `json:"mtime,omitempty"`
	// Blob names the blob that holds a volume file's content (format 3);
	// the archive's tar entry for the file is then empty.
	Blob string `json:"blob,omitempty"`
}

// Volume summarises one Docker volume captured under volumes/<name>/.
type Volume struct {
	Name   string            `json:"name"`   // configured name, e.g. appwrite-uploads
	Docker string            `json:"docker"` // engine name, e.g. appwrite_appwrite-uploads
	Labels map[string]string `json:"labels,omitempty"`
	Files  int64             `json:"files"`
	Dirs   int64             `json:"dirs"`
	Bytes  int64             `json:"bytes"`
	// ReadFiles and ReadBytes are what the backup read of the volume
	// (format 3): the files that changed since the last backup, or that a
	// destination lacked.
	ReadFiles int64 `json:"read_files,omitempty"`
	ReadBytes int64 `json:"read_bytes,omitempty"`
}

// Compression records how the tar stream was compressed.
type Compression struct {
	Algorithm string `json:"algorithm"` // zstd
	Level     int    `json:"level"`
}

// Encryption lists who can read the archive, by recipient fingerprint (never
// a private key).
type Encryption struct {
	Scheme     string   `json:"scheme"` // age
	Recipients []string `json:"recipients"`
}

// ObjectInfo is the archive object as verified on a destination.
type ObjectInfo struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ParseManifest decodes and sanity-checks a manifest from outside input
// (a sidecar or the archive's last entry).
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	if m.Format < 1 {
		return nil, fmt.Errorf("decoding manifest: missing format version")
	}
	if m.Format > FormatVersion {
		return nil, fmt.Errorf("decoding manifest: format %d is newer than this dr understands (%d); upgrade dr", m.Format, FormatVersion)
	}
	if m.Name == "" || m.Stack == "" {
		return nil, fmt.Errorf("decoding manifest: name and stack are required")
	}
	for _, e := range m.Entries {
		if e.Blob == "" {
			continue
		}
		if err := CheckBlobName(e.Blob); err != nil {
			return nil, fmt.Errorf("decoding manifest: entry %s: %w", e.Name, err)
		}
		if e.Kind != KindFile {
			return nil, fmt.Errorf("decoding manifest: entry %s: a %s cannot have a blob", e.Name, e.Kind)
		}
	}
	for _, b := range m.Blobs {
		if err := CheckBlobName(b.Name); err != nil {
			return nil, fmt.Errorf("decoding manifest: %w", err)
		}
	}
	return &m, nil
}

// Marshal encodes the manifest the way dr stores it (indented, stable order).
func (m *Manifest) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return append(data, '\n'), nil
}
