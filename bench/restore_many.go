package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/appwrite-dr/dr/config"
)

// manyTablesOptions are go run ./bench restore --tables N's settings.
type manyTablesOptions struct {
	tables      int   // collection tables in the generated database
	connections []int // restore.import_connections values measured beside 1
}

// runManyTablesBench measures, for each size on a generated database of
// many collection tables, the plain import against the whole dr restore
// --latest --only db with restore.import_connections at 1 and at each of
// the given values, in rounds whose order rotates, and prints medians.
func runManyTablesBench(ctx context.Context, opts restoreBenchOptions) error {
	load0 := loadAverage()
	type method struct {
		name  string
		conns int // 0: the plain import
		runs  []restoreRun
		ratio []float64
	}
	type result struct {
		size    string
		dump    int64
		methods []*method
	}
	var results []result
	for _, size := range opts.sizes {
		o := opts.backupBenchOptions
		o.size = size
		methods := []*method{{name: "plain import: zstd -dc dump \\| docker exec -i … mariadb"}}
		for _, n := range append([]int{1}, opts.many.connections...) {
			methods = append(methods, &method{name: fmt.Sprintf("dr restore --only db, import_connections: %d", n), conns: n})
		}
		dump, err := benchManyTablesSize(ctx, o, opts.many.tables, opts.runs, func(round int, run func(conns int) (restoreRun, error)) error {
			order := make([]*method, len(methods))
			for i := range methods {
				order[i] = methods[(i+round)%len(methods)]
			}
			got := map[*method]restoreRun{}
			for _, m := range order {
				r, err := run(m.conns)
				if err != nil {
					return err
				}
				got[m] = r
				m.runs = append(m.runs, r)
			}
			for _, m := range methods {
				m.ratio = append(m.ratio, got[m].wall.Seconds()/got[methods[0]].wall.Seconds())
			}
			return nil
		})
		if err != nil {
			return err
		}
		results = append(results, result{size: size, dump: dump, methods: methods})
	}
	load1 := loadAverage()

	w := os.Stdout
	for _, r := range results {
		fmt.Fprintf(w, "\nRestore of a %s Appwrite-shaped database of %d collections (%d tables: each collection has its permissions table; dump %s as zstd), the plain import against the whole `dr restore --latest --only db` at each restore.import_connections, rounds in rotating order, median of %d runs each, %d cores, load average %s at the start and %s at the end:\n\n",
			r.size, opts.many.tables, 2*opts.many.tables, mib(r.dump), opts.runs, numCPU(), load0, load1)
		fmt.Fprintln(w, "| method | wall | × plain | dr CPU | dr peak RSS |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
		for i, m := range r.methods {
			wall := medianBy(m.runs, func(x restoreRun) time.Duration { return x.wall })
			ratio := median(m.ratio)
			if i == 0 {
				fmt.Fprintf(w, "| %s | %.1f s | 1.00× | — | — |\n", m.name, wall.Seconds())
				continue
			}
			var rss int64
			for _, x := range m.runs {
				rss = max(rss, x.rss)
			}
			cpu := medianBy(m.runs, func(x restoreRun) time.Duration { return x.cpu })
			fmt.Fprintf(w, "| %s | %.1f s | %.2f× | %.1f s | %s |\n", m.name, wall.Seconds(), ratio, cpu.Seconds(), mib(rss))
		}
		fmt.Fprintf(w, "\n- %s, each run:", r.size)
		for _, m := range r.methods {
			fmt.Fprintf(w, " %s:", strings.SplitN(m.name, ":", 2)[0])
			if m.conns > 0 {
				fmt.Fprintf(w, " (%d)", m.conns)
			}
			for _, x := range m.runs {
				fmt.Fprintf(w, " %.1f", x.wall.Seconds())
			}
			fmt.Fprint(w, " s;")
		}
		fmt.Fprintln(w)
	}
	return nil
}

// benchManyTablesSize makes a database of tables collection tables of
// about size in all, backs it up, dumps it for the plain import, and
// calls rounds runs times with a function that runs one method.
func benchManyTablesSize(ctx context.Context, opts backupBenchOptions, tables, runs int, round func(int, func(conns int) (restoreRun, error)) error) (dumpSize int64, err error) {
	var size config.Size
	if err := size.UnmarshalText([]byte(opts.size)); err != nil {
		return 0, fmt.Errorf("--size: %w", err)
	}
	drBin, err := filepath.Abs(opts.dr)
	if err != nil {
		return 0, err
	}
	if _, err := os.Stat(drBin); err != nil {
		return 0, fmt.Errorf("dr binary %s: %w (run make build)", drBin, err)
	}
	work, err := os.MkdirTemp("", "dr-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	db, err := startBenchDatabase(ctx, opts.image, false)
	if err != nil {
		return 0, err
	}
	defer db.remove()
	fmt.Fprintf(os.Stderr, "bench: generating an Appwrite-shaped database of %d collection tables, about %s\n", tables, opts.size)
	if err := db.generateMany(ctx, int64(size), tables); err != nil {
		return 0, err
	}
	stackDir := filepath.Join(work, "stack")
	if err := writeBenchStack(stackDir, false); err != nil {
		return 0, err
	}
	cfgFor := func(conns int) (string, error) {
		path := filepath.Join(work, fmt.Sprintf("dr-%d.yaml", conns))
		cfg := drConfig{project: db.project, stackDir: stackDir, dest: filepath.Join(work, "dest"), stateDir: filepath.Join(work, "state"),
			extra: fmt.Sprintf("restore:\n  import_connections: %d\n", conns)}
		return path, cfg.write(path)
	}
	cfg1, err := cfgFor(1)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "bench %s: dr backup, and the dump to a zstd file for the plain import\n", opts.size)
	if _, _, err := runDr(ctx, drBin, cfg1, "backup"); err != nil {
		return 0, err
	}
	dumpFile := filepath.Join(work, "dump.sql.zst")
	dumpCmd := fmt.Sprintf("docker exec -e MYSQL_PWD=%s %s mariadb-dump -uroot %s", benchPassword, db.name, benchDumpOptions)
	if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", dumpCmd+" | zstd -q -T0 -3 -o "+dumpFile).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("dumping for the plain import: %v: %s", err, out)
	}
	dumpSize = dirSize(dumpFile)
	importCmd := fmt.Sprintf("zstd -dc %s | docker exec -i -e MYSQL_PWD=%s %s mariadb -uroot", dumpFile, benchPassword, db.name)

	run := func(conns int) (restoreRun, error) {
		if conns == 0 {
			fmt.Fprintf(os.Stderr, "bench %s: plain import\n", opts.size)
			start := time.Now()
			if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", importCmd).CombinedOutput(); err != nil {
				return restoreRun{}, fmt.Errorf("plain import: %v: %s", err, out)
			}
			return restoreRun{wall: time.Since(start)}, nil
		}
		cfg, err := cfgFor(conns)
		if err != nil {
			return restoreRun{}, err
		}
		fmt.Fprintf(os.Stderr, "bench %s: dr restore --latest --only db, import_connections: %d\n", opts.size, conns)
		start := time.Now()
		_, usage, err := runDrUsage(ctx, drBin, cfg, "restore", "--latest", "--only", "db", "--yes")
		if err != nil {
			return restoreRun{}, err
		}
		return restoreRun{wall: time.Since(start), cpu: usage.cpu, rss: usage.rss}, nil
	}
	for i := range runs {
		fmt.Fprintf(os.Stderr, "bench %s: round %d/%d\n", opts.size, i+1, runs)
		if err := round(i, run); err != nil {
			return 0, err
		}
	}
	return dumpSize, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want numbers of 1 or more", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// generateMany fills appwrite with tables collection tables of mixed
