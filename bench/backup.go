package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
)

type backupBenchOptions struct {
	volumeSize string
	size       string
	image      string
	dr         string
	only       string
	runs       int
	// profileDir, when set, gets a CPU profile of every dr run.
	profileDir string
	// zstdLevel is dr's archive.zstd_level; 0 leaves dr's default.
	zstdLevel int
	// before, when set, is an older dr binary measured in the same
	// rounds, as the baseline of a change.
	before string
	// engine is --engine; postgres says it is postgresql.
	engine   string
	postgres bool
}

func noArgs() []string { return nil }

// benchDumpOptions are dr's own dump flags, so every method dumps the same.
const benchDumpOptions = "--max-allowed-packet=1G --single-transaction --quick --routines --events --triggers --hex-blob --add-drop-database --default-character-set=utf8mb4 --databases appwrite"

const benchPassword = "bench-root-password"

type measurement struct {
	method string
	wall   time.Duration
	// cpu is the user+sys time of the process run on the host and its
	// children: dr itself for dr, the docker CLI (and bash, zstd, …) for
	// the others. mariadb-dump runs in the container and is in none.
	cpu time.Duration
	// sys is the kernel's part of cpu: for a dump, mostly receiving the
	// stream from the engine's socket, which the floor's client pays too.
	sys     time.Duration
	peakRSS int64 // bytes, -1 when not measured
	// peakAnon is the peak of the process's anonymous memory (heap,
	// stacks), without the binary's own file pages, which RSS counts.
	peakAnon int64
	peakTemp int64 // bytes
	kept     int64 // bytes of the resulting backup
	dumpSize int64 // bytes of dump, from dr's sidecar; 0 when unknown
	skipped  string
}

// backupMethod is one way of backing up the bench database. Paired methods
// run every round, in an order that rotates, so that a slow spell of the
// shared machine falls on each of them alike; the others run once.
type backupMethod struct {
	name   string
	tool   string
	paired bool
	run    func(scratch, dest string) (measurement, error)
}

func runBackupBench(ctx context.Context, opts backupBenchOptions) error {
	sizes := strings.Split(opts.size, ",")
	if opts.runs < 1 {
		return fmt.Errorf("--runs %d: want at least 1", opts.runs)
	}
	if opts.before != "" {
		abs, err := filepath.Abs(opts.before)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("--before: %w", err)
		}
		opts.before = abs
	}
	var db *benchDatabase
	var drBin, work, stackDir string
	for _, size := range sizes {
		size = strings.TrimSpace(size)
		sizeOpts := opts
		sizeOpts.size = size
		env, cleanup, err := prepare(ctx, sizeOpts)
		if err != nil {
			return err
		}
		err = benchBackupSize(ctx, opts, size, env)
		if err != nil {
			cleanup()
			return err
		}
		if size != strings.TrimSpace(sizes[len(sizes)-1]) {
			cleanup()
			continue
		}
		// The volume capture runs once, beside the last database.
		defer cleanup()
		drBin, work, db, stackDir = env.drBin, env.work, env.db, env.stackDir
	}
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

