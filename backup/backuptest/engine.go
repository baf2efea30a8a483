// Package backuptest is a fake of the Docker engine for tests of what a
// backup run decides, in this package's tests and in the use cases'
// above it: one running MariaDB container that answers the queries a
// backup makes and streams a small, complete dump, in milliseconds.
package backuptest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/engine"
)

// Engine is a stack of one running MariaDB container, without Docker:
// it answers the queries a backup makes and streams a small, complete
// dump. Tests of what a run decides (which destination commits, which is
// named) use it with in-memory destinations and run in milliseconds.
type Engine struct {
	Project string
	// rows in the dump's one table; its lines are incompressible enough
	// that the archive is larger than the faults' byte offsets.
	Rows int
	// brokenView, when set, is a view of appwrite whose table was dropped:
	// CHECK TABLE says so, and the dump fails on it unless it is ignored,
	// as mariadb-dump does.
	BrokenView string
	// versioned, when set, is a system-versioned table of appwrite;
	// noDumpHistory makes the dump client one without --dump-history.
	Versioned     string
	NoDumpHistory bool
	// CutDump makes the dump end before its completion trailer although
	// the client exits 0, which the engine can report for a client the
	// container's end killed; StoppedUnder is then what StoppedSince
	// answers (nil: the container still runs).
	CutDump      bool
	StoppedUnder *engine.ContainerStoppedError
	// dumpArgs are the last dump's client arguments.
	DumpArgs []string
}

const DBID = "db0"

func (f *Engine) FindStack(_ context.Context, project, dbService string) (*engine.Stack, error) {
	if project != f.Project {
		return nil, fmt.Errorf("no compose project %q", project)
	}
	return &engine.Stack{Project: project, Containers: []engine.Container{
		{ID: DBID, Name: project + "-" + dbService + "-1", Service: dbService, Image: "mariadb:10.11", ImageID: "sha256:fake", Running: true},
	}}, nil
}

func (f *Engine) ImageDigest(context.Context, string) (string, error) {
	return "mariadb@sha256:" + strings.Repeat("0", 64), nil
}

func (f *Engine) EnvKeys(context.Context, string) ([]string, error) {
	return []string{"MARIADB_ROOT_PASSWORD"}, nil
}

func (f *Engine) FindComposeVolume(_ context.Context, _, key string) (*engine.VolumeInfo, error) {
	return nil, fmt.Errorf("%s: %w", key, engine.ErrVolumeNotFound)
}

func (f *Engine) VolumeMounts(context.Context, *engine.Stack) ([]engine.VolumeMount, error) {
	return nil, nil
}

func (f *Engine) OpenVolumes(context.Context, []string, string) ([]engine.VolumeReader, error) {
	return nil, errors.New("the fake stack has no volumes")
}

func (f *Engine) StopServices(context.Context, *engine.Stack, []string, time.Duration) ([]string, error) {
	return nil, nil
}

func (f *Engine) StartServices(context.Context, *engine.Stack, []string) error { return nil }

