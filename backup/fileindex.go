package backup

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/appwrite-dr/dr/internal/privatefile"
)

// The state an incremental volume backup compares against lives in
// state_dir, not on the destinations: the host cannot decrypt its
// earlier backups, and a plain index there would tell whoever reads the
// remote when each file last changed. Losing it (a new host after
// "server lost") costs one backup that reads and stores every file
// again; nothing a restore needs is in it.

// indexedFile is what a backup learned of a volume file: its stamp (size,
// times and inode, as restic's parent snapshot compares them) and the
// sha256 of the content read then. A file whose stamp is unchanged is not
// read again: any write to it changes its ctime.
type indexedFile struct {
	Size   int64  `json:"s"`
	MTime  int64  `json:"m"`
	CTime  int64  `json:"c"`
	Inode  uint64 `json:"i"`
	SHA256 string `json:"h"`
	// Xattrs are the file's extended attributes as PAX records
	// (SCHILY.xattr.*), carried to the next backup with the content.
	Xattrs map[string]string `json:"x,omitempty"`
}

// fileIndex is the last capture's files, by volume, then path.
type fileIndex struct {
	Version int                               `json:"version"`
	Volumes map[string]map[string]indexedFile `json:"volumes"`
}

// fileIndexVersion 2 keeps xattrs as PAX records; an index of version 1
// is read as none (every file is read once again).
const fileIndexVersion = 2

// blobKey keys the blob names of a stack (see archive.BlobName). A full
// backup makes a new one, so it stores every content again under new
// names instead of trusting the blobs stored before.
type blobKey struct {
	Key     []byte    `json:"key"`
	Created time.Time `json:"created"`
}

func volumeStateDir(stateDir string) string { return filepath.Join(stateDir, "volumes") }

func indexPath(stateDir, stack string) string {
	return filepath.Join(volumeStateDir(stateDir), stack+".index.json")
}

func keyPath(stateDir, stack string) string {
	return filepath.Join(volumeStateDir(stateDir), stack+".key.json")
}

// loadIndex reads a stack's index; a missing or unreadable one is an
// empty index (the backup then reads every file), with why.
func loadIndex(stateDir, stack string) (*fileIndex, string) {
	empty := &fileIndex{Version: fileIndexVersion, Volumes: map[string]map[string]indexedFile{}}
	data, err := os.ReadFile(indexPath(stateDir, stack))
	if errors.Is(err, fs.ErrNotExist) {
		return empty, "no earlier capture is recorded in the state dir"
	}
	if err != nil {
		return empty, fmt.Sprintf("the index of the last capture cannot be read (%v)", err)
	}
	var ix fileIndex
	if err := json.Unmarshal(data, &ix); err != nil || ix.Version != fileIndexVersion || ix.Volumes == nil {
		return empty, "the index of the last capture is damaged or of another version"
	}
	return &ix, ""
}

// saveIndex replaces a stack's index atomically, readable by its owner
// only (paths and sizes of the volumes' files).
func saveIndex(stateDir, stack string, ix *fileIndex) error {
	data, err := json.Marshal(ix)
	if err != nil {
		return fmt.Errorf("encoding the volume index: %w", err)
	}
	return privatefile.Write(indexPath(stateDir, stack), data, true)
}

// loadKey reads a stack's blob key, making a new one when there is none,
// when fresh is set (a full backup), or when the key is older than
// fullEvery (0: never). It says whether the key is new.
func loadKey(stateDir, stack string, fresh bool, fullEvery time.Duration, now time.Time) (*blobKey, bool, error) {
	if !fresh {
		data, err := os.ReadFile(keyPath(stateDir, stack))
		if err == nil {
			var k blobKey
			if json.Unmarshal(data, &k) == nil && len(k.Key) == 32 && (fullEvery <= 0 || now.Sub(k.Created) < fullEvery) {
				return &k, false, nil
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, false, fmt.Errorf("reading the blob key: %w", err)
		}
	}
	k := &blobKey{Key: make([]byte, 32), Created: now.UTC()}
	if _, err := rand.Read(k.Key); err != nil {
		return nil, false, fmt.Errorf("making a blob key: %w", err)
	}
	data, err := json.Marshal(k)
	if err != nil {
		return nil, false, err
	}
	if err := privatefile.Write(keyPath(stateDir, stack), data, true); err != nil {
		return nil, false, err
	}
	return k, true, nil
}
