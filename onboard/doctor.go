package onboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/robfig/cron/v3"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/dbkind"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/internal/dotenv"
	"github.com/appwrite-dr/dr/mariadb"
	"github.com/appwrite-dr/dr/postgres"
	"github.com/appwrite-dr/dr/remote"
	"github.com/appwrite-dr/dr/storage"
)

// Check statuses. Only a report whose every check is StatusOK or
// StatusWarn passes.
const (
	StatusOK   = "ok"
	StatusWarn = "warn" // works, but the operator should know (backups unencrypted)
	StatusFail = "fail"
	StatusSkip = "skip" // could not be checked because an earlier check failed
)

// Check is one line of dr doctor's report.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"` // one line, on failure
}

// Report is every check, in the order they ran.
type Report struct {
	Checks []Check `json:"checks"`
}

// Failed counts the checks that did not pass (skipped ones included: what
// was not checked is not known to work).
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == StatusFail || c.Status == StatusSkip {
			n++
		}
	}
	return n
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

// DoctorEngine is what the checks need from the Docker engine.
type DoctorEngine interface {
	FindStack(ctx context.Context, project, dbService string) (*engine.Stack, error)
	mariadb.Execer
	ListLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
	RemoveLabelled(ctx context.Context, label string) (containers, volumes []string, err error)
}

// Store is what the checks need from a destination.
type Store interface {
	Probe(ctx context.Context, appendOnly bool) (left string, err error)
	List(ctx context.Context) ([]storage.Backup, error)
}

// DoctorOptions are the inputs of Doctor. Connect and OpenStore default to
// the real engine and rclone; tests replace them.
type DoctorOptions struct {
	Config     *config.Config
	ConfigPath string
	// Identity is an age identity (or SSH key) file; when set, an
	// encrypted probe must decrypt with it.
	Identity string
	// RemoteTimeout bounds each call to a destination, so one that hangs
	// is one failed check, not a hung doctor.
	RemoteTimeout time.Duration
	Now           func() time.Time
	Connect       func(ctx context.Context) (DoctorEngine, func(), error)
	OpenStore     func(ctx context.Context, cfg *config.Config, d config.Destination) (Store, error)
}

// DefaultRemoteTimeout bounds each destination call of dr doctor.
const DefaultRemoteTimeout = 30 * time.Second

