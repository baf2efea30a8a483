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
	"strings"
	"time"
)

// volumeResult is the volume capture measured two ways in one run.
type volumeResult struct {
	bytes     int64
	dockerCp  time.Duration // to /dev/null: the engine's own pace
	cpToDisk  time.Duration // to a directory: what an operator does by hand
	drCapture time.Duration
}

// runVolumeBench fills a compose-labelled volume of the benchmark project
// with files of random bytes (as uploaded photos and builds are), then
// times a plain `docker cp` of it to /dev/null and dr's capture of the
// same volume inside a backup (from its JSON log: from "database dumped"
// to the "volume captured" line).
func runVolumeBench(ctx context.Context, db *benchDatabase, image string, size int64, drBin, stackDir, work string) (*volumeResult, error) {
	name := db.project + "_appwrite-uploads"
	if out, err := exec.CommandContext(ctx, "docker", "volume", "create",
		"--label", "com.docker.compose.project="+db.project,
		"--label", "com.docker.compose.volume=appwrite-uploads", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("creating the benchmark volume: %v: %s", err, out)
	}
	defer exec.Command("docker", "volume", "rm", "-f", name).Run()
	const fileSize = 8 << 20
	files := max(size/fileSize, 1)
	fill := fmt.Sprintf(`set -e; mkdir -p /v/app-console/bucket; i=0
while [ $i -lt %d ]; do head -c %d /dev/urandom > /v/app-console/bucket/file-$i.bin; i=$((i+1)); done`, files, fileSize)
	if out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", "--entrypoint", "sh",
		"-v", name+":/v", image, "-c", fill).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("filling the benchmark volume: %v: %s", err, out)
	}
	res := &volumeResult{bytes: files * fileSize}

	helper, err := exec.CommandContext(ctx, "docker", "create", "--network", "none", "-v", name+":/v:ro", image, "true").Output()
	if err != nil {
		return nil, fmt.Errorf("creating the docker cp helper: %w", err)
	}
	id := strings.TrimSpace(string(helper))
	defer exec.Command("docker", "rm", "-f", "-v", id).Run()
	start := time.Now()
	cp := exec.CommandContext(ctx, "docker", "cp", id+":/v", "-")
	cp.Stdout = io.Discard
	var cpErr strings.Builder
	cp.Stderr = &cpErr
	if err := cp.Run(); err != nil {
		return nil, fmt.Errorf("docker cp: %v: %s", err, cpErr.String())
	}
	res.dockerCp = time.Since(start)

	copyDir := filepath.Join(work, "docker-cp")
	defer os.RemoveAll(copyDir)
	start = time.Now()
	if out, err := exec.CommandContext(ctx, "docker", "cp", id+":/v", copyDir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker cp to disk: %v: %s", err, out)
	}
	res.cpToDisk = time.Since(start)
	os.RemoveAll(copyDir)

	dest := filepath.Join(work, "dest-volume")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dest)
	cfgPath := filepath.Join(work, "dr-bench-volume.yaml")
	cfg := fmt.Sprintf("stack:\n  project: %s\n  dir: %s\n  database: {service: mariadb, databases: [appwrite]}\n  volumes: [appwrite-uploads]\ndestinations:\n  - name: local\n    remote: %s\nstate_dir: %s\n",
		db.project, stackDir, dest, filepath.Join(work, "state-volume"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	c := exec.CommandContext(ctx, drBin, "backup", "--config", cfgPath, "--log-format", "json")
	stderr, err := c.StderrPipe()
	if err != nil {
		return nil, err
	}
	c.Stdout = io.Discard
	if err := c.Start(); err != nil {
		return nil, err
	}
	var dumped, captured time.Time
	sc := bufio.NewScanner(stderr)
	var tail []string
	for sc.Scan() {
		var line struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		tail = append(tail, sc.Text())
		switch line.Msg {
		case "database dumped":
			dumped = line.Time
		case "volume captured":
			captured = line.Time
		}
	}
	if err := c.Wait(); err != nil {
		return nil, fmt.Errorf("dr backup with a volume: %v: %s", err, strings.Join(tail, "\n"))
	}
	if dumped.IsZero() || captured.IsZero() {
		return nil, fmt.Errorf("dr's log lacks the dump or volume lines:\n%s", strings.Join(tail, "\n"))
	}
	res.drCapture = captured.Sub(dumped)
	return res, nil
}

func printVolumeTable(w io.Writer, r *volumeResult) {
	rate := func(d time.Duration) float64 { return float64(r.bytes) / (1 << 20) / d.Seconds() }
	fmt.Fprintf(w, "\nCapture of a %s volume of 8 MiB files of random bytes, same run:\n\n", mib(r.bytes))
	fmt.Fprintln(w, "| method | wall | MiB/s | × docker cp to disk |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	row := func(name string, d time.Duration) {
		fmt.Fprintf(w, "| %s | %.1f s | %.0f | %.2f× |\n", name, d.Seconds(), rate(d), d.Seconds()/r.cpToDisk.Seconds())
	}
	row("docker cp to /dev/null (the engine's pace)", r.dockerCp)
	row("docker cp to a directory", r.cpToDisk)
	row("dr backup, volume phase (tar, sha256 per file, zstd, to a local remote)", r.drCapture)
}
