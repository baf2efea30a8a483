package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/config"
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
	vol, err := createBenchVolume(ctx, db.project, benchVolumeKey)
	if err != nil {
		return nil, err
	}
	defer vol.remove()
	const fileSize = 8 << 20
	files := max(size/fileSize, 1)
	if err := vol.fill(ctx, image, "file", 0, files, fileSize); err != nil {
		return nil, err
	}
	res := &volumeResult{bytes: files * fileSize}

	id, removeHelper, err := vol.helper(ctx, image)
	if err != nil {
		return nil, err
	}
	defer removeHelper()
	start := time.Now()
	cp := exec.CommandContext(ctx, "docker", "cp", id+":/v", "-")
	cp.Stdout = io.Discard
	var cpErr strings.Builder
	cp.Stderr = &cpErr
	if err := cp.Run(); err != nil {
		return nil, fmt.Errorf("docker cp: %v: %s", err, cpErr.String())
	}
	res.dockerCp = time.Since(start)
	if res.cpToDisk, _, err = dockerCpToDir(ctx, id, filepath.Join(work, "docker-cp")); err != nil {
		return nil, err
	}

	dest := filepath.Join(work, "dest-volume")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dest)
	cfgPath := filepath.Join(work, "dr-bench-volume.yaml")
	cfg := drConfig{project: db.project, stackDir: stackDir, dest: dest, stateDir: filepath.Join(work, "state-volume"), volumes: []string{benchVolumeKey}}
	if err := cfg.write(cfgPath); err != nil {
		return nil, err
	}
	_, u, err := runDrUsage(ctx, drBin, cfgPath, "backup")
	if err != nil {
		return nil, err
	}
	var ok bool
	if res.drCapture, ok = volumePhase(u); !ok {
		return nil, fmt.Errorf("dr's log lacks the dump or volume lines:\n%s", lastLines(strings.Join(u.log, "\n"), 10))
	}
	return res, nil
}

// benchVolumeKey is the compose name of the benchmark's volume.
const benchVolumeKey = "appwrite-uploads"

// appwriteSmallVolumes are Appwrite's other volumes dr backs up by
// default (config.DefaultVolumes but the uploads), which the volume
// benchmark adds, small, for an unchanged run of an Appwrite host's
// volumes.
func appwriteSmallVolumes() []string {
	return slices.DeleteFunc(config.DefaultVolumes(), func(v string) bool { return v == benchVolumeKey })
}

// benchVolume is a compose-labelled volume of the benchmark project, as
// an Appwrite stack's uploads volume is.
type benchVolume struct{ name string }

func createBenchVolume(ctx context.Context, project, key string) (*benchVolume, error) {
	name := project + "_" + key
	if out, err := exec.CommandContext(ctx, "docker", "volume", "create",
		"--label", "com.docker.compose.project="+project,
		"--label", "com.docker.compose.volume="+key, name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("creating the benchmark volume: %v: %s", err, out)
	}
	return &benchVolume{name: name}, nil
}

func (v *benchVolume) remove() { _ = exec.Command("docker", "volume", "rm", "-f", v.name).Run() }

// fill writes count files of fileSize random bytes (as uploaded photos
// and builds are), named prefix-<from>.bin onwards, into the volume.
func (v *benchVolume) fill(ctx context.Context, image, prefix string, from, count, fileSize int64) error {
	script := fmt.Sprintf(`set -e; mkdir -p /v/app-console/bucket; i=%d
while [ $i -lt %d ]; do head -c %d /dev/urandom > /v/app-console/bucket/%s-$i.bin; i=$((i+1)); done`, from, from+count, fileSize, prefix)
	if out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", "--entrypoint", "sh",
		"-v", v.name+":/v", image, "-c", script).CombinedOutput(); err != nil {
		return fmt.Errorf("filling the benchmark volume: %v: %s", err, out)
	}
	return nil
}

// helper creates (does not start) a container with the volume at /v, for
// docker cp.
func (v *benchVolume) helper(ctx context.Context, image string) (id string, remove func(), err error) {
	out, err := exec.CommandContext(ctx, "docker", "create", "--network", "none", "-v", v.name+":/v:ro", image, "true").Output()
	if err != nil {
		return "", nil, fmt.Errorf("creating the docker cp helper: %w", err)
	}
	id = strings.TrimSpace(string(out))
	return id, func() { _ = exec.Command("docker", "rm", "-f", "-v", id).Run() }, nil
}

// dockerCpToDir times `docker cp` of the helper's /v to dir, what an
// operator does by hand, and removes the copy afterwards; cpu is the
// docker CLI's (it unpacks the engine's tar stream).
func dockerCpToDir(ctx context.Context, id, dir string) (wall, cpu time.Duration, err error) {
	defer os.RemoveAll(dir)
	c := exec.CommandContext(ctx, "docker", "cp", id+":/v", dir)
	start := time.Now()
	if out, err := c.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("docker cp to disk: %v: %s", err, out)
	}
	return time.Since(start), c.ProcessState.UserTime() + c.ProcessState.SystemTime(), nil
}

// volumePhase is the time dr's backup spent on its volumes, from its
// JSON log: from "database dumped" to the "volume captured" line.
func volumePhase(u drUsage) (time.Duration, bool) {
	p := logPhases(u.log, u.started, []string{"database dumped", "volume captured"})
	if len(p) != 2 {
		return 0, false
	}
	return p[1].at - p[0].at, true
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