func connectEngine(ctx context.Context) (DoctorEngine, func(), error) {
	c, err := engine.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

func openStore(ctx context.Context, cfg *config.Config, d config.Destination) (Store, error) {
	return storage.Open(ctx, remote.Options{Name: d.Name, Remote: d.Remote, RcloneConfig: cfg.RcloneConfig, Timeout: time.Duration(d.Timeout)})
}

// Doctor runs every check and returns the report; it never stops at the
// first failure, so one run shows everything to fix.
func Doctor(ctx context.Context, opts DoctorOptions) *Report {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Connect == nil {
		opts.Connect = connectEngine
	}
	if opts.OpenStore == nil {
		opts.OpenStore = openStore
	}
	if opts.RemoteTimeout <= 0 {
		opts.RemoteTimeout = DefaultRemoteTimeout
	}
	cfg := opts.Config
	r := &Report{}
	checkStack(ctx, r, opts)
	newest := checkDestinations(ctx, r, opts)
	checkEncryption(r, cfg.Encryption, opts.Identity)
	checkSchedule(r, cfg, opts.Now())
	checkStateDir(r, cfg.StateDir)
	checkConfigFile(r, cfg, opts.ConfigPath)
	checkHTTP(r, cfg)
	checkClock(r, newest, opts.Now())
	checkScan(ctx, r, opts)
	return r
}

func checkStack(ctx context.Context, r *Report, opts DoctorOptions) {
	cfg := opts.Config
	svc := cfg.Stack.Database.Service
	eng, closeEng, err := opts.Connect(ctx)
	if err != nil {
		r.add(Check{Name: "engine", Status: StatusFail, Detail: err.Error(),
			Fix: "start Docker (systemctl start docker) or point DOCKER_HOST at its socket, e.g. unix:///var/run/docker.sock"})
		r.add(Check{Name: "stack", Status: StatusSkip, Detail: "not checked: no engine"})
		r.add(Check{Name: "database credentials", Status: StatusSkip, Detail: "not checked: no engine"})
		return
	}
	defer closeEng()
	r.add(Check{Name: "engine", Status: StatusOK, Detail: "the Docker engine answers"})
	checkLeftovers(ctx, r, eng, cfg.StateDir)

	stack, err := eng.FindStack(ctx, cfg.Stack.Project, svc)
	if err != nil {
		r.add(Check{Name: "stack", Status: StatusFail, Detail: err.Error(),
			Fix: "start the stack (docker compose up -d in " + cfg.Stack.Dir + ") or fix stack.project"})
		r.add(Check{Name: "database credentials", Status: StatusSkip, Detail: "not checked: no stack"})
		return
	}
	db, ok := stack.Service(svc)
	switch {
	case !ok:
		r.add(Check{Name: "stack", Status: StatusFail,
			Detail: fmt.Sprintf("project %s has no container for the database service %q (it has: %s)", stack.Project, svc, strings.Join(stack.Services(), ", ")),
			Fix:    "set stack.database.service to the service that runs the database (Appwrite: mariadb or postgresql)"})
	case !db.Running:
		r.add(Check{Name: "stack", Status: StatusFail,
			Detail: fmt.Sprintf("project %s: the database container %s is not running", stack.Project, db.Name),
			Fix:    fmt.Sprintf("start it: docker compose -p %s up -d %s", stack.Project, svc)})
	default:
		r.add(Check{Name: "stack", Status: StatusOK,
			Detail: fmt.Sprintf("project %s, %d containers; database %s (%s) running", stack.Project, len(stack.Containers), db.Name, db.Image)})
	}
	if !ok || !db.Running {
		r.add(Check{Name: "database credentials", Status: StatusSkip, Detail: "not checked: no running database container"})
		return
	}
	if dbkind.IsPostgres(stackKind(cfg, db.Image)) {
		checkPostgres(ctx, r, postgres.New(eng, db.ID), svc)
		return
	}
	// The same exec path and credential lookup as the dump, so a pass here
	// means the dump logs in too.
	rows, err := mariadb.New(eng, db.ID).Query(ctx, "SELECT 1")
	if err == nil && (len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != "1") {
		err = fmt.Errorf("SELECT 1 answered %v", rows)
	}
	if err != nil {
		r.add(Check{Name: "database credentials", Status: StatusFail, Detail: err.Error(),
			Fix: "dr logs in with the password in the container's MARIADB_ROOT_PASSWORD/MYSQL_ROOT_PASSWORD (Appwrite: _APP_DB_ROOT_PASS in .env): make it the server's, then docker compose up -d " + svc})
		return
	}
	r.add(Check{Name: "database credentials", Status: StatusOK, Detail: "SELECT 1 through the dump's exec path answers"})
}

// checkDestinations probes every destination and returns the newest
// complete backup time seen on any of them (zero when none).
func checkDestinations(ctx context.Context, r *Report, opts DoctorOptions) time.Time {
	var newest time.Time
	for _, d := range opts.Config.Destinations {
		name := "destination " + d.Name
		fix := fmt.Sprintf("check the remote by hand (rclone touch %s/x && rclone deletefile %s/x) and fix its credentials or permissions in the rclone config", d.Remote, d.Remote)
		st, err := withTimeout(ctx, opts.RemoteTimeout, func(ctx context.Context) (Store, error) { return opts.OpenStore(ctx, opts.Config, d) })
		if err != nil {
			r.add(Check{Name: name, Status: StatusFail, Detail: err.Error(), Fix: fix})
			continue
		}
		backups, err := withTimeout(ctx, opts.RemoteTimeout, st.List)
		if err != nil {
			r.add(Check{Name: name, Status: StatusFail, Detail: "listing: " + err.Error(), Fix: fix})
			continue
		}
		for _, b := range backups {
			if b.Time.After(newest) {
				newest = b.Time
			}
		}
		appendOnly := d.Retention.Mode == config.ModeAppendOnly
		left, err := withTimeout(ctx, opts.RemoteTimeout, func(ctx context.Context) (string, error) { return st.Probe(ctx, appendOnly) })
		switch {
		case err != nil:
			detail := err.Error()
			if left != "" {
				detail += "; the probe object " + left + " may be left there"
			}
			r.add(Check{Name: name, Status: StatusFail, Detail: detail, Fix: fix})
		case appendOnly:
			r.add(Check{Name: name, Status: StatusOK, Detail: fmt.Sprintf("%s: write works (%s); append-only, so read and delete were not tried and the probe %s stays: remove it from a host that prunes", d.Remote, backupsCount(len(backups)), left)})
		default:
			r.add(Check{Name: name, Status: StatusOK, Detail: fmt.Sprintf("%s: list, write, read and delete work (%s)", d.Remote, backupsCount(len(backups)))})
		}
	}
	return newest
}

// withTimeout runs one remote call under its own deadline.
func withTimeout[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s: %w", d, err)
	}
	return v, err
}

