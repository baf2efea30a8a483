package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/appwrite-dr/dr/internal/golden"
)

// cliDocsDir is docs/cli, seen from cmd/dr.
var cliDocsDir = filepath.Join("..", "..", "docs", "cli")

const cliDocsRegenerate = "make docs (or go test ./cmd/dr -run TestCLIDocsAreCurrent -update)"

// cliDocsHeader starts every generated page.
const cliDocsHeader = "<!-- Generated from dr's commands by `make docs`: do not edit. -->\n\n"

// cliDocs renders docs/cli in memory: one page per command (cobra's
// Markdown, without its dated footer) named as cobra names them
// (dr_backup.md, dr_runbook_run.md), and README.md, the index. The root
// command is built as execute builds it, with the completion command
// cobra adds when it runs.
//
// cobra adds pflag.CommandLine to the root's global flags. In dr that set
// is empty, but in this test binary rclone's serve packages (the test
// servers of storagetest) have put --stats and --memprofile in it, so it
// is swapped for an empty one while the pages are made.
func cliDocs() (map[string]string, error) {
	saved := pflag.CommandLine
	pflag.CommandLine = pflag.NewFlagSet("dr", pflag.ContinueOnError)
	defer func() { pflag.CommandLine = saved }()
	a := &app{
		streams: streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard},
		getenv:  func(string) string { return "" },
	}
	root := newRootCommand(a)
	root.InitDefaultCompletionCmd()
	pages := map[string]string{}
	var index strings.Builder
	index.WriteString(cliDocsHeader)
	index.WriteString(`# dr's commands

One page per command, made from the help the commands print
(` + "`dr help COMMAND`" + ` says the same offline). Each of dr's own commands ends
its help with the exit codes it can return. The guides explain what the
flags are for: start at the [map of the docs](../../README.md#documentation)
or at [the commands by task](../commands.md).

| command | what it does |
|---|---|
`)
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		c.DisableAutoGenTag = true
		c.Long = fenceIndented(c.Long)
		var page bytes.Buffer
		page.WriteString(cliDocsHeader)
		if err := doc.GenMarkdownCustom(c, &page, func(s string) string { return s }); err != nil {
			return err
		}
		name := cliDocName(c)
		pages[name] = page.String()
		fmt.Fprintf(&index, "| [`%s`](%s) | %s |\n", c.CommandPath(), name, c.Short)
		children := c.Commands()
		slices.SortFunc(children, func(x, y *cobra.Command) int { return strings.Compare(x.Name(), y.Name()) })
		for _, child := range children {
			if !child.IsAvailableCommand() || child.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := walk(child); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	pages["README.md"] = index.String()
	return pages, nil
}

// fenceIndented puts the help's indented blocks (the exit codes, the
// examples in a command's text) in code fences, which Markdown would
// otherwise run together into one paragraph.
func fenceIndented(long string) string {
	var b strings.Builder
	in := false
	for line := range strings.SplitSeq(long, "\n") {
		indented := strings.HasPrefix(line, "  ")
		if indented != in {
			b.WriteString("```\n")
			in = indented
		}
		b.WriteString(line + "\n")
	}
	if in {
		b.WriteString("```\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// cliDocName is the file cobra's links point to for c.
func cliDocName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

// TestCLIDocsAreCurrent keeps docs/cli equal to what the commands render:
// a changed flag or help text, a new command or a removed one makes it
// fail, naming the file, until the docs are regenerated.
func TestCLIDocsAreCurrent(t *testing.T) {
	want, err := cliDocs()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	entries, err := os.ReadDir(cliDocsDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".md") {
			have[e.Name()] = true
		}
	}
	// -update is internal/golden's flag, shared with any golden file of
	// this package.
	if golden.Update() {
		if err := os.MkdirAll(cliDocsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name := range have {
			if _, ok := want[name]; !ok {
				if err := os.Remove(filepath.Join(cliDocsDir, name)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, body := range want {
			if err := os.WriteFile(filepath.Join(cliDocsDir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(cliDocsDir, name))
		switch {
		case os.IsNotExist(err):
			t.Errorf("docs/cli/%s is missing: run %s", name, cliDocsRegenerate)
		case err != nil:
			t.Error(err)
		case string(got) != want[name]:
			t.Errorf("docs/cli/%s is stale: run %s", name, cliDocsRegenerate)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/cli/%s documents no command: run %s", name, cliDocsRegenerate)
		}
	}
}

// TestCLIDocsAreDeterministic renders the docs twice, in another
// environment the second time: no date, host, directory or variable may
// leak into a page.
func TestCLIDocsAreDeterministic(t *testing.T) {
	first, err := cliDocs()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DR_CONFIG", "/elsewhere/dr.yaml")
	second, err := cliDocs()
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range first {
		if second[name] != body {
			t.Errorf("docs/cli/%s differs between two renderings", name)
		}
		if strings.Contains(body, "Auto generated") {
			t.Errorf("docs/cli/%s carries cobra's dated footer", name)
		}
	}
	if len(first) != len(second) {
		t.Errorf("%d pages, then %d", len(first), len(second))
	}
}
