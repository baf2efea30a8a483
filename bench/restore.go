package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// restoreBenchOptions are the restore benchmark's flags.
type restoreBenchOptions struct {
	backupBenchOptions
	sizes []string
	runs  int
	rto   bool
	many  manyTablesOptions
}

// restoreRun is one timed run of one method.
type restoreRun struct {
	wall, cpu time.Duration
	rss       int64
	net       string // dr's safety net: moved aside, or the safety dump
}

// runRestoreBench measures, for each size on its own generated database,
// the whole dr restore --latest --only db against the plain import of the
// same dump (zstd -dc dump | docker exec -i … mariadb), alternating, runs
// times each, and prints the medians as a markdown table; with --rto, the
// server-lost runbook end to end after the database container and its
// data are gone.
func runRestoreBench(ctx context.Context, opts restoreBenchOptions) error {
	load0 := loadAverage()
	type result struct {
		size      string
		dump      int64
		plain, dr []restoreRun
		phases    []phase
	}
	var results []result
	for _, size := range opts.sizes {
		o := opts.backupBenchOptions
		o.size = size
		plain, dr, phases, dump, err := benchRestoreSize(ctx, o, opts.runs, opts.rto)
		if err != nil {
			return err
		}
		results = append(results, result{size: size, dump: dump, plain: plain, dr: dr, phases: phases})
	}
	load1 := loadAverage()

	w := os.Stdout
	fmt.Fprintf(w, "\nRestore of an Appwrite-shaped database, the whole `dr restore --latest --only db` against the plain import of the same dump, alternating, median of %d runs each, %d cores, load average %s at the start and %s at the end:\n\n", opts.runs, numCPU(), load0, load1)
	client := "mariadb"
	if opts.postgres {
		client = "psql"
	}
	fmt.Fprintf(w, "| size | dump (zstd) | plain import: zstd -dc dump \\| docker exec -i … %s | dr restore --only db | × plain | dr CPU | dr peak RSS | dr's safety net |\n", client)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		p, d := medianBy(r.plain, func(x restoreRun) time.Duration { return x.wall }), medianBy(r.dr, func(x restoreRun) time.Duration { return x.wall })
		cpu := medianBy(r.dr, func(x restoreRun) time.Duration { return x.cpu })
		var rss int64
		for _, x := range r.dr {
			rss = max(rss, x.rss)
		}
		fmt.Fprintf(w, "| %s | %s | %.1f s | %.1f s | %.2f× | %.1f s | %s | %s |\n", r.size, mib(r.dump), p.Seconds(), d.Seconds(), d.Seconds()/p.Seconds(), cpu.Seconds(), mib(rss), r.dr[len(r.dr)-1].net)
	}
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "- %s, each run (plain / dr):", r.size)
		for i := range r.plain {
			fmt.Fprintf(w, " %.1f / %.1f s;", r.plain[i].wall.Seconds(), r.dr[i].wall.Seconds())
		}
		fmt.Fprintf(w, " phases of the last dr run:")
		for _, ph := range r.phases {
			fmt.Fprintf(w, " %s at %.1f s;", ph.msg, ph.at.Seconds())
		}
		fmt.Fprintln(w)
	}
	return nil
}

// benchRestoreSize runs one size on a database of its own.
func benchRestoreSize(ctx context.Context, opts backupBenchOptions, runs int, rto bool) (plainRuns, drRuns []restoreRun, phases []phase, dumpSize int64, err error) {
	env, cleanup, err := prepare(ctx, opts)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	defer cleanup()
	drBin, work, db, stackDir := env.drBin, env.work, env.db, env.stackDir
	if err := writeBenchCompose(stackDir, opts.image, db.postgres); err != nil {
		return nil, nil, nil, 0, err
	}
	defer func() {
		// The server-lost runbook brought the database back as a compose
		// project in the stack directory: remove it, data included.
		down := exec.Command("docker-compose", "-p", db.project, "down", "-v")
		down.Dir = stackDir
		_ = down.Run()
	}()
	cfgPath := filepath.Join(work, "dr.yaml")
	cfg := drConfig{project: db.project, stackDir: stackDir, dest: filepath.Join(work, "dest"), stateDir: filepath.Join(work, "state"), service: db.service()}
	if err := cfg.write(cfgPath); err != nil {
		return nil, nil, nil, 0, err
	}

	fmt.Fprintf(os.Stderr, "bench %s: dr backup, and the dump to a zstd file for the plain import\n", opts.size)
	if _, _, err := runDr(ctx, drBin, cfgPath, "backup"); err != nil {
		return nil, nil, nil, 0, err
	}
	dumpFile := filepath.Join(work, "dump.sql.zst")
	if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", db.dumpCmd()+" | zstd -q -T0 -3 -o "+dumpFile).CombinedOutput(); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("dumping for the plain import: %v: %s", err, out)
	}
	dumpSize = dirSize(dumpFile)

	importCmd := db.importCmd(dumpFile)
	for i := range runs {
		fmt.Fprintf(os.Stderr, "bench %s: run %d/%d: plain import: zstd -dc dump | docker exec -i\n", opts.size, i+1, runs)
		start := time.Now()
		if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", importCmd).CombinedOutput(); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("plain import: %v: %s", err, out)
		}
		plainRuns = append(plainRuns, restoreRun{wall: time.Since(start)})

		fmt.Fprintf(os.Stderr, "bench %s: run %d/%d: dr restore --latest --only db\n", opts.size, i+1, runs)
		start = time.Now()
		logText, usage, err := runDrUsage(ctx, drBin, cfgPath, "restore", "--latest", "--only", "db", "--yes")
		if err != nil {
			return nil, nil, nil, 0, err
		}
		r := restoreRun{wall: time.Since(start), cpu: usage.cpu, rss: usage.rss, net: "safety dump"}
		lines := strings.Split(logText, "\n")
		phases = logPhases(lines, start, []string{"backup verified", "current tables moved aside", "current databases moved aside", "safety dump written", "database imported"})
		for _, ph := range phases {
			if strings.HasSuffix(ph.msg, " moved aside") {
				r.net = "moved aside"
			}
		}
		drRuns = append(drRuns, r)
	}

	if rto {
		fmt.Fprintf(os.Stderr, "bench %s: server lost: the database container and its data removed, then dr runbook run server-lost\n", opts.size)
		if out, err := exec.CommandContext(ctx, "docker", "rm", "-f", "-v", db.name).CombinedOutput(); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("removing the database container: %v: %s", err, out)
		}
		start := time.Now()
		out, _, err := runDr(ctx, drBin, cfgPath, "runbook", "run", "server-lost", "--yes")
		if err != nil {
			return nil, nil, nil, 0, err
		}
		fmt.Printf("\n%s: server lost, `dr runbook run server-lost` end to end (RTO): **%.1f s**\n", opts.size, time.Since(start).Seconds())
		steps := regexp.MustCompile(`^\[(\d+)/(\d+)\] done in (.*)$`)
		titles := regexp.MustCompile(`^\[(\d+)/(\d+)\] ([^F].*)$`)
		var names []string
		for _, line := range strings.Split(out, "\n") {
			if m := titles.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[3], "done in") {
				names = append(names, m[3])
			}
			if m := steps.FindStringSubmatch(line); m != nil && len(names) > 0 {
				fmt.Printf("- step %s/%s, %s: %s\n", m[1], m[2], names[len(names)-1], m[3])
			}
		}
	}
	return plainRuns, drRuns, phases, dumpSize, nil
}