func checkEncryption(r *Report, enc config.Encryption, identity string) {
	const name = "encryption"
	if !enc.Enabled() {
		r.add(Check{Name: name, Status: StatusWarn, Detail: "backups are not encrypted: every archive holds the database and .env in the clear",
			Fix: "run dr keygen (keep the identity off this host) and put the recipient it prints in encryption.recipients"})
		return
	}
	fix := "put age public keys (age1…, from dr keygen or age-keygen -y KEY) or ssh-ed25519 public keys in encryption.recipients"
	keys := append([]string{}, enc.Recipients...)
	if enc.RecipientsFile != "" {
		more, err := archive.ReadRecipientsFile(enc.RecipientsFile)
		if err != nil {
			r.add(Check{Name: name, Status: StatusFail, Detail: err.Error(), Fix: fix})
			return
		}
		keys = append(keys, more...)
	}
	rcpts, err := archive.ParseRecipients(keys)
	if err != nil {
		r.add(Check{Name: name, Status: StatusFail, Detail: err.Error(), Fix: fix})
		return
	}
	probe := []byte("dr doctor encryption probe\n")
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, rcpts...)
	if err == nil {
		_, err = w.Write(probe)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		r.add(Check{Name: name, Status: StatusFail, Detail: "encrypting a probe: " + err.Error(), Fix: fix})
		return
	}
	if identity == "" {
		r.add(Check{Name: name, Status: StatusOK, Detail: fmt.Sprintf("%s, a probe encrypts to them; give -i IDENTITY to prove one of them decrypts", recipients(len(rcpts)))})
		return
	}
	ids, err := archive.LoadIdentities(identity)
	if err != nil {
		r.add(Check{Name: name, Status: StatusFail, Detail: err.Error(), Fix: "give -i the identity file dr keygen wrote"})
		return
	}
	rd, err := age.Decrypt(&sealed, ids...)
	var got []byte
	if err == nil {
		got, err = io.ReadAll(rd)
	}
	if err != nil || !bytes.Equal(got, probe) {
		r.add(Check{Name: name, Status: StatusFail, Detail: fmt.Sprintf("%s does not decrypt a probe encrypted to the recipients: %v", identity, err),
			Fix: "put this identity's public key (age-keygen -y " + identity + ") in encryption.recipients, or give the right identity"})
		return
	}
	r.add(Check{Name: name, Status: StatusOK, Detail: fmt.Sprintf("%s; an encrypted probe decrypts with %s", recipients(len(rcpts)), identity)})
}