// sizes, as an Appwrite project's database looks: a tenth of the tables
// hold half the rows, three tenths hold a third, and the rest, the many
// small collections, share the remainder. Each table has its
// permissions table beside it, as Appwrite makes them.
func (db *benchDatabase) generateMany(ctx context.Context, size int64, tables int) error {
	const rowBytes = 1050 // dump bytes per row of this schema, measured
	total := max(size/rowBytes, int64(tables)*10)
	big, mid := max(tables/10, 1), max(tables*3/10, 1)
	small := max(tables-big-mid, 1)
	rowsOf := func(i int) int64 {
		switch {
		case i < big:
			return total / 2 / int64(big)
		case i < big+mid:
			return total / 3 / int64(mid)
		default:
			return max(total/6/int64(small), 1)
		}
	}
	var q strings.Builder
	flush := func() error {
		if q.Len() == 0 {
			return nil
		}
		err := db.sql(ctx, q.String())
		q.Reset()
		return err
	}
	for i := range tables {
		t := fmt.Sprintf("_1_database_1_collection_%d", i+1)
		q.WriteString(collectionSchema(t, ",\n  KEY _created (_createdAt)"))
		rows := rowsOf(i)
		for from := int64(1); from <= rows; from += collectionBatch {
			q.WriteString(collectionRows(t, from, min(from+collectionBatch-1, rows)))
		}
		if i%20 == 19 {
			if err := flush(); err != nil {
				return fmt.Errorf("creating the benchmark tables: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("creating the benchmark tables: %w", err)
	}
	return nil
}
