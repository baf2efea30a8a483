// Package runbook holds the crisis runbooks: each is data (what the crisis
// is, when to use it, what happens) plus steps that dr runs in order with a
// numbered log, stopping at the first failure with what to do next. Steps
// are idempotent, so running a runbook again after fixing the cause goes on
// safely. docs/RUNBOOKS.md is generated from these definitions.
package runbook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/restore"
	"github.com/appwrite-dr/dr/scan"
	"github.com/appwrite-dr/dr/storage"
)

// Runbook is one crisis and how dr recovers from it.
type Runbook struct {
	ID    string
	Title string
	// Crisis describes the situation; When says how to recognise it.
	Crisis string
	When   string
	// Usage is the command line, for the docs.
	Usage string
	Steps []Step
	// Checklist is printed when the runbook has run (hardening after a
	// breach, say).
	Checklist []string
}

// Step is one idempotent step of a runbook.
type Step struct {
	Title string
	// Does says what the step does, for show and the docs.
	Does string
	// OnFailure says what to do when the step fails.
	OnFailure string
	Run       func(ctx context.Context, env *Env) error
}

// Env is what the steps of one run share.
type Env struct {
	// Steps is what Run carried out, step by step, for dr runbook run
	// --json; Run fills it.
	Steps        []StepOutcome
	Engine       restore.Engine
	Config       *config.Config
	Destinations []*storage.Destination
	Identities   []age.Identity
	// Before picks the newest backup taken before it (hacked); zero: the
	// newest.
	Before time.Time
	// Volumes restricts volumes-missing to these; empty means all.
	Volumes []string
	// Compose runs docker compose (or docker-compose) in the stack dir.
	Compose Composer
	Out     io.Writer
	Logger  *slog.Logger
	// WaitTimeout bounds how long the database may take to accept
	// connections after it is started.
	WaitTimeout time.Duration
	// NoSafetyDump imports without saving the current database first: the
	// operator's choice when the damage is what prevents the dump.
	NoSafetyDump bool
	// Command runs the runbook again; a restore journal records it.
	Command string
	// Confirm asks the operator whether to go on after a step showed
	// something to decide on (the hacked runbook's diff); an error stops
	// the run. Nil goes on.
	Confirm func(what string) error
	// AllowVersionChange restores a backup of another Appwrite version
	// than the stack runs (--allow-version-change).
	AllowVersionChange bool
	// KeepInfected restores the files the malware scan found infected
	// instead of leaving them out (hacked).
	KeepInfected bool

	// backup is the backup picked by the first step; later steps use it.
	backup string
	// source is the destination whose copy the first step verified: the
	// later steps read that copy.
	source   string
	project  string
	manifest *archive.Manifest
	results  []*restore.Result
	// acrossVersions lets the restores go into a stack running another
	// Appwrite version: the upgrade-failed runbook's whole point. Its
	// database restore also takes a safety dump rather than moving tables
	// aside (Request.SafetyDump).
	acrossVersions bool
	// scan is what the malware scan found; exclude the files the volume
	// restore leaves out.
	scan    *scan.Report
	exclude []string
}

// Composer runs compose commands for a stack directory and project.
type Composer interface {
	Up(ctx context.Context, dir, project string, services ...string) error
}

// Backup is the backup the run restores from, once picked.
func (e *Env) Backup() string { return e.backup }

// Scan is what the malware scan of the uploads found, or nil.
func (e *Env) Scan() *scan.Report { return e.scan }

// Results are the restores the run carried out.
func (e *Env) Results() []*restore.Result { return e.results }

// StepError is the failure of one step, with what to do next.
type StepError struct {
	Runbook   string
	Number    int
	Title     string
	OnFailure string
	Err       error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("runbook %s stopped at step %d (%s): %v\nwhat to do: %s\nthen run the runbook again: the steps before this one are safe to repeat",
		e.Runbook, e.Number, e.Title, e.Err, e.OnFailure)
}

func (e *StepError) Unwrap() error { return e.Err }

