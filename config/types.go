package config

import (
	"slices"
	"time"
)

// Config is the whole dr.yaml.
type Config struct {
	Stack        Stack         `yaml:"stack"`
	Destinations []Destination `yaml:"destinations"`
	RcloneConfig string        `yaml:"rclone_config"`
	Encryption   Encryption    `yaml:"encryption"`
	Archive      Archive       `yaml:"archive"`
	Volumes      Volumes       `yaml:"volumes"`
	Schedule     Schedule      `yaml:"schedule"`
	Notify       []Notify      `yaml:"notify"`
	Heartbeats   []Heartbeat   `yaml:"heartbeats"`
	HTTP         HTTP          `yaml:"http"`
	StateDir     string        `yaml:"state_dir"`
	Restore      Restore       `yaml:"restore"`
	Drill        Drill         `yaml:"drill"`
	Scan         Scan          `yaml:"scan"`
}

// Drill tunes dr drill: the throwaway database container's limits, so a
// drill on the production host never starves the stack, and the
// operator's own checks.
type Drill struct {
	// CPUs the drill container may use (fractions allowed).
	CPUs float64 `yaml:"cpus"`
	// Memory the drill container may use.
	Memory Size `yaml:"memory"`
	// Queries are checks of the operator's: each SQL's first field of
	// its first row must equal Expect.
	Queries []DrillQuery `yaml:"queries"`
}

// DrillQuery is one operator-defined drill check.
type DrillQuery struct {
	Name   string `yaml:"name"`
	SQL    string `yaml:"sql"`
	Expect string `yaml:"expect"`
}

// Restore tunes dr restore.
type Restore struct {
	// KeepSafetyDumps is how many safety dumps (the database as it was
	// before each restore, in state_dir/safety) are kept; older ones are
	// deleted after a successful restore.
	KeepSafetyDumps int `yaml:"keep_safety_dumps"`
	// UploadTolerance is how far a backup's upload time may be from the
	// time in its name before a pick by --before refuses it as possibly
	// planted (storage.Suspicious).
	UploadTolerance Duration `yaml:"upload_tolerance"`
	// SafetyNet is how a database restore keeps the database it replaces:
	// "aside" moves its tables into a schema of their own (instant; the
	// safety dump only where that cannot work), "dump" always writes a
	// safety dump first.
	SafetyNet string `yaml:"safety_net"`
	// KeepAside is how many restores' aside schemas are kept on the
	// server; older ones are dropped after a successful restore.
	KeepAside int `yaml:"keep_aside"`
	// ImportConnections is how many connections import a dump's tables
	// at once (restore, drills and runbooks alike); 1 imports the dump as
	// one stream, as it was written.
	ImportConnections int `yaml:"import_connections"`
}

// MaxImportConnections bounds restore.import_connections: each connection
// holds a buffer of its own and a client in the database container.
const MaxImportConnections = 16

// Safety nets of a database restore (restore.safety_net).
const (
	SafetyNetAside = "aside"
	SafetyNetDump  = "dump"
)

// Stack is the Docker Compose stack being protected.
type Stack struct {
	Project  string   `yaml:"project"`
	Dir      string   `yaml:"dir"`
	Files    []string `yaml:"files"`
	Database Database `yaml:"database"`
	Volumes  []string `yaml:"volumes"`
	// ExcludeVolumes are volumes the stack mounts that are left out of
	// the backup on purpose; dr warns about any other mounted volume that
	// stack.volumes does not list.
	ExcludeVolumes   []string `yaml:"exclude_volumes"`
	StopDuringBackup []string `yaml:"stop_during_backup"`
	Writers          []string `yaml:"writers"`
}

