package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/config"
)

type backupBenchOptions struct {
	volumeSize string
	size       string
	image      string
	dr         string
	only       string
}

// benchDumpOptions are dr's own dump flags, so every method dumps the same.
const benchDumpOptions = "--max-allowed-packet=1G --single-transaction --quick --routines --events --triggers --hex-blob --add-drop-database --default-character-set=utf8mb4 --databases appwrite"

const benchPassword = "bench-root-password"

type measurement struct {
	method  string
	wall    time.Duration
	peakRSS int64 // bytes, -1 when not measured
	// peakAnon is the peak of the process's anonymous memory (heap,
	// stacks), without the binary's own file pages, which RSS counts.
	peakAnon int64
	peakTemp int64 // bytes
	kept     int64 // bytes of the resulting backup
	skipped  string
}

func runBackupBench(ctx context.Context, opts backupBenchOptions) error {
	env, cleanup, err := prepare(ctx, opts)
	if err != nil {
		return err
	}
	defer cleanup()
	drBin, work, db, stackDir := env.drBin, env.work, env.db, env.stackDir
	identity, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}

	dumpCmd := fmt.Sprintf("docker exec -e MYSQL_PWD=%s %s mariadb-dump -uroot %s", benchPassword, db.name, benchDumpOptions)
	type method struct {
		name string
		tool string
		run  func(scratch, dest string) (measurement, error)
	}
	shell := func(name, script string) func(string, string) (measurement, error) {
		return func(scratch, dest string) (measurement, error) {
			return measureCommand(ctx, name, scratch, dest, exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script))
		}
	}
	methods := []method{
		{"floor: mariadb-dump > /dev/null", "", func(scratch, dest string) (measurement, error) {
			return measureCommand(ctx, "floor", scratch, dest, exec.CommandContext(ctx, "bash", "-c", dumpCmd+" > /dev/null"))
		}},
		{"classic script (dump file, zip, rclone copy)", "zip rclone", func(scratch, dest string) (measurement, error) {
			script := fmt.Sprintf(`set -e
cd %q
%s > dump.sql
zip -q backup.zip dump.sql %q %q
rclone copy --config /dev/null backup.zip %q
rm -f dump.sql backup.zip`, scratch, dumpCmd, filepath.Join(stackDir, "docker-compose.yml"), filepath.Join(stackDir, ".env"), dest)
			return shell("classic", script)(scratch, dest)
		}},
		{"mariadb-dump | zstd -T0 -3", "zstd", func(scratch, dest string) (measurement, error) {
			return shell("zstd", fmt.Sprintf("%s | zstd -q -T0 -3 -o %q", dumpCmd, filepath.Join(dest, "dump.sql.zst")))(scratch, dest)
		}},
		{"mariadb-dump | restic backup --stdin", "restic", func(scratch, dest string) (measurement, error) {
			repo := filepath.Join(dest, "restic")
			init := exec.CommandContext(ctx, "restic", "init", "-q", "-r", repo)
			init.Env = append(os.Environ(), "RESTIC_PASSWORD=bench")
			if out, err := init.CombinedOutput(); err != nil {
				return measurement{}, fmt.Errorf("restic init: %v: %s", err, out)
			}
			c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", fmt.Sprintf("%s | restic backup -q -r %q --stdin --stdin-filename dump.sql", dumpCmd, repo))
			c.Env = append(os.Environ(), "RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR="+filepath.Join(scratch, "cache"))
			return measureCommand(ctx, "restic", scratch, dest, c)
		}},
		{"dr backup", "", func(scratch, dest string) (measurement, error) {
			return measureDr(ctx, drBin, scratch, dest, stackDir, db, nil)
		}},
		{"dr backup (age-encrypted)", "", func(scratch, dest string) (measurement, error) {
			return measureDr(ctx, drBin, scratch, dest, stackDir, db, []string{identity.Recipient().String()})
		}},
	}

	var results []measurement
	for _, m := range methods {
		if opts.only != "" && !strings.Contains(opts.only, strings.Fields(m.name)[0]) {
			continue
		}
		if missing := missingTools(m.tool); missing != "" {
			results = append(results, measurement{method: m.name, skipped: missing + " not installed"})
			continue
		}
		scratch := filepath.Join(work, "scratch")
		dest := filepath.Join(work, "dest")
		for _, d := range []string{scratch, dest} {
			_ = os.RemoveAll(d)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "bench: %s\n", m.name)
		res, err := m.run(scratch, dest)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		res.method = m.name
		results = append(results, res)
	}
	printBackupTable(os.Stdout, opts.size, results)
	if opts.only == "" || strings.Contains(opts.only, "volume") {
		var vsize config.Size
		if err := vsize.UnmarshalText([]byte(opts.volumeSize)); err != nil {
			return fmt.Errorf("--volume-size: %w", err)
		}
		fmt.Fprintf(os.Stderr, "bench: volume capture, dr vs docker cp\n")
		vr, err := runVolumeBench(ctx, db, opts.image, int64(vsize), drBin, stackDir, work)
		if err != nil {
			return fmt.Errorf("volume capture: %w", err)
		}
		printVolumeTable(os.Stdout, vr)
	}
	return nil
}

