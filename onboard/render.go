package onboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/internal/privatefile"
)

// DefaultConfigPath is where dr init writes, and where the systemd unit in
// deploy/ reads (DR_CONFIG=/etc/dr/dr.yaml).
const DefaultConfigPath = "/etc/dr/dr.yaml"

// ConfigInput is what the written dr.yaml says besides the stack.
type ConfigInput struct {
	Stack *Stack
	// Destination is an rclone remote path; empty means a directory on
	// this host, named in the file as the first thing to change.
	Destination string
}

// DefaultDestination is the remote written when none is given.
func DefaultDestination(project string) string { return "/var/backups/" + project }

var configTemplate = template.Must(template.New("dr.yaml").Funcs(template.FuncMap{"q": quote, "list": quoteList}).Parse(
	`# dr.yaml for compose project {{q .Stack.Project}}, written by dr init.
# Every key is explained in config/dr.example.yaml and docs/configuration.md; check this
# file with: dr config check, then dr doctor.

stack:
  project: {{q .Stack.Project}}
  # Where the compose files and .env live on this host.
  dir: {{q .Stack.Dir}}
  # Archived from stack.dir; a listed file that is missing fails the backup.
  files: {{list .Stack.Files}}
  database:
    service: {{q .Stack.DBService}}   # image {{.Stack.DBImage}}
    kind: auto
    databases: []          # []: every database but the server's own
  # The named volumes the stack mounts, copied into every backup.
  volumes: {{list .Stack.Volumes}}
{{- range .Stack.Skipped}}
  # left out: {{.Name}} — {{.Reason}}
{{- end}}
  exclude_volumes: {{list .Exclude}}

destinations:
  - name: {{.DestName}}
{{- if .DefaultDest}}
    # A directory on this host survives neither a lost nor a hacked server:
    # point this (or a second destination) at an off-host rclone remote,
    # e.g. s3:bucket/appwrite or sftp-host:backups.
{{- end}}
    remote: {{q .Remote}}
    retention:
      keep_last: 7
      keep_daily: 14
      keep_weekly: 8
      keep_monthly: 12
      mode: prune          # append-only: this host never deletes (prune elsewhere)

# age public keys (age1…): with one, every archive is encrypted and this
# host cannot read old backups. dr keygen makes a key pair and prints the
# line to put here; keep its private half off this host.
encryption:
  recipients: []

schedule:
  backup: "0 3 * * *"      # daily at 03:00
  drill: "0 4 * * 0"       # Sundays at 04:00
  timezone: UTC

state_dir: /var/lib/dr
`))

// quote writes a string as a YAML scalar: JSON's double-quoted strings are
// valid YAML, so any path or name survives.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var nonName = regexp.MustCompile(`[^a-z0-9_-]+`)

// destinationName names a destination after its rclone remote ("s3" for
// s3:bucket/x), or "local" for a path on this host.
func destinationName(remote string) string {
	name, _, ok := strings.Cut(remote, ":")
	if !ok || strings.HasPrefix(remote, "/") || name == "" {
		return "local"
	}
	name = strings.Trim(nonName.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if name == "" {
		return "offsite"
	}
	return name
}

// RenderConfig writes the commented dr.yaml for a discovered stack. The
// result is checked with the same loader dr config check uses, so a file
// dr init writes is always one dr accepts.
func RenderConfig(in ConfigInput) ([]byte, error) {
	remote, defaulted := in.Destination, false
	if remote == "" {
		remote, defaulted = DefaultDestination(in.Stack.Project), true
	}
	var buf bytes.Buffer
	err := configTemplate.Execute(&buf, map[string]any{
		"Stack":       in.Stack,
		"Exclude":     config.DefaultExcludedVolumes(),
		"DestName":    destinationName(remote),
		"Remote":      remote,
		"DefaultDest": defaulted,
	})
	if err != nil {
		return nil, fmt.Errorf("rendering dr.yaml: %w", err)
	}
	noEnv := func(string) string { return "" }
	if _, err := config.Parse(buf.Bytes(), "dr.yaml", noEnv); err != nil {
		return nil, fmt.Errorf("the dr.yaml dr init made does not load (a bug in dr init; please report it): %w", err)
	}
	return buf.Bytes(), nil
}

// ErrExists says the config file is there already and --force was not given.
var ErrExists = privatefile.ErrExists

// WriteFile writes data to path with mode 0600, never half: it goes to a
// temporary file beside path first. Without force an existing path is left
// alone.
func WriteFile(path string, data []byte, force bool) error {
	err := privatefile.Write(path, data, force)
	if errors.Is(err, privatefile.ErrExists) {
		return fmt.Errorf("%w; dr never overwrites it without --force (or write elsewhere with --out FILE)", err)
	}
	return err
}