// VolumesDefaulted reports whether Volumes is the built-in list of
// Appwrite's data volumes (in any order). A volume of that list that the
// stack lacks is one an older Appwrite release does not have, and is
// skipped; a volume of any other list that is missing fails the backup.
// It is decided by content, not by whether the key was written, so the
// effective config that dr config check prints behaves as the file did.
func (s Stack) VolumesDefaulted() bool {
	got, want := slices.Clone(s.Volumes), DefaultVolumes()
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// DefaultVolumes are the data volumes of current Appwrite releases (1.6
// to 1.8): appwrite-sites and appwrite-imports came with 1.7. The
// database's own volume (appwrite-mariadb) is dumped, not copied; caches
// are in DefaultExcludedVolumes.
func DefaultVolumes() []string {
	return []string{"appwrite-uploads", "appwrite-functions", "appwrite-builds",
		"appwrite-certificates", "appwrite-config", "appwrite-sites", "appwrite-imports"}
}

// DefaultExcludedVolumes are the volumes an Appwrite install mounts that
// hold nothing worth restoring: the cache and Redis rebuild themselves.
func DefaultExcludedVolumes() []string {
	return []string{"appwrite-cache", "appwrite-redis"}
}

// Database says which service holds the database and what to dump.
type Database struct {
	Service       string   `yaml:"service"`
	Kind          string   `yaml:"kind"`
	Databases     []string `yaml:"databases"`
	IncludeGrants bool     `yaml:"include_grants"`
}

// Destination is one rclone remote path that receives every backup.
type Destination struct {
	Name      string    `yaml:"name"`
	Remote    string    `yaml:"remote"`
	Retention Retention `yaml:"retention"`
	// Timeout bounds every call to the remote: opening it, listing,
	// reading a sidecar, deleting, and each read or write of a transfer
	// (an idle timeout, so a large upload that keeps moving is never cut).
	// A remote that stops answering fails this destination after it; the
	// others go on.
	Timeout Duration `yaml:"timeout"`
}

// DefaultTimeout is a destination's timeout when it sets none.
const DefaultTimeout = Duration(time.Minute)

// Retention is a destination's restic-style keep policy.
type Retention struct {
	KeepLast        int      `yaml:"keep_last"`
	KeepHourly      int      `yaml:"keep_hourly"`
	KeepDaily       int      `yaml:"keep_daily"`
	KeepWeekly      int      `yaml:"keep_weekly"`
	KeepMonthly     int      `yaml:"keep_monthly"`
	KeepYearly      int      `yaml:"keep_yearly"`
	KeepWithin      Span     `yaml:"keep_within"`
	IncompleteGrace Duration `yaml:"incomplete_grace"`
	Mode            string   `yaml:"mode"`
}

// Retention modes.
const (
	ModePrune      = "prune"
	ModeAppendOnly = "append-only"
)

// Empty reports a policy with no keep rule: it deletes nothing.
func (r Retention) Empty() bool {
	return r.KeepLast == 0 && r.KeepHourly == 0 && r.KeepDaily == 0 && r.KeepWeekly == 0 &&
		r.KeepMonthly == 0 && r.KeepYearly == 0 && r.KeepWithin.IsZero()
}

// Encryption lists the age recipients archives are encrypted to.
type Encryption struct {
	Recipients     []string `yaml:"recipients"`
	RecipientsFile string   `yaml:"recipients_file"`
}

// Enabled says whether backups are encrypted.
func (e Encryption) Enabled() bool { return len(e.Recipients) > 0 || e.RecipientsFile != "" }

// Volumes tunes the capture of volumes.
type Volumes struct {
	// FullEvery makes a backup read and store every volume file again
	// once the last full one is this old (0: never; dr backup --full
	// does it by hand).
	FullEvery Duration `yaml:"full_every"`
}

// Archive tunes the archive writer.
type Archive struct {
	ChunkSize   Size `yaml:"chunk_size"`
	ZstdLevel   int  `yaml:"zstd_level"`
	Concurrency int  `yaml:"concurrency"`
}

// Schedule is the daemon's cron schedule.
type Schedule struct {
	Backup string `yaml:"backup"`
	Drill  string `yaml:"drill"`
	// Verify is dr verify --latest on a schedule; empty (the default)
	// disables it: a drill checks the archive as well, and more.
	Verify   string `yaml:"verify"`
	Timezone string `yaml:"timezone"`
}

// Notify is one notification target.
type Notify struct {
	Name string   `yaml:"name"`
	URL  string   `yaml:"url"`
	On   []string `yaml:"on"`
}

// Heartbeat is a dead man's switch the daemon pings after each backup, so
// that a monitor also notices a daemon that stopped running.
type Heartbeat struct {
	Name string `yaml:"name"`
	// Kind is uptime-kuma (a push monitor's URL) or healthchecks (a
	// healthchecks.io-style ping URL).
	Kind string `yaml:"kind"`
	URL  string `yaml:"url"`
}

// Heartbeat kinds.
const (
	HeartbeatUptimeKuma   = "uptime-kuma"
	HeartbeatHealthchecks = "healthchecks"
)

// HTTP is the daemon's health, metrics and status endpoint.
type HTTP struct {
	Listen    string `yaml:"listen"`
	TokenFile string `yaml:"token_file"`
}

// DefaultRetention is what a destination keeps when its retention block
// leaves a key out.
func DefaultRetention() Retention {
	return Retention{
		KeepLast:        7,
		KeepDaily:       14,
		KeepWeekly:      8,
		KeepMonthly:     12,
		IncompleteGrace: Duration(24 * time.Hour),
		Mode:            ModePrune,
	}
}

// Default is the configuration of an Appwrite host installed the standard
// way, before any destination is added.
func Default() *Config {
	return &Config{
		Stack: Stack{
			Project:          "",
			Dir:              "/root/appwrite",
			Files:            []string{"docker-compose.yml", ".env"},
			Database:         Database{Service: "mariadb", Kind: "auto", Databases: []string{}},
			Volumes:          DefaultVolumes(),
			ExcludeVolumes:   DefaultExcludedVolumes(),
			StopDuringBackup: []string{},
			Writers:          []string{},
		},
		Encryption: Encryption{Recipients: []string{}},
		Archive:    Archive{ChunkSize: 64 << 20},
		Schedule:   Schedule{Backup: "0 8 * * *", Drill: "0 9 * * 0", Timezone: "UTC"},
		Notify:     []Notify{},
		Heartbeats: []Heartbeat{},
		HTTP:       HTTP{Listen: "127.0.0.1:9477"},
		StateDir:   "/var/lib/dr",
		Restore:    Restore{KeepSafetyDumps: 3, UploadTolerance: Duration(6 * time.Hour), SafetyNet: SafetyNetAside, KeepAside: 1, ImportConnections: 3},
		Drill:      Drill{CPUs: 1, Memory: 1 << 30, Queries: []DrillQuery{}},
		Scan:       Scan{Volumes: DefaultScanVolumes()},
	}
}

// Destination returns the configured destination with that name.
func (c *Config) Destination(name string) (Destination, bool) {
	for _, d := range c.Destinations {
		if d.Name == name {
			return d, true
		}
	}
	return Destination{}, false
}

// Location is the schedule's time zone (validated at load time).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Schedule.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