func missingTools(tools string) string {
	var missing []string
	for _, t := range strings.Fields(tools) {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return strings.Join(missing, ", ")
}

// measureCommand runs c, sampling the scratch directory's size for the
// peak temporary disk, and reports what is left in dest.
func measureCommand(ctx context.Context, name, scratch, dest string, c *exec.Cmd) (measurement, error) {
	c.Dir = scratch
	var stderr strings.Builder
	c.Stderr = &stderr
	var peak, anon atomic.Int64
	stop := sampleDiskUsage(scratch, &peak)
	start := time.Now()
	err := c.Start()
	if err == nil {
		stopAnon := sampleAnon(c.Process.Pid, &anon)
		err = c.Wait()
		stopAnon()
	}
	wall := time.Since(start)
	stop()
	if err != nil {
		return measurement{}, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 5))
	}
	m := measurement{method: name, wall: wall, peakRSS: -1, peakTemp: peak.Load(), kept: dirSize(dest)}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok && strings.HasPrefix(filepath.Base(c.Path), "dr") {
		m.peakRSS = ru.Maxrss * 1024
		m.peakAnon = anon.Load()
	}
	return m, nil
}

func measureDr(ctx context.Context, drBin, scratch, dest, stackDir string, db *benchDatabase, recipients []string) (measurement, error) {
	cfgPath := filepath.Join(scratch, "..", "dr-bench.yaml")
	var rec strings.Builder
	for _, r := range recipients {
		fmt.Fprintf(&rec, "\n    - %s", r)
	}
	recipientsYAML := "[]"
	if rec.Len() > 0 {
		recipientsYAML = rec.String()
	}
	cfg := fmt.Sprintf(`stack:
  project: %s
  dir: %s
  files: [docker-compose.yml, .env]
  database: {service: mariadb, databases: [appwrite]}
  volumes: []
destinations:
  - name: local
    remote: %s
encryption:
  recipients: %s
state_dir: %s
`, db.project, stackDir, dest, recipientsYAML, filepath.Join(scratch, "state"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return measurement{}, err
	}
	c := exec.CommandContext(ctx, drBin, "backup", "--config", cfgPath, "--log-level", "warn")
	c.Env = append(os.Environ(), "TMPDIR="+scratch)
	return measureCommand(ctx, "dr", scratch, dest, c)
}

// sampleAnon records the peak RssAnon of a process every 20 ms.
func sampleAnon(pid int, peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				for _, line := range strings.Split(string(data), "\n") {
					var kib int64
					if _, err := fmt.Sscanf(line, "RssAnon: %d kB", &kib); err == nil && kib*1024 > peak.Load() {
						peak.Store(kib * 1024)
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// sampleDiskUsage records the peak size of dir every 100 ms until stopped.
func sampleDiskUsage(dir string, peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if n := dirSize(dir); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func dirSize(dir string) int64 {
	var total int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func printBackupTable(w io.Writer, size string, results []measurement) {
	var floor time.Duration
	for _, r := range results {
		if strings.HasPrefix(r.method, "floor") {
			floor = r.wall
		}
	}
	fmt.Fprintf(w, "\nBackup of a %s Appwrite-shaped database, %d cores, one run each:\n\n", size, numCPU())
	fmt.Fprintln(w, "| method | wall | × floor | peak RSS of dr (anon) | peak temp disk | kept |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(w, "| %s | skipped: %s | | | | |\n", cell(r.method), r.skipped)
			continue
		}
		ratio := "—"
		if floor > 0 {
			ratio = strconv.FormatFloat(r.wall.Seconds()/floor.Seconds(), 'f', 2, 64) + "×"
		}
		rss := "—"
		if r.peakRSS >= 0 {
			rss = mib(r.peakRSS) + " (" + mib(r.peakAnon) + ")"
		}
		fmt.Fprintf(w, "| %s | %.1f s | %s | %s | %s | %s |\n", cell(r.method), r.wall.Seconds(), ratio, rss, mib(r.peakTemp), mib(r.kept))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// cell escapes a markdown table cell ("dump | zstd" would split it).
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