// benchBackupSize measures every method on one generated database.
func benchBackupSize(ctx context.Context, opts backupBenchOptions, size string, env *benchEnv) error {
	drBin, work, db, stackDir := env.drBin, env.work, env.db, env.stackDir
	identity, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}

	dumpCmd := db.dumpCmd()
	tool := db.dumpTool()
	shell := func(name, script string) func(string, string) (measurement, error) {
		return func(scratch, dest string) (measurement, error) {
			return measureCommand(ctx, name, scratch, dest, exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script))
		}
	}
	profiles := 0
	profileArgs := func(kind string) func() []string {
		return func() []string {
			if opts.profileDir == "" {
				return nil
			}
			profiles++
			return []string{"--cpuprofile", filepath.Join(opts.profileDir, fmt.Sprintf("backup-%s-%s-%d.pprof", size, kind, profiles))}
		}
	}
	methods := []backupMethod{
		{"floor: " + tool + " > /dev/null", "", true, func(scratch, dest string) (measurement, error) {
			return measureCommand(ctx, "floor", scratch, dest, exec.CommandContext(ctx, "bash", "-c", dumpCmd+" > /dev/null"))
		}},
		{"dr backup", "", true, func(scratch, dest string) (measurement, error) {
			return measureDr(ctx, drBin, scratch, dest, stackDir, db, nil, opts.zstdLevel, profileArgs("plain"))
		}},
		{"dr backup (age-encrypted)", "", true, func(scratch, dest string) (measurement, error) {
			return measureDr(ctx, drBin, scratch, dest, stackDir, db, []string{identity.Recipient().String()}, opts.zstdLevel, profileArgs("encrypted"))
		}},
		{"dr backup, before", "", true, func(scratch, dest string) (measurement, error) {
			return measureDr(ctx, opts.before, scratch, dest, stackDir, db, nil, opts.zstdLevel, noArgs)
		}},
		{"dr backup (age-encrypted), before", "", true, func(scratch, dest string) (measurement, error) {
			return measureDr(ctx, opts.before, scratch, dest, stackDir, db, []string{identity.Recipient().String()}, opts.zstdLevel, noArgs)
		}},
		{"classic script (dump file, zip, rclone copy)", "zip rclone", false, func(scratch, dest string) (measurement, error) {
			script := fmt.Sprintf(`set -e
cd %q
%s > dump.sql
zip -q backup.zip dump.sql %q %q
rclone copy --config /dev/null backup.zip %q
rm -f dump.sql backup.zip`, scratch, dumpCmd, filepath.Join(stackDir, "docker-compose.yml"), filepath.Join(stackDir, ".env"), dest)
			return shell("classic", script)(scratch, dest)
		}},
		{tool + " | zstd -T0 -3", "zstd", false, func(scratch, dest string) (measurement, error) {
			return shell("zstd", fmt.Sprintf("%s | zstd -q -T0 -3 -o %q", dumpCmd, filepath.Join(dest, "dump.sql.zst")))(scratch, dest)
		}},
		{tool + " | restic backup --stdin", "restic", false, func(scratch, dest string) (measurement, error) {
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
	}
	var paired, once []backupMethod
	for _, m := range methods {
		if strings.HasSuffix(m.name, ", before") && opts.before == "" {
			continue
		}
		if opts.only != "" && !strings.Contains(opts.only, strings.Fields(m.name)[0]) {
			continue
		}
		if m.paired {
			paired = append(paired, m)
		} else {
			once = append(once, m)
		}
	}
	runOne := func(m backupMethod) (measurement, error) {
		if missing := missingTools(m.tool); missing != "" {
			return measurement{method: m.name, skipped: missing + " not installed"}, nil
		}
		scratch := filepath.Join(work, "scratch")
		dest := filepath.Join(work, "dest")
		for _, d := range []string{scratch, dest} {
			_ = os.RemoveAll(d)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return measurement{}, err
			}
		}
		fmt.Fprintf(os.Stderr, "bench: %s: %s\n", size, m.name)
		res, err := m.run(scratch, dest)
		if err != nil {
			return measurement{}, fmt.Errorf("%s: %w", m.name, err)
		}
		res.method = m.name
		return res, nil
	}
	loadBefore := loadAverage()
	rounds := make([][]measurement, len(paired))
	for round := 0; round < opts.runs; round++ {
		for k := range paired {
			i := (k + round) % len(paired)
			res, err := runOne(paired[i])
			if err != nil {
				return err
			}
			rounds[i] = append(rounds[i], res)
		}
	}
	var singles []measurement
	for _, m := range once {
		res, err := runOne(m)
		if err != nil {
			return err
		}
		singles = append(singles, res)
	}
	if len(paired)+len(singles) > 0 {
		printBackupTable(os.Stdout, size, opts.runs, loadBefore, loadAverage(), rounds, singles)
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
	m.cpu = c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	m.sys = c.ProcessState.SystemTime()
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok && strings.HasPrefix(filepath.Base(c.Path), "dr") {
		m.peakRSS = ru.Maxrss * 1024
		m.peakAnon = anon.Load()
		m.dumpSize = sidecarDumpSize(dest)
	}
	return m, nil
}

func measureDr(ctx context.Context, drBin, scratch, dest, stackDir string, db *benchDatabase, recipients []string, zstdLevel int, extraArgs func() []string) (measurement, error) {
	cfgPath := filepath.Join(scratch, "..", "dr-bench.yaml")
	cfg := drConfig{project: db.project, stackDir: stackDir, dest: dest, stateDir: filepath.Join(scratch, "state"),
		recipients: recipients, zstdLevel: zstdLevel, service: db.service()}
	if err := cfg.write(cfgPath); err != nil {
		return measurement{}, err
	}
	c := exec.CommandContext(ctx, drBin, append([]string{"backup", "--config", cfgPath, "--log-level", "warn"}, extraArgs()...)...)
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

// sidecarDumpSize reads the dump's size from the sidecar manifest dr left
// in dest, for the CPU per GiB of dump.
func sidecarDumpSize(dest string) int64 {
	paths, _ := filepath.Glob(filepath.Join(dest, "*.manifest.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var m archive.Manifest
		if json.Unmarshal(data, &m) == nil && m.Database != nil {
			return m.Database.DumpSize
		}
	}
	return 0
}

// printBackupTable prints one size's results: for the paired methods the
// median over the rounds of wall and CPU, and the median of each round's
// own ratio to that round's floor; the others against the median floor.
func printBackupTable(w io.Writer, size string, runs int, loadBefore, loadAfter string, rounds [][]measurement, singles []measurement) {
	var floors []time.Duration
	for _, rs := range rounds {
		if len(rs) > 0 && strings.HasPrefix(rs[0].method, "floor") {
			for _, r := range rs {
				floors = append(floors, r.wall)
			}
		}
	}
	floor := median(floors)
	fmt.Fprintf(w, "\nBackup of a %s Appwrite-shaped database, %d cores, median of %d paired runs (floor and dr alternating; load average %s before, %s after):\n\n",
		size, numCPU(), runs, loadBefore, loadAfter)
	fmt.Fprintln(w, "| method | wall | × floor | CPU on the host (of it sys) | dr CPU per GiB of dump (of it sys) | peak RSS of dr (anon) | peak temp disk | kept |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(rs []measurement, ratio string) {
		r := rs[0]
		if r.skipped != "" {
			fmt.Fprintf(w, "| %s | skipped: %s | | | | | | |\n", cell(r.method), r.skipped)
			return
		}
		var walls, cpus, syss []time.Duration
		var perGiB, sysPerGiB []float64
		rss, anon, temp, kept := int64(-1), int64(0), int64(0), int64(0)
		for _, m := range rs {
			walls = append(walls, m.wall)
			cpus = append(cpus, m.cpu)
			syss = append(syss, m.sys)
			if m.dumpSize > 0 {
				perGiB = append(perGiB, m.cpu.Seconds()/(float64(m.dumpSize)/(1<<30)))
				sysPerGiB = append(sysPerGiB, m.sys.Seconds()/(float64(m.dumpSize)/(1<<30)))
			}
			rss, anon = max(rss, m.peakRSS), max(anon, m.peakAnon)
			temp, kept = max(temp, m.peakTemp), max(kept, m.kept)
		}
		perGiBText := "—"
		if len(perGiB) > 0 {
			perGiBText = fmt.Sprintf("%.1f s (%.1f s)", median(perGiB), median(sysPerGiB))
		}
		rssText := "—"
		if rss >= 0 {
			rssText = mib(rss) + " (" + mib(anon) + ")"
		}
		fmt.Fprintf(w, "| %s | %.1f s | %s | %.1f s (%.1f s) | %s | %s | %s | %s |\n", cell(r.method), median(walls).Seconds(), ratio,
			median(cpus).Seconds(), median(syss).Seconds(), perGiBText, rssText, mib(temp), mib(kept))
	}
	for _, rs := range rounds {
		if len(rs) == 0 {
			continue
		}
		var ratios []float64
		for i, m := range rs {
			if i < len(floors) && floors[i] > 0 {
				ratios = append(ratios, m.wall.Seconds()/floors[i].Seconds())
			}
		}
		ratio := "—"
		if len(ratios) > 0 {
			ratio = strconv.FormatFloat(median(ratios), 'f', 2, 64) + "×"
		}
		row(rs, ratio)
	}
	for _, m := range singles {
		ratio := "—"
		if floor > 0 && m.skipped == "" {
			ratio = strconv.FormatFloat(m.wall.Seconds()/floor.Seconds(), 'f', 2, 64) + "×"
		}
		row([]measurement{m}, ratio)
	}
}

// median is the middle value of xs (the mean of the two middle ones when
// there are as many on each side), 0 for none.
func median[T time.Duration | float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// cell escapes a markdown table cell ("dump | zstd" would split it).
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
