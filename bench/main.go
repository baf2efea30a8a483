// Command bench measures dr against the ways people back up a MariaDB
// stack today, on the same database in the same run, and prints a markdown
// table of wall time as a ratio to the floor (the dump alone), CPU, peak RSS,
// peak temporary disk and the size of what was kept.
//
//	go run ./bench backup [--size 300MiB,1GiB] [--runs 3] [--volume-size 1GiB] [--only …]
//	go run ./bench restore [--size 300MiB,1GiB] [--runs 3] [--rto]
//	go run ./bench backup|restore --engine postgresql [--size 300MiB,1GiB] [--runs 3]
//	go run ./bench restore --tables 150 [--size 300MiB,1GiB] [--connections 2,3]
//	go run ./bench volumes [--size 1GiB,4GiB] [--db-size 100MiB] [--logs DIR] [--cpuprofile DIR]
//
// The volumes benchmark measures dr's incremental volume backup and
// restic's on the same volume of 1 MiB random files: a first run, an
// unchanged one and one after 8 files were added, beside a dr backup of
// the stack without the volume, docker cp of the volume and dr --full.
//
// It needs a Docker engine and the test image (make setup), and the
// Debian packages zip, rclone, zstd and restic for the comparisons (a
// method whose tool is missing is reported as skipped).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench backup|restore|volumes [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "backup":
		fs := flag.NewFlagSet("backup", flag.ExitOnError)
		opts := backupBenchOptions{}
		fs.StringVar(&opts.size, "size", "300MiB,1GiB", "approximate sizes of the generated dump, comma-separated (e.g. 300MiB,1GiB,4GiB)")
		fs.IntVar(&opts.runs, "runs", 3, "paired runs of the floor and dr per size; the table shows medians")
		fs.StringVar(&opts.volumeSize, "volume-size", "1GiB", "size of the volume whose capture is timed against docker cp")
		fs.StringVar(&opts.image, "image", envOr("DR_TEST_IMAGE", "dr-test/mariadb:10.11"), "MariaDB image")
		fs.StringVar(&opts.dr, "dr", "bin/dr", "dr binary to measure (make build)")
		fs.StringVar(&opts.before, "before", "", "an older dr binary to measure in the same rounds (paired), as the baseline of a change")
		fs.IntVar(&opts.zstdLevel, "zstd-level", 0, "dr's archive.zstd_level (0: dr's default)")
		fs.StringVar(&opts.profileDir, "cpuprofile", "", "directory to write a CPU profile of every dr run into (go tool pprof reads them)")
		fs.StringVar(&opts.only, "only", "", "comma-separated methods to run: floor:, classic, mariadb-dump (pg_dump), dr, volume (default all)")
		engineFlag(fs, &opts)
		_ = fs.Parse(os.Args[2:])
		err = opts.setEngine()
		if err == nil {
			err = runBackupBench(ctx, opts)
		}
	case "restore":
		fs := flag.NewFlagSet("restore", flag.ExitOnError)
		opts := restoreBenchOptions{}
		sizes := fs.String("size", "300MiB,1GiB", "approximate sizes of the generated dump, comma-separated; each gets a database of its own")
		fs.IntVar(&opts.runs, "runs", 3, "runs of each method per size (the table shows medians)")
		fs.BoolVar(&opts.rto, "rto", false, "also time the server-lost runbook end to end (removes the database container)")
		fs.StringVar(&opts.image, "image", envOr("DR_TEST_IMAGE", "dr-test/mariadb:10.11"), "MariaDB image")
		fs.StringVar(&opts.dr, "dr", "bin/dr", "dr binary to measure (make build)")
		fs.IntVar(&opts.many.tables, "tables", 0, "instead, a database of this many collections (each with its permissions table), restored at restore.import_connections 1 and --connections")
		conns := fs.String("connections", "2,3", "with --tables: the restore.import_connections values measured beside 1, comma-separated")
		engineFlag(fs, &opts.backupBenchOptions)
		_ = fs.Parse(os.Args[2:])
		opts.sizes = strings.Split(*sizes, ",")
		if err = opts.setEngine(); err != nil {
			break
		}
		if opts.many.tables > 0 && opts.postgres {
			err = fmt.Errorf("--tables measures MariaDB's parallel import; it has no PostgreSQL form")
			break
		}
		if opts.many.tables > 0 {
			if opts.many.connections, err = parseInts(*conns); err != nil {
				err = fmt.Errorf("--connections: %w", err)
				break
			}
			err = runManyTablesBench(ctx, opts)
			break
		}
		err = runRestoreBench(ctx, opts)
	case "volumes":
		fs := flag.NewFlagSet("volumes", flag.ExitOnError)
		opts := volumesBenchOptions{}
		fs.StringVar(&opts.sizes, "size", "1GiB,4GiB", "sizes of the volume of 1 MiB random files, comma-separated")
		fs.StringVar(&opts.dbSize, "db-size", "100MiB", "approximate dump size of the stack's database, backed up by every dr run")
		fs.StringVar(&opts.image, "image", envOr("DR_TEST_IMAGE", "dr-test/mariadb:10.11"), "MariaDB image (also the volume helpers')")
		fs.StringVar(&opts.dr, "dr", "bin/dr", "dr binary to measure (make build)")
		fs.StringVar(&opts.logsDir, "logs", "", "directory to keep every dr run's JSON log in")
		fs.StringVar(&opts.profileDir, "cpuprofile", "", "directory to write a CPU profile of every dr run into (go tool pprof reads them)")
		_ = fs.Parse(os.Args[2:])
		err = runIncrementalBench(ctx, opts)
	default:
		err = fmt.Errorf("unknown benchmark %q (have: backup, restore, volumes)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// engineFlag adds --engine: which database the bench stack runs.
func engineFlag(fs *flag.FlagSet, opts *backupBenchOptions) {
	fs.StringVar(&opts.engine, "engine", "mariadb", "the bench database: mariadb or postgresql (--image then defaults to DR_TEST_PG_IMAGE or dr-test/postgres:15)")
}

// setEngine checks --engine and picks the PostgreSQL image when --image
// was left at its MariaDB default.
func (o *backupBenchOptions) setEngine() error {
	switch o.engine {
	case "mariadb":
	case "postgresql":
		o.postgres = true
		if o.image == envOr("DR_TEST_IMAGE", "dr-test/mariadb:10.11") {
			o.image = envOr("DR_TEST_PG_IMAGE", "dr-test/postgres:15")
		}
	default:
		return fmt.Errorf("--engine %q: want mariadb or postgresql", o.engine)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