// StepOutcome is one step as a run carried it out.
type StepOutcome struct {
	Number  int     `json:"number"`
	Title   string  `json:"title"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// Run carries out the runbook's steps in order, logging each numbered step
// to env.Out, and stops at the first failure.
func Run(ctx context.Context, rb *Runbook, env *Env) error {
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if env.WaitTimeout == 0 {
		env.WaitTimeout = 3 * time.Minute
	}
	total := len(rb.Steps)
	fmt.Fprintf(env.Out, "runbook %s: %s\n", rb.ID, rb.Title)
	for i, st := range rb.Steps {
		n := i + 1
		fmt.Fprintf(env.Out, "[%d/%d] %s\n", n, total, st.Title)
		started := time.Now()
		err := st.Run(ctx, env)
		outcome := StepOutcome{Number: n, Title: st.Title, Seconds: time.Since(started).Round(time.Millisecond).Seconds()}
		if err != nil {
			outcome.Error = err.Error()
		}
		env.Steps = append(env.Steps, outcome)
		if err != nil {
			fmt.Fprintf(env.Out, "[%d/%d] FAILED after %s: %v\n", n, total, time.Since(started).Round(100*time.Millisecond), err)
			return &StepError{Runbook: rb.ID, Number: n, Title: st.Title, OnFailure: st.OnFailure, Err: err}
		}
		fmt.Fprintf(env.Out, "[%d/%d] done in %s\n", n, total, time.Since(started).Round(100*time.Millisecond))
	}
	fmt.Fprintf(env.Out, "runbook %s: all %d steps done; restored from %s\n", rb.ID, total, env.backup)
	if len(rb.Checklist) > 0 {
		fmt.Fprintln(env.Out, "\nnow, by hand:")
		for i, c := range rb.Checklist {
			fmt.Fprintf(env.Out, "  %d. %s\n", i+1, c)
		}
	}
	return nil
}

// All are the runbooks, in the order dr runbook list shows them.
func All() []*Runbook {
	return []*Runbook{serverLost(), hacked(), dbCorrupted(), volumesMissing(), upgradeFailed()}
}

// Find returns the runbook with the id.
func Find(id string) (*Runbook, error) {
	var ids []string
	for _, rb := range All() {
		if rb.ID == id {
			return rb, nil
		}
		ids = append(ids, rb.ID)
	}
	return nil, fmt.Errorf("no runbook %q (there are: %s)", id, strings.Join(ids, ", "))
}

// Markdown renders runbooks as docs/RUNBOOKS.md.
func Markdown(rbs []*Runbook) string {
	var b strings.Builder
	b.WriteString("# Runbooks\n\n")
	b.WriteString("<!-- Generated from restore/runbook by `go test ./restore/runbook -update`; do not edit. -->\n\n")
	b.WriteString("Each crisis has a runbook that `dr runbook show ID` prints and `dr runbook run ID` carries out, step by step, with a numbered log. A run stops at the first failed step and says what to do; every step is safe to repeat, so after fixing the cause, run the runbook again.\n\n")
	b.WriteString("| runbook | crisis |\n|---|---|\n")
	for _, rb := range rbs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", rb.ID, rb.ID, rb.Title)
	}
	for _, rb := range rbs {
		b.WriteString("\n")
		b.WriteString(Text(rb, "## "))
	}
	return b.String()
}

// Text renders one runbook: what dr runbook show prints, and its section
// of the docs.
func Text(rb *Runbook, heading string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\n\n", heading, rb.ID)
	fmt.Fprintf(&b, "**%s.** %s\n\n", rb.Title, rb.Crisis)
	fmt.Fprintf(&b, "When: %s\n\n", rb.When)
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", rb.Usage)
	b.WriteString("Steps:\n\n")
	for i, st := range rb.Steps {
		fmt.Fprintf(&b, "%d. **%s.** %s If it fails: %s\n", i+1, st.Title, st.Does, st.OnFailure)
	}
	if len(rb.Checklist) > 0 {
		b.WriteString("\nAfterwards, by hand:\n\n")
		for _, c := range rb.Checklist {
			fmt.Fprintf(&b, "- [ ] %s\n", c)
		}
	}
	return b.String()
}
