package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
)

type volumesBenchOptions struct {
	sizes   string
	dbSize  string
	image   string
	dr      string
	logsDir string
	// profileDir, when set, gets a CPU profile of every dr run.
	profileDir string
}

// incrementalFile is the size of the benchmark volume's files, and of
// each of the files added before the third run.
const incrementalFile = 1 << 20

// incrementalAdded is how many files the third run finds added.
const incrementalAdded = 8

// incrementalRun is one backup of the volume benchmark.
type incrementalRun struct {
	name      string
	wall, cpu time.Duration
	// added is what the destination (restic: its repository) grew by;
	// addedBlobs, for dr, the part of it under blobs/.
	added, addedBlobs int64
	// For dr, from its JSON log: the volume phase, the phases from the
	// process's start, and what the "volume captured" line counted.
	volume   time.Duration
	phases   []phase
	captured map[string]any
	skipped  string
}

// volumeSizeResult is one size's runs.
type volumeSizeResult struct {
	size         string
	files, bytes int64
	dr           []incrementalRun // first, unchanged, 8 files added, --full
	drAll        []incrementalRun // with Appwrite's six other volumes: first, unchanged twice
	restic       []incrementalRun // first, unchanged, 8 files added
	noVolume     []incrementalRun
	// dockerCp and dockerCpCPU are two samples: before the first run
	// and before the --full one, the two runs that read everything.
	dockerCp, dockerCpCPU      []time.Duration
	drStored, drStoredBlobs    int64 // after the three runs
	resticStored               int64
	loadBefore, loadAfter      string
	resticSkipped, resticNotes string
}

// runIncrementalBench measures dr's incremental volume backup against
// restic on the same files: for each size, one volume of 1 MiB files of
// random bytes, backed up three times by each (first, unchanged, after
// adding 8 files), beside a dr backup of the stack without the volume, a
// docker cp of the volume and a dr backup --full.
func runIncrementalBench(ctx context.Context, opts volumesBenchOptions) error {
	env, cleanup, err := prepare(ctx, backupBenchOptions{size: opts.dbSize, dr: opts.dr, image: opts.image})
	if err != nil {
		return err
	}
	defer cleanup()
	identity, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	resticSkipped := ensureRestic(ctx)
	for _, dir := range []string{opts.logsDir, opts.profileDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
	}
	for _, size := range strings.Split(opts.sizes, ",") {
		size = strings.TrimSpace(size)
		var n config.Size
		if err := n.UnmarshalText([]byte(size)); err != nil {
			return fmt.Errorf("--size: %w", err)
		}
		r, err := benchIncrementalSize(ctx, env, opts, size, int64(n), identity.Recipient().String(), resticSkipped)
		if err != nil {
			return fmt.Errorf("%s: %w", size, err)
		}
		printIncrementalTables(os.Stdout, opts, r)
	}
	return nil
}

// ensureRestic says why restic is skipped, after installing the Debian
// package when it is missing and the bench runs as root.
func ensureRestic(ctx context.Context) (skipped string) {
	if _, err := exec.LookPath("restic"); err == nil {
		return ""
	}
	if os.Geteuid() != 0 {
		return "restic is not installed (apt-get install restic as root)"
	}
	fmt.Fprintln(os.Stderr, "bench: restic is not on PATH: apt-get install -y restic")
	if out, err := exec.CommandContext(ctx, "apt-get", "install", "-y", "restic").CombinedOutput(); err != nil {
		return fmt.Sprintf("restic is not installed, and apt-get install failed: %v: %s", err, lastLines(string(out), 3))
	}
	return ""
}