func checkSchedule(r *Report, cfg *config.Config, now time.Time) {
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		r.add(Check{Name: "schedule", Status: StatusFail, Detail: err.Error(), Fix: "set schedule.timezone to an IANA name such as UTC or Europe/Berlin"})
		return
	}
	var parts []string
	for _, job := range []struct{ name, spec string }{{"backup", cfg.Schedule.Backup}, {"drill", cfg.Schedule.Drill}} {
		if job.spec == "" {
			parts = append(parts, job.name+" disabled")
			continue
		}
		sched, err := cron.ParseStandard(job.spec)
		if err != nil {
			r.add(Check{Name: "schedule", Status: StatusFail, Detail: fmt.Sprintf("schedule.%s %q: %v", job.name, job.spec, err),
				Fix: "use five cron fields, e.g. \"0 3 * * *\", or @daily"})
			return
		}
		next := now.In(loc)
		var runs []string
		for range 3 {
			next = sched.Next(next)
			runs = append(runs, next.Format("Mon 2006-01-02 15:04 MST"))
		}
		parts = append(parts, fmt.Sprintf("%s %q next %s", job.name, job.spec, strings.Join(runs, ", ")))
	}
	r.add(Check{Name: "schedule", Status: StatusOK, Detail: strings.Join(parts, "; ")})
}

// checkStateDir writes and removes a file in state_dir. A state dir that
// does not exist yet is fine when it can be made (dr makes it on first
// use); one made here is removed again.
func checkStateDir(r *Report, dir string) {
	fix := fmt.Sprintf("make %s writable by the user dr runs as (mkdir -p %s && chmod 700 %s), or set state_dir", dir, dir, dir)
	// made are the directories MkdirAll creates, deepest first, removed
	// again (each only if still empty) on the way out.
	var made []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) || d == filepath.Dir(d) {
			break
		}
		made = append(made, d)
	}
	defer func() {
		for _, d := range made {
			os.Remove(d)
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.add(Check{Name: "state dir", Status: StatusFail, Detail: err.Error(), Fix: fix})
		return
	}
	f, err := os.CreateTemp(dir, ".dr-doctor-*")
	if err == nil {
		f.Close()
		err = os.Remove(f.Name())
	}
	if err != nil {
		r.add(Check{Name: "state dir", Status: StatusFail, Detail: err.Error(), Fix: fix})
		return
	}
	r.add(Check{Name: "state dir", Status: StatusOK, Detail: dir + " is writable"})
}

func checkConfigFile(r *Report, cfg *config.Config, path string) {
	if path == "" {
		return
	}
	if w := cfg.FileModeWarning(path); w != "" {
		r.add(Check{Name: "config file", Status: StatusFail, Detail: w, Fix: "chmod 600 " + path})
		return
	}
	detail := path + " is readable by its owner only"
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		detail = fmt.Sprintf("%s (mode %04o) holds no secret", path, st.Mode().Perm())
	}
	r.add(Check{Name: "config file", Status: StatusOK, Detail: detail})
}

// checkHTTP fails on what dr daemon would refuse to start with: a status
// endpoint other hosts can read without a token.
func checkHTTP(r *Report, cfg *config.Config) {
	if p := cfg.ExposedWithoutTokenProblem(); p != "" {
		r.add(Check{Name: "http", Status: StatusFail, Detail: p,
			Fix: "set http.token_file to a file holding a token (openssl rand -hex 32), or http.listen to 127.0.0.1:9477"})
		return
	}
	detail := cfg.HTTP.Listen + " is reachable from this host only"
	if !config.IsLoopbackListen(cfg.HTTP.Listen) {
		detail = cfg.HTTP.Listen + " needs the token of http.token_file for all but /healthz"
	}
	r.add(Check{Name: "http", Status: StatusOK, Detail: detail})
}

