package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// docs/scripting.md is the contract scripts rely on: every command that
// takes --json has a section there, and its table of exit codes says
// what each command's help says.
func TestScriptingDocCoversEveryJSONCommandAndExitCode(t *testing.T) {
	data, err := os.ReadFile("../../docs/scripting.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("json") != nil {
			heading := regexp.MustCompile(`(?m)^### .*\b` + regexp.QuoteMeta(c.CommandPath()) + `\b`)
			if !heading.MatchString(doc) {
				t.Errorf("%s takes --json but docs/scripting.md has no section for it", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand(&app{}))

	for _, path := range []string{"dr backup", "dr prune", "dr pin", "dr unpin", "dr restore", "dr drill", "dr drill cleanup", "dr runbook run", "dr aside undo", "dr aside drop", "dr daemon"} {
		var codes []string
		for _, c := range exitCodesOf(path) {
			codes = append(codes, fmt.Sprint(c))
		}
		row := regexp.MustCompile("(?m)^\\|[^|\\n]*`" + regexp.QuoteMeta(path) + "`[^|\\n]*\\| " + strings.Join(codes, " ") + "( |\\b)")
		if !row.MatchString(doc) {
			t.Errorf("docs/scripting.md does not list %s with exit codes %s", path, strings.Join(codes, " "))
		}
	}
}