func benchIncrementalSize(ctx context.Context, env *benchEnv, opts volumesBenchOptions, size string, n int64, recipient, resticSkipped string) (*volumeSizeResult, error) {
	work := filepath.Join(env.work, "volumes-"+size)
	defer os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	r := &volumeSizeResult{size: size, files: max(n/incrementalFile, 1), resticSkipped: resticSkipped, loadBefore: loadAverage()}
	r.bytes = r.files * incrementalFile
	vol, err := createBenchVolume(ctx, env.db.project, benchVolumeKey)
	if err != nil {
		return nil, err
	}
	defer vol.remove()
	fmt.Fprintf(os.Stderr, "bench %s: filling the volume with %d files of 1 MiB of random bytes\n", size, r.files)
	if err := vol.fill(ctx, opts.image, "file", 0, r.files, incrementalFile); err != nil {
		return nil, err
	}

	dockerCp := func() error {
		fmt.Fprintf(os.Stderr, "bench %s: docker cp of the volume to a directory\n", size)
		id, removeHelper, err := vol.helper(ctx, opts.image)
		if err != nil {
			return err
		}
		defer removeHelper()
		wall, cpu, err := dockerCpToDir(ctx, id, filepath.Join(work, "docker-cp"))
		r.dockerCp, r.dockerCpCPU = append(r.dockerCp, wall), append(r.dockerCpCPU, cpu)
		return err
	}
	if err := dockerCp(); err != nil {
		return nil, err
	}

	// dr: one destination and state directory for the incremental runs
	// (the index lives there), others for the stack without the volume.
	dirs := map[string]string{}
	for _, d := range []string{"dest", "state", "dest-novolume", "state-novolume", "restic", "restic-cache"} {
		dirs[d] = filepath.Join(work, d)
		if err := os.MkdirAll(dirs[d], 0o755); err != nil {
			return nil, err
		}
	}
	withVolume := filepath.Join(work, "dr-volume.yaml")
	noVolume := filepath.Join(work, "dr-novolume.yaml")
	// The same stack and destination with Appwrite's other volumes too:
	// what an unchanged backup of an Appwrite host lists.
	allVolumes := filepath.Join(work, "dr-appwrite-volumes.yaml")
	for path, cfg := range map[string]drConfig{
		withVolume: {project: env.db.project, stackDir: env.stackDir, dest: dirs["dest"], stateDir: dirs["state"],
			volumes: []string{benchVolumeKey}, recipients: []string{recipient}},
		allVolumes: {project: env.db.project, stackDir: env.stackDir, dest: dirs["dest"], stateDir: dirs["state"],
			volumes: config.DefaultVolumes(), recipients: []string{recipient}},
		noVolume: {project: env.db.project, stackDir: env.stackDir, dest: dirs["dest-novolume"], stateDir: dirs["state-novolume"],
			recipients: []string{recipient}},
	} {
		if err := cfg.write(path); err != nil {
			return nil, err
		}
	}
	blobs := filepath.Join(dirs["dest"], archive.BlobDir(env.db.project))
	drRun := func(name, cfgPath, dest string, args ...string) (incrementalRun, error) {
		fmt.Fprintf(os.Stderr, "bench %s: dr %s\n", size, name)
		before, beforeBlobs := dirSize(dest), dirSize(blobs)
		slug := fmt.Sprintf("%s-%s", size, strings.NewReplacer(" ", "-", ".", "", "/", "-", ",", "", "(", "", ")", "").Replace(name))
		if opts.profileDir != "" {
			args = append(args, "--cpuprofile", filepath.Join(opts.profileDir, slug+".pprof"))
		}
		_, u, err := runDrUsage(ctx, env.drBin, cfgPath, append([]string{"backup"}, args...)...)
		if err != nil {
			return incrementalRun{}, err
		}
		run := incrementalRun{name: name, wall: u.wall, cpu: u.cpu, added: dirSize(dest) - before,
			phases:   logPhases(u.log, u.started, []string{"backup starting", "database dumped", "volume captured", "backup committed"}),
			captured: logAttrs(u.log, "volume captured")}
		// The exit, as a phase: what follows the commit is the prune.
		run.phases = append(run.phases, phase{msg: "exit", at: u.wall})
		if cfgPath != noVolume {
			run.addedBlobs = dirSize(blobs) - beforeBlobs
			var ok bool
			if run.volume, ok = volumePhase(u); !ok {
				return run, fmt.Errorf("dr's log lacks the dump or volume lines:\n%s", lastLines(strings.Join(u.log, "\n"), 10))
			}
		}
		if opts.logsDir != "" {
			_ = os.WriteFile(filepath.Join(opts.logsDir, slug+".jsonl"), []byte(strings.Join(u.log, "\n")+"\n"), 0o644)
		}
		return run, nil
	}

	mount, resticRun, err := prepareRestic(ctx, r, vol, dirs["restic"], dirs["restic-cache"])
	if err != nil {
		return nil, err
	}
	if r.resticSkipped == "" {
		r.resticNotes = fmt.Sprintf("restic reads the volume's mountpoint %s on the host", mount)
	}

	dr := func(name string, args ...string) error {
		run, err := drRun(name, withVolume, dirs["dest"], args...)
		r.dr = append(r.dr, run)
		return err
	}
	drAll := func(name string) error {
		run, err := drRun(name, allVolumes, dirs["dest"])
		r.drAll = append(r.drAll, run)
		return err
	}
	baseline := func(name string) error {
		run, err := drRun(name, noVolume, dirs["dest-novolume"])
		r.noVolume = append(r.noVolume, run)
		return err
	}
	restic := func(name string) error {
		run, err := resticRun(name)
		r.restic = append(r.restic, run)
		return err
	}
	var small []*benchVolume
	defer func() {
		for _, v := range small {
			v.remove()
		}
	}()
	added := fmt.Sprintf("3. %d new 1 MiB files", incrementalAdded)
	// The no-volume baseline runs between the others, so that a slow
	// spell of the shared machine does not fall on it alone.
	for _, step := range []func() error{
		func() error { return dr("1. first run") },
		func() error { return restic("1. first run") },
		func() error { return baseline("without the volume (a)") },
		func() error { return dr("2. nothing changed") },
		func() error { return baseline("without the volume (b)") },
		func() error { return restic("2. nothing changed") },
		func() error {
			fmt.Fprintf(os.Stderr, "bench %s: adding %d files of 1 MiB\n", size, incrementalAdded)
			return vol.fill(ctx, opts.image, "new", 0, incrementalAdded, incrementalFile)
		},
		func() error { return dr(added) },
		func() error { return restic(added) },
		func() error { return baseline("without the volume (c)") },
		func() error {
			r.drStored, r.drStoredBlobs, r.resticStored = dirSize(dirs["dest"]), dirSize(blobs), dirSize(dirs["restic"])
			// Its volume holds the 8 files more: the second sample of
			// docker cp reads what the --full run reads.
			return dockerCp()
		},
		func() error { return dr("4. --full, after the three", "--full") },
		// Two more unchanged runs, each paired with a baseline: one
		// sample of each swings by a second on a shared machine.
		func() error { return dr("5. nothing changed, again") },
		func() error { return baseline("without the volume (d)") },
		func() error { return dr("6. nothing changed, again") },
		func() error { return baseline("without the volume (e)") },
		// Appwrite's six other volumes, small, beside the uploads: one
		// run stores them, then two unchanged runs of all seven.
		func() error {
			for _, key := range appwriteSmallVolumes() {
				v, err := createBenchVolume(ctx, env.db.project, key)
				if err != nil {
					return err
				}
				small = append(small, v)
				if err := v.fill(ctx, opts.image, "file", 0, 16, 4<<10); err != nil {
					return err
				}
			}
			return drAll("7. Appwrite's seven volumes, six new")
		},
		func() error { return drAll("8. seven volumes, nothing changed") },
		func() error { return baseline("without the volume (f)") },
		func() error { return drAll("9. seven volumes, nothing changed") },
		func() error { return baseline("without the volume (g)") },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	r.loadAfter = loadAverage()
	return r, nil
}

// prepareRestic initialises a restic repository and returns the volume's
// mountpoint and a run of restic backup on it; when restic cannot run,
// r.resticSkipped says why and the runs are marked skipped.
func prepareRestic(ctx context.Context, r *volumeSizeResult, vol *benchVolume, repo, cache string) (string, func(string) (incrementalRun, error), error) {
	skipped := func(name string) (incrementalRun, error) {
		return incrementalRun{name: name, skipped: r.resticSkipped}, nil
	}
	if r.resticSkipped != "" {
		return "", skipped, nil
	}
	out, err := exec.CommandContext(ctx, "docker", "volume", "inspect", "-f", "{{.Mountpoint}}", vol.name).Output()
	if err != nil {
		return "", nil, fmt.Errorf("docker volume inspect: %w", err)
	}
	mount := strings.TrimSpace(string(out))
	if _, err := os.ReadDir(mount); err != nil {
		r.resticSkipped = fmt.Sprintf("the volume's mountpoint cannot be read here (%v)", err)
		return "", skipped, nil
	}
	env := append(os.Environ(), "RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR="+cache)
	init := exec.CommandContext(ctx, "restic", "init", "-q", "-r", repo)
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("restic init: %v: %s", err, out)
	}
	args := []string{"backup", "-q", "-r", repo}
	// --no-scan (restic 0.15 on) spares the walk that only sizes the
	// progress report.
	if help, _ := exec.CommandContext(ctx, "restic", "backup", "--help").Output(); strings.Contains(string(help), "--no-scan") {
		args = append(args, "--no-scan")
	}
	args = append(args, mount)
	return mount, func(name string) (incrementalRun, error) {
		fmt.Fprintf(os.Stderr, "bench %s: restic %s\n", r.size, name)
		before := dirSize(repo)
		c := exec.CommandContext(ctx, "restic", args...)
		c.Env = env
		var stderr strings.Builder
		c.Stdout, c.Stderr = io.Discard, &stderr
		start := time.Now()
		if err := c.Run(); err != nil {
			return incrementalRun{}, fmt.Errorf("restic %s: %v: %s", strings.Join(args, " "), err, lastLines(stderr.String(), 5))
		}
		return incrementalRun{name: name, wall: time.Since(start), cpu: c.ProcessState.UserTime() + c.ProcessState.SystemTime(),
			added: dirSize(repo) - before}, nil
	}, nil
}