// medianBy is the median of f over the runs.
func medianBy(runs []restoreRun, f func(restoreRun) time.Duration) time.Duration {
	v := make([]time.Duration, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return median(v)
}

// loadAverage is the machine's 1, 5 and 15 minute load, for the record.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], "/")
}

type phase struct {
	msg string
	at  time.Duration
}

// logPhases finds when each message first appears in dr's JSON log.
func logPhases(lines []string, start time.Time, msgs []string) []phase {
	var out []phase
	for _, want := range msgs {
		for _, l := range lines {
			var rec struct {
				Time time.Time `json:"time"`
				Msg  string    `json:"msg"`
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == want {
				out = append(out, phase{msg: want, at: rec.Time.Sub(start)})
				break
			}
		}
	}
	return out
}

// drUsage is what one dr run cost: its peak RSS and its CPU (user and
// system) and wall time, with its JSON log lines.
type drUsage struct {
	rss     int64
	cpu     time.Duration
	started time.Time
	wall    time.Duration
	log     []string
}

// runDr runs dr with JSON logs and returns its stdout (and log lines), its
// peak RSS, and an error holding the end of its output on failure.
func runDr(ctx context.Context, drBin, cfgPath string, args ...string) (string, int64, error) {
	out, u, err := runDrUsage(ctx, drBin, cfgPath, args...)
	return out, u.rss, err
}

// runDrUsage is runDr with the CPU the run used.
func runDrUsage(ctx context.Context, drBin, cfgPath string, args ...string) (string, drUsage, error) {
	c := exec.CommandContext(ctx, drBin, append(args, "--config", cfgPath, "--log-format", "json")...)
	var out strings.Builder
	c.Stdout = &out
	stderr, err := c.StderrPipe()
	if err != nil {
		return "", drUsage{}, err
	}
	started := time.Now()
	if err := c.Start(); err != nil {
		return "", drUsage{}, err
	}
	var logLines []string
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		logLines = append(logLines, sc.Text())
	}
	_, _ = io.Copy(io.Discard, stderr)
	err = c.Wait()
	u := drUsage{started: started, wall: time.Since(started), log: logLines}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.rss = ru.Maxrss * 1024
	}
	u.cpu = c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	if err != nil {
		return out.String(), u, fmt.Errorf("dr %s: %v:\n%s\n%s", strings.Join(args, " "), err, lastLines(out.String(), 10), lastLines(strings.Join(logLines, "\n"), 10))
	}
	if args[0] == "restore" {
		return strings.Join(logLines, "\n"), u, nil
	}
	return out.String(), u, nil
}

// writeBenchCompose makes the stack's compose file start the benchmark
// database as startBenchDatabase does, for the server-lost runbook.
func writeBenchCompose(dir, image string, postgres bool) error {
	if postgres {
		return writeBenchPostgresCompose(dir, image)
	}
	compose := fmt.Sprintf(`version: "2.4"
services:
  mariadb:
    image: %s
    network_mode: none
    command: ["--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=0", "--innodb-log-file-size=256M"]
    environment:
      - MARIADB_ROOT_PASSWORD=${_APP_DB_ROOT_PASS}
      - MYSQL_DATABASE=appwrite
`, image)
	return os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644)
}
