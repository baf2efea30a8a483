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

// runRestoreBench measures, on one generated database in one run: the
// plain import (zstd -dc dump | docker exec -i … mariadb), dr restore of
// the same data with its phases, and the server-lost runbook end to end
// after the database container and its data are gone (the RTO).
func runRestoreBench(ctx context.Context, opts backupBenchOptions) error {
	env, cleanup, err := prepare(ctx, opts)
	if err != nil {
		return err
	}
	defer cleanup()
	drBin, work, db, stackDir := env.drBin, env.work, env.db, env.stackDir
	if err := writeBenchCompose(stackDir, opts.image); err != nil {
		return err
	}
	defer func() {
		// The server-lost runbook brought the database back as a compose
		// project in the stack directory: remove it, data included.
		down := exec.Command("docker-compose", "-p", db.project, "down", "-v")
		down.Dir = stackDir
		_ = down.Run()
	}()
	cfgPath := filepath.Join(work, "dr.yaml")
	cfg := fmt.Sprintf("stack:\n  project: %s\n  dir: %s\n  database: {service: mariadb, databases: [appwrite]}\n  volumes: []\ndestinations:\n  - name: local\n    remote: %s\nstate_dir: %s\n",
		db.project, stackDir, filepath.Join(work, "dest"), filepath.Join(work, "state"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}

	fmt.Fprintln(os.Stderr, "bench: dr backup, and the dump to a zstd file for the plain import")
	if _, _, err := runDr(ctx, drBin, cfgPath, "backup"); err != nil {
		return err
	}
	dumpFile := filepath.Join(work, "dump.sql.zst")
	dumpCmd := fmt.Sprintf("docker exec -e MYSQL_PWD=%s %s mariadb-dump -uroot %s", benchPassword, db.name, benchDumpOptions)
	if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", dumpCmd+" | zstd -q -T0 -3 -o "+dumpFile).CombinedOutput(); err != nil {
		return fmt.Errorf("dumping for the plain import: %v: %s", err, out)
	}

	fmt.Fprintln(os.Stderr, "bench: plain import: zstd -dc dump | docker exec -i mariadb")
	start := time.Now()
	importCmd := fmt.Sprintf("zstd -dc %s | docker exec -i -e MYSQL_PWD=%s %s mariadb -uroot", dumpFile, benchPassword, db.name)
	if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", importCmd).CombinedOutput(); err != nil {
		return fmt.Errorf("plain import: %v: %s", err, out)
	}
	plain := time.Since(start)

	fmt.Fprintln(os.Stderr, "bench: dr restore --latest --only db")
	start = time.Now()
	logText, rss, err := runDr(ctx, drBin, cfgPath, "restore", "--latest", "--only", "db", "--yes")
	if err != nil {
		return err
	}
	drRestore := time.Since(start)
	phases := logPhases(strings.Split(logText, "\n"), start, []string{"backup verified", "safety dump written", "database imported"})

	fmt.Fprintln(os.Stderr, "bench: server lost: the database container and its data removed, then dr runbook run server-lost")
	if out, err := exec.CommandContext(ctx, "docker", "rm", "-f", "-v", db.name).CombinedOutput(); err != nil {
		return fmt.Errorf("removing the database container: %v: %s", err, out)
	}
	start = time.Now()
	out, _, err := runDr(ctx, drBin, cfgPath, "runbook", "run", "server-lost", "--yes")
	if err != nil {
		return err
	}
	rto := time.Since(start)

	w := os.Stdout
	fmt.Fprintf(w, "\nRestore of a %s Appwrite-shaped database (%s as a zstd dump), %d cores, one run each:\n\n", opts.size, mib(dirSize(dumpFile)), numCPU())
	fmt.Fprintln(w, "| method | wall | × plain import |")
	fmt.Fprintln(w, "|---|---:|---:|")
	fmt.Fprintf(w, "| plain import: zstd -dc dump \\| docker exec -i … mariadb | %.1f s | 1.00× |\n", plain.Seconds())
	fmt.Fprintf(w, "| dr restore --latest --only db (all phases, peak RSS %s) | %.1f s | %.2f× |\n", mib(rss), drRestore.Seconds(), drRestore.Seconds()/plain.Seconds())
	prev := time.Duration(0)
	for _, p := range phases {
		fmt.Fprintf(w, "| — until %s | %.1f s | |\n", p.msg, p.at.Seconds())
		prev = p.at
	}
	if prev > 0 && len(phases) == 3 {
		imp := phases[2].at - phases[1].at
		fmt.Fprintf(w, "| — dr's import phase alone (chunks verified, then fed to mariadb) | %.1f s | %.2f× |\n", imp.Seconds(), imp.Seconds()/plain.Seconds())
	}
	fmt.Fprintf(w, "\nServer lost, `dr runbook run server-lost` end to end (RTO): **%.1f s**\n\n", rto.Seconds())
	steps := regexp.MustCompile(`^\[(\d+)/(\d+)\] done in (.*)$`)
	titles := regexp.MustCompile(`^\[(\d+)/(\d+)\] ([^F].*)$`)
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if m := titles.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[3], "done in") {
			names = append(names, m[3])
		}
		if m := steps.FindStringSubmatch(line); m != nil && len(names) > 0 {
			fmt.Fprintf(w, "- step %s/%s, %s: %s\n", m[1], m[2], names[len(names)-1], m[3])
		}
	}
	return nil
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

// runDr runs dr with JSON logs and returns its stdout (and log lines), its
// peak RSS, and an error holding the end of its output on failure.
func runDr(ctx context.Context, drBin, cfgPath string, args ...string) (string, int64, error) {
	c := exec.CommandContext(ctx, drBin, append(args, "--config", cfgPath, "--log-format", "json")...)
	var out strings.Builder
	c.Stdout = &out
	stderr, err := c.StderrPipe()
	if err != nil {
		return "", 0, err
	}
	if err := c.Start(); err != nil {
		return "", 0, err
	}
	var logLines []string
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		logLines = append(logLines, sc.Text())
	}
	_, _ = io.Copy(io.Discard, stderr)
	err = c.Wait()
	var rss int64
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	if err != nil {
		return out.String(), rss, fmt.Errorf("dr %s: %v:\n%s\n%s", strings.Join(args, " "), err, lastLines(out.String(), 10), lastLines(strings.Join(logLines, "\n"), 10))
	}
	if args[0] == "restore" {
		return strings.Join(logLines, "\n"), rss, nil
	}
	return out.String(), rss, nil
}

// writeBenchCompose makes the stack's compose file start the benchmark
// database as startBenchDatabase does, for the server-lost runbook.
func writeBenchCompose(dir, image string) error {
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