// checkClock catches a clock behind the newest backup: new backups would
// sort before it, and restore --latest would pick the old one.
func checkClock(r *Report, newest, now time.Time) {
	if newest.IsZero() {
		r.add(Check{Name: "clock", Status: StatusOK, Detail: now.UTC().Format(time.RFC3339) + "; no backup yet to compare with"})
		return
	}
	if now.Before(newest) {
		r.add(Check{Name: "clock", Status: StatusFail,
			Detail: fmt.Sprintf("this host's clock says %s, before the newest backup (%s)", now.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339)),
			Fix:    "set the clock right (timedatectl set-ntp true) before backing up: a backup named before the newest would not be the latest"})
		return
	}
	r.add(Check{Name: "clock", Status: StatusOK, Detail: fmt.Sprintf("%s, after the newest backup (%s)", now.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339))})
}

func recipients(n int) string {
	if n == 1 {
		return "1 recipient"
	}
	return fmt.Sprintf("%d recipients", n)
}

func backupsCount(n int) string {
	if n == 1 {
		return "1 backup"
	}
	return fmt.Sprintf("%d backups", n)
}

// stackKind is the database's kind as a backup would decide it, from the
// config, the image and the stack's .env (the container's variables are
// not needed: an image that does not say leaves the .env to).
func stackKind(cfg *config.Config, image string) string {
	if k := strings.ToLower(cfg.Stack.Database.Kind); k != "" && k != dbkind.Auto {
		return k
	}
	adapter := ""
	if data, err := os.ReadFile(filepath.Join(cfg.Stack.Dir, ".env")); err == nil {
		if env, err := dotenv.Parse(data); err == nil {
			adapter = env["_APP_DB_ADAPTER"]
		}
	}
	return dbkind.Detect(image, nil, adapter)
}

// checkPostgres checks that dr logs in to the stack's PostgreSQL, and
// warns when the server runs without the writes that keep its cluster
// whole through a crash.
func checkPostgres(ctx context.Context, r *Report, srv *postgres.Server, svc string) {
	if err := srv.Ping(ctx); err != nil {
		r.add(Check{Name: "database credentials", Status: StatusFail, Detail: err.Error(),
			Fix: "dr logs in as the container's POSTGRES_USER with its POSTGRES_PASSWORD (Appwrite: _APP_DB_USER and _APP_DB_PASS in .env), over the container's own socket: make them the server's, then docker compose up -d " + svc})
		return
	}
	r.add(Check{Name: "database credentials", Status: StatusOK, Detail: "SELECT 1 through the dump's exec path answers"})
	rows, err := srv.Query(ctx, "postgres", "SELECT current_setting('fsync'), current_setting('full_page_writes')")
	if err != nil || len(rows) != 1 || len(rows[0]) != 2 {
		r.add(Check{Name: "database durability", Status: StatusWarn, Detail: fmt.Sprintf("could not read fsync and full_page_writes: %v", err)})
		return
	}
	r.add(durabilityCheck(rows[0][0], rows[0][1], svc))
}

// durabilityCheck judges PostgreSQL's fsync and full_page_writes (on or
// off). Appwrite's compose file turns both off for speed; synchronous_commit
// off, which it sets too, only loses the last moments of writes in a crash
// and is left alone.
func durabilityCheck(fsync, fullPageWrites, svc string) Check {
	var off []string
	if fsync == "off" {
		off = append(off, "fsync=off")
	}
	if fullPageWrites == "off" {
		off = append(off, "full_page_writes=off")
	}
	if len(off) == 0 {
		return Check{Name: "database durability", Status: StatusOK, Detail: "fsync and full_page_writes are on"}
	}
	return Check{Name: "database durability", Status: StatusWarn,
		Detail: "PostgreSQL runs with " + strings.Join(off, " and ") + ": a power cut, a host crash or a killed container can corrupt the whole database cluster, not only lose the last writes (Appwrite's compose file sets this for speed); a restore from the last backup is then the only way back",
		Fix:    "remove -c " + strings.Join(off, " and -c ") + " from the " + svc + " service's command in docker-compose.yml, then docker compose up -d " + svc + "; until then keep backups frequent and drills scheduled"}
}