// Exec answers the mariadb package's scripts by the name each passes as
// $0: "dr-inspect" and "dr-dump".
func (f *Engine) Exec(_ context.Context, id string, opts engine.ExecOptions) (*engine.ExecResult, error) {
	if id != DBID {
		return nil, fmt.Errorf("no container %s", id)
	}
	out := opts.Stdout
	if out == nil {
		out = io.Discard
	}
	var text string
	switch {
	case len(opts.Cmd) >= 5 && opts.Cmd[3] == "dr-inspect":
		text = "mariadb-dump\nmariadb-dump  Ver 10.19 Distrib 10.11.9-MariaDB, for debian-linux-gnu (x86_64)\n"
		if !f.NoDumpHistory {
			text += "option --dump-history\n"
		}
		text += "--dr-inspect--\n" +
			"version\t10.11.9-MariaDB\n" +
			"schema\tappwrite\nschema\tinformation_schema\nschema\tmysql\n" +
			"table\tappwrite\t_console_users\tInnoDB\tBASE TABLE\n"
		if f.Versioned != "" {
			text += "table\tappwrite\t" + f.Versioned + "\tInnoDB\tSYSTEM VERSIONED\n"
		}
		if f.BrokenView != "" {
			text += "view\tappwrite\t" + f.BrokenView + "\n"
		}
	case len(opts.Cmd) >= 5 && opts.Cmd[3] == "dr-query" && strings.HasPrefix(opts.Cmd[4], "CHECK TABLE "):
		text = "appwrite." + f.BrokenView + "\tcheck\tError\tTable 'appwrite.gone' doesn't exist\n"
	case len(opts.Cmd) >= 5 && opts.Cmd[3] == "dr-query" && strings.HasPrefix(opts.Cmd[4], "SHOW CREATE VIEW "):
		text = f.BrokenView + "\tCREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `appwrite`.`" + f.BrokenView + "` AS select `appwrite`.`gone`.`x` AS `x` from `appwrite`.`gone`\tutf8mb3\tutf8mb3_general_ci\n"
	case len(opts.Cmd) >= 5 && opts.Cmd[3] == "dr-query" && strings.Contains(opts.Cmd[4], "'ROW START'"):
		text = "" // no transaction-precise table
	case len(opts.Cmd) >= 4 && opts.Cmd[3] == "dr-dump":
		f.DumpArgs = opts.Cmd[4:]
		if f.BrokenView != "" && !slices.Contains(f.DumpArgs, "--ignore-table=appwrite."+f.BrokenView) {
			return &engine.ExecResult{ExitCode: 2, Stderr: "mariadb-dump: Couldn't execute 'SHOW FIELDS FROM `" + f.BrokenView + "`': View 'appwrite." + f.BrokenView + "' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them (1356)"}, nil
		}
		return &engine.ExecResult{}, f.dump(out)
	default:
		return &engine.ExecResult{ExitCode: 127, Stderr: "fake: unexpected command"}, nil
	}
	_, err := io.WriteString(out, text)
	return &engine.ExecResult{}, err
}

func (f *Engine) dump(w io.Writer) error {
	var b strings.Builder
	b.WriteString("-- MariaDB dump 10.19  Distrib 10.11.9-MariaDB\n")
	b.WriteString("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `appwrite`;\nUSE `appwrite`;\n")
	b.WriteString("DROP TABLE IF EXISTS `_console_users`;\nCREATE TABLE `_console_users` (\n  `id` int NOT NULL,\n  `v` varchar(64) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n")
	for i := range f.Rows {
		fmt.Fprintf(&b, "INSERT INTO `_console_users` VALUES (%d,'%x');\n", i, sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	if f.Versioned != "" {
		fmt.Fprintf(&b, "CREATE TABLE `%s` (\n  `id` int NOT NULL\n) ENGINE=InnoDB WITH SYSTEM VERSIONING;\n", f.Versioned)
		// With its history, two versions of one row; without, the current one.
		if slices.Contains(f.DumpArgs, "--dump-history") {
			fmt.Fprintf(&b, "INSERT INTO `%s` (`id`, row_start, row_end) VALUES (1,'2026-11-25 07:00:00.000000','2026-11-25 07:30:00.000000'),(2,'2026-11-25 07:30:00.000000','2038-01-19 03:14:07.999999');\n", f.Versioned)
		} else {
			fmt.Fprintf(&b, "INSERT INTO `%s` VALUES (2);\n", f.Versioned)
		}
	}
	if !f.CutDump {
		b.WriteString("-- Dump completed on 2026-11-25  8:00:00\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Config is a config for the fake stack, with its compose file, no
// volumes and no destinations (the tests open theirs).
func Config(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Stack.Project = "fake"
	cfg.Stack.Dir = t.TempDir()
	cfg.Stack.Files = []string{"docker-compose.yml"}
	cfg.Stack.Volumes = nil
	cfg.StateDir = t.TempDir()
	cfg.Archive.ChunkSize = 64 << 10
	if err := os.WriteFile(filepath.Join(cfg.Stack.Dir, "docker-compose.yml"), []byte("services: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// RemoveLabelled: the fake stack has no leftovers of killed runs.
func (f *Engine) RemoveLabelled(context.Context, string) ([]string, []string, error) {
	return nil, nil, nil
}

// NoteStart notes nothing: the fake container never restarts.
func (f *Engine) NoteStart(context.Context, string) engine.ExecStart { return engine.ExecStart{} }

// StoppedSince answers StoppedUnder.
func (f *Engine) StoppedSince(context.Context, string, engine.ExecStart) *engine.ContainerStoppedError {
	return f.StoppedUnder
}