// logAttrs are the attributes of the first line of dr's JSON log with
// that message, nil when there is none.
func logAttrs(lines []string, msg string) map[string]any {
	for _, l := range lines {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

func printIncrementalTables(w io.Writer, opts volumesBenchOptions, r *volumeSizeResult) {
	restic := "restic"
	if out, err := exec.Command("restic", "version").Output(); err == nil {
		restic = strings.Join(strings.Fields(string(out))[:2], " ")
	}
	fmt.Fprintf(w, "\n### Volume of %s: %d files of 1 MiB of random bytes (%s)\n\n", r.size, r.files, mib(r.bytes))
	fmt.Fprintf(w, "Same run, %d cores, load average %s before, %s after. The stack's database dumps about %s. "+
		"dr encrypts with age (one X25519 recipient) and keeps its index in its own state_dir; restic (%s) encrypts with its repository password. "+
		"Both write to a local directory. CPU is the process's user+sys: dr's own (the helper container's find and tar run in the engine, not in it), restic's, the docker CLI's.",
		numCPU(), r.loadBefore, r.loadAfter, opts.dbSize, restic)
	if r.resticSkipped != "" {
		fmt.Fprintf(w, " restic skipped: %s.", r.resticSkipped)
	} else {
		fmt.Fprintf(w, " %s.", r.resticNotes)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| method, run | wall | CPU | added to the destination (of it blobs/) | volume phase (dr log) | files read, stored (dr log) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	row := func(method string, run incrementalRun) {
		if run.skipped != "" {
			fmt.Fprintf(w, "| %s %s | skipped | | | | |\n", method, run.name)
			return
		}
		added, volume, read := mibFrac(run.added), "—", "—"
		if method == "dr" && run.volume > 0 {
			added = fmt.Sprintf("%s (%s)", mibFrac(run.added), mibFrac(run.addedBlobs))
			volume = fmt.Sprintf("%.2f s", run.volume.Seconds())
			read = fmt.Sprintf("%v, %v", run.captured["read_files"], run.captured["stored_blobs"])
		}
		fmt.Fprintf(w, "| %s %s | %.2f s | %.2f s | %s | %s | %s |\n", method, run.name, run.wall.Seconds(), run.cpu.Seconds(), added, volume, read)
	}
	for _, run := range r.dr {
		row("dr", run)
	}
	for _, run := range r.drAll {
		row("dr", run)
	}
	for _, run := range r.restic {
		row("restic", run)
	}
	for _, run := range r.noVolume {
		row("dr", run)
	}
	for i := range r.dockerCp {
		fmt.Fprintf(w, "| docker cp of the volume to a directory (%c) | %.2f s | %.2f s (the CLI) | — | — | — |\n", 'a'+i, r.dockerCp[i].Seconds(), r.dockerCpCPU[i].Seconds())
	}

	var baselines []time.Duration
	for _, run := range r.noVolume {
		baselines = append(baselines, run.wall)
	}
	baseline := median(baselines)
	ratio := func(a, b float64) string {
		if b == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f×", a/b)
	}
	resticCell := func(f func() string) string {
		if r.resticSkipped != "" || len(r.restic) < 3 {
			return "skipped"
		}
		return f()
	}
	pct := func(n int64) string { return fmt.Sprintf("%.3f %%", 100*float64(n)/float64(r.bytes)) }
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| ratio | dr | restic | target |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	unchanged := []time.Duration{r.dr[1].wall}
	for _, run := range r.dr[4:] {
		unchanged = append(unchanged, run.wall)
	}
	fmt.Fprintf(w, "| unchanged run (median of %d: %s) / dr backup without the volume (median of %d: %s), wall | %s | — | ≤ 1.20× |\n",
		len(unchanged), seconds(unchanged), len(baselines), seconds(baselines), ratio(median(unchanged).Seconds(), baseline.Seconds()))
	// The dump's pace swings on a shared machine; the volume phase is
	// what the volume itself adds to the unchanged run.
	if len(r.drAll) == 3 {
		seven := []time.Duration{r.drAll[1].wall, r.drAll[2].wall}
		fmt.Fprintf(w, "| unchanged run of Appwrite's seven volumes (median of 2: %s) / dr backup without the volume, wall | %s | — | |\n",
			seconds(seven), ratio(median(seven).Seconds(), baseline.Seconds()))
	}
	fmt.Fprintf(w, "| unchanged run's volume phase (%.2f s) / dr backup without the volume (wall, median) | %s | — | ≤ 0.20× |\n",
		r.dr[1].volume.Seconds(), ratio(r.dr[1].volume.Seconds(), baseline.Seconds()))
	fmt.Fprintf(w, "| added by the unchanged run, %% of the volume: all (blobs/ only) | %s (%s) | %s | |\n",
		pct(r.dr[1].added), pct(r.dr[1].addedBlobs), resticCell(func() string { return pct(r.restic[1].added) }))
	fmt.Fprintf(w, "| added by the %d-file run / %d MiB: all (blobs/ only) | %s (%s) | %s | |\n", incrementalAdded, incrementalAdded,
		ratio(float64(r.dr[2].added), incrementalAdded*incrementalFile), ratio(float64(r.dr[2].addedBlobs), incrementalAdded*incrementalFile),
		resticCell(func() string { return ratio(float64(r.restic[2].added), incrementalAdded*incrementalFile) }))
	fmt.Fprintf(w, "| stored after the three runs / volume bytes: all (blobs/ only) | %s (%s) | %s | |\n",
		ratio(float64(r.drStored), float64(r.bytes)), ratio(float64(r.drStoredBlobs), float64(r.bytes)),
		resticCell(func() string { return ratio(float64(r.resticStored), float64(r.bytes)) }))
	fmt.Fprintf(w, "| first run / --full run (wall) | %s | — | |\n", ratio(r.dr[0].wall.Seconds(), r.dr[3].wall.Seconds()))
	// The first and the --full run read the whole volume; each is set
	// against the docker cp taken just before it.
	reads := []time.Duration{r.dr[0].volume, r.dr[3].volume}
	fmt.Fprintf(w, "| the volume read of the first and the --full run (dr: volume phase; %s) / docker cp to a directory just before each (%s), median of the pairs | %s | %s | ≤ 1.10× |\n",
		seconds(reads), seconds(r.dockerCp),
		ratio(median([]float64{reads[0].Seconds() / r.dockerCp[0].Seconds(), reads[1].Seconds() / r.dockerCp[1].Seconds()}), 1),
		resticCell(func() string { return ratio(r.restic[0].wall.Seconds(), r.dockerCp[0].Seconds()) }))

	fmt.Fprintln(w)
	fmt.Fprintln(w, "dr's time by phase, from its JSON log (seconds from the process's start to each line; \"exit\" follows the commit's prune):")
	fmt.Fprintln(w)
	msgs := []string{"backup starting", "database dumped", "volume captured", "backup committed", "exit"}
	fmt.Fprintf(w, "| dr run | %s |\n", strings.Join(msgs, " | "))
	fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---:|", len(msgs)))
	runs := append(append(append([]incrementalRun{}, r.dr...), r.drAll...), r.noVolume...)
	for _, run := range runs {
		cells := make([]string, len(msgs))
		for i, m := range msgs {
			cells[i] = "—"
			for _, p := range run.phases {
				if p.msg == m {
					cells[i] = fmt.Sprintf("%.2f", p.at.Seconds())
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s |\n", run.name, strings.Join(cells, " | "))
	}
}

// mibFrac is n in MiB with two decimals, for the small amounts an
// incremental run adds.
func mibFrac(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func seconds(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%.2f s", d.Seconds()))
	}
	return strings.Join(out, ", ")
}
