package config

import (
	"bytes"
	"encoding"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/appwrite-dr/dr/dbkind"
)

// Error is one problem in the configuration, located by key and line.
type Error struct {
	Path string // the file, or "" for an environment override
	Line int    // 0 when unknown
	Key  string // e.g. stack.database.service, or DR_STATE_DIR
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one load, so an operator fixes them all
// in one go. errors.As(err, *Error) finds the first.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems in the configuration:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// ResolvePath finds the config file: the --config flag, else $DR_CONFIG,
// else ./dr.yaml, else /etc/dr/dr.yaml.
func ResolvePath(flag string, getenv func(string) string, exists func(string) bool) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := getenv("DR_CONFIG"); env != "" {
		return env, nil
	}
	for _, p := range []string{"dr.yaml", "/etc/dr/dr.yaml"} {
		if exists(p) {
			return p, nil
		}
	}
	return "", &Error{Msg: "no config file: tried --config, $DR_CONFIG, ./dr.yaml and /etc/dr/dr.yaml; write one (docs/configuration.md has a complete example) and pass it with --config"}
}

// Limits on what the loader accepts. A dr.yaml is a few KiB; these stop a
// mistaken or hostile file (a 15 MB list, an alias bomb) from costing
// seconds of CPU and gigabytes of memory before it is refused.
const (
	// MaxFileSize is the largest config file read.
	MaxFileSize = 1 << 20
	// maxListLen bounds every list (destinations, volumes, recipients, …).
	maxListLen = 1000
	// maxValues bounds the values of the whole document, counted with
	// every alias expanded where it is used.
	maxValues = 100_000
	// MinIncompleteGrace is the shortest retention.incomplete_grace: an
	// upload from another host sharing the destination is an archive
	// without a sidecar until it commits, and a large one takes hours.
	MinIncompleteGrace = time.Hour
	// MinTimeout and MaxTimeout bound destinations[].timeout: under a
	// second a busy remote fails for nothing; over an hour a dead one
	// holds a scheduled run past the next.
	MinTimeout = time.Second
	MaxTimeout = time.Hour
)

// Load reads, defaults, overrides from the environment, and validates.
func Load(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("reading the config file: %v", err)}
	}
	defer f.Close()
	// Read one byte past the limit to tell "at the limit" from "over it"
	// without trusting Stat (a pipe or /proc file has no size).
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("reading the config file: %v", err)}
	}
	return Parse(data, path, getenv)
}

// Parse is Load on bytes; name is used in error messages.
func Parse(data []byte, name string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{Path: name, Msg: fmt.Sprintf("the config file is larger than %d KiB; a dr.yaml is a few KiB, so this is not one (check the path)", MaxFileSize>>10)}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Errors{{Path: name, Msg: "the config file is empty; at least stack.dir and one destination are needed"}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlSyntaxError(err)
		return nil, Errors{{Path: name, Line: line, Msg: "not valid YAML: " + msg}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.DocumentNode || root.Tag == "!!null" {
		// Only comments, or a lone "~": as empty as a blank file.
		return nil, Errors{{Path: name, Msg: "the config file is empty; at least stack.dir and one destination are needed"}}
	}
	l := &loader{file: name, lines: map[string]int{}, env: map[string]string{}, budget: maxValues, fields: map[reflect.Type]map[string]reflect.StructField{}}
	l.check(root, reflect.TypeOf(Config{}), "")
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	cfg := Default()
	if err := root.Decode(cfg); err != nil {
		// check catches what it can with a key; what is left (an integer
		// too large for its field) still gets the line yaml knows.
		return nil, Errors{{Path: name, Line: yamlErrorLine(err), Msg: "decoding: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	for i := range cfg.Notify {
		if len(cfg.Notify[i].On) == 0 {
			// A target that names no event still hears about failures:
			// silence is the one wrong default for an alert.
			cfg.Notify[i].On = []string{"failure"}
		}
	}
	if _, set := l.lines["stack.database.service"]; !set && dbkind.IsPostgres(cfg.Stack.Database.Kind) {
		// Appwrite's name for the service, as mariadb is for the other.
		cfg.Stack.Database.Service = "postgresql"
	}
	l.applyEnv(cfg, getenv)
	l.validate(cfg)
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return cfg, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine is the line a decoding error of yaml names (those count
// from 1).
func yamlErrorLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// yamlSyntaxLineRe is the "yaml: line N: " a syntax error starts with.
var yamlSyntaxLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// yamlParserProblems are the problems yaml's parser (not its scanner)
// reports. yaml.v3 numbers a parser error's line from 0 and a scanner
// error's from 1 (see parser.fail in its decode.go), so a file whose
// block or list is cut short was reported one line above the block.
var yamlParserProblems = []string{
	"did not find expected key",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// yamlSyntaxError is the line (counted from 1, 0 when unknown) and the
// message of yaml's error for a file that is not valid YAML; the message
// no longer carries the line, which the error's location gives.
func yamlSyntaxError(err error) (int, string) {
	text := err.Error()
	m := yamlSyntaxLineRe.FindStringSubmatch(text)
	if m == nil {
		return 0, text
	}
	msg := text[len(m[0]):]
	line := 0
	if m[1] != "" {
		line, _ = strconv.Atoi(m[1])
	}
	if slices.Contains(yamlParserProblems, msg) {
		// With no line, both the problem and its context are on the
		// first line, which yaml numbers 0.
		line++
	}
	return line, msg
}

// UnmarshalYAML gives each destination the default retention for the keys
// it leaves out. An explicit empty block (retention: {}) is the empty
// policy, which deletes nothing: writing it is how an operator says so.
func (d *Destination) UnmarshalYAML(n *yaml.Node) error {
	type plain Destination
	p := plain{Retention: DefaultRetention(), Timeout: DefaultTimeout}
	if err := n.Decode(&p); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if n.Content[i].Value == "retention" && v.Kind == yaml.MappingNode && len(v.Content) == 0 {
			p.Retention = Retention{IncompleteGrace: DefaultRetention().IncompleteGrace, Mode: ModePrune}
		}
	}
	*d = Destination(p)
	return nil
}

type loader struct {
	file  string
	lines map[string]int    // key path -> line
	env   map[string]string // key path -> the DR_* variable that set it
	errs  Errors
	// budget is how many more values check may visit; aliases count each
	// time they are used, so an alias bomb runs it out instead of the CPU.
	budget int
	// fields caches yamlFields by type: building it for every mapping
	// was most of the time a large file took.
	fields map[reflect.Type]map[string]reflect.StructField
}

func (l *loader) add(key string, line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{Path: l.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// addAt reports a problem with a decoded value at the line its key had.
func (l *loader) addAt(key, format string, args ...any) {
	if name, ok := l.env[key]; ok {
		l.errs = append(l.errs, &Error{Key: name, Msg: fmt.Sprintf(format, args...)})
		return
	}
	l.add(key, l.lines[key], format, args...)
}

var textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

// check walks the YAML tree against the Go type, so that unknown keys and
// wrong types are reported with their key path and line before decoding.
func (l *loader) check(n *yaml.Node, t reflect.Type, path string) {
	if l.budget <= 0 {
		return
	}
	l.budget--
	if l.budget == 0 {
		l.add(path, n.Line, "the config has more than %d values (aliases counted where they are used); a dr.yaml has a few dozen", maxValues)
		return
	}
	if path != "" {
		l.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			l.add(path, n.Line, "want a single value, not a %s", kindName(n))
			return
		}
		v := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := v.UnmarshalText([]byte(n.Value)); err != nil {
			l.add(path, n.Line, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			l.add(path, n.Line, "want a mapping of keys, not a %s", kindName(n))
			return
		}
		fields, ok := l.fields[t]
		if !ok {
			fields = yamlFields(t)
			l.fields[t] = fields
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				msg := "unknown key"
				if s := closest(k.Value, fields); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
				l.add(key, k.Line, "%s", msg)
				continue
			}
			if seen[k.Value] {
				l.add(key, k.Line, "given twice")
				continue
			}
			seen[k.Value] = true
			l.check(v, f.Type, key)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			l.add(path, n.Line, "want a list, not a %s", kindName(n))
			return
		}
		if len(n.Content) > maxListLen {
			l.add(path, n.Line, "%d entries; at most %d are accepted", len(n.Content), maxListLen)
			return
		}
		for i, item := range n.Content {
			l.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			l.add(path, n.Line, "want a string, not a %s", kindName(n))
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			l.add(path, n.Line, "want a whole number, got %q", n.Value)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			l.add(path, n.Line, "want true or false, got %q", n.Value)
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "single value"
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag := strings.Split(f.Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out[tag] = f
		}
	}
	return out
}

// closest suggests the known key within two edits of an unknown one.
func closest(key string, fields map[string]reflect.StructField) string {
	best, bestDist := "", 3
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if d := editDistance(key, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// applyEnv overrides every scalar key from DR_<PATH>, e.g. DR_STATE_DIR or
// DR_STACK_DATABASE_SERVICE. Lists and destinations are not overridable:
// an environment variable cannot say which element it means.
func (l *loader) applyEnv(cfg *Config, getenv func(string) string) {
	var visit func(v reflect.Value, path string)
	visit = func(v reflect.Value, path string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			fv := v.Field(i)
			key := join(path, tag)
			if fv.Kind() == reflect.Struct && !reflect.PointerTo(fv.Type()).Implements(textUnmarshaler) {
				visit(fv, key)
				continue
			}
			if fv.Kind() == reflect.Slice {
				continue
			}
			name := EnvName(key)
			raw := getenv(name)
			if raw == "" {
				continue
			}
			if err := setScalar(fv, raw); err != nil {
				l.errs = append(l.errs, &Error{Key: name, Msg: err.Error()})
				continue
			}
			l.env[key] = name
		}
	}
	visit(reflect.ValueOf(cfg).Elem(), "")
}

// EnvName is the DR_* variable that overrides a key path.
func EnvName(key string) string {
	return "DR_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

func setScalar(v reflect.Value, raw string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(raw))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", raw)
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", raw)
		}
		v.SetBool(b)
	}
	return nil
}

// Destination names appear in object paths, metrics labels and flags, so
// they are kept to a set that needs no quoting anywhere.
var destinationName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// validate checks values the types cannot: required keys, ranges, cron
// expressions, zones, paths.
func (l *loader) validate(c *Config) {
	l.absolute("stack.dir", c.Stack.Dir)
	l.absolute("state_dir", c.StateDir)
	for i, f := range c.Stack.Files {
		key := fmt.Sprintf("stack.files[%d]", i)
		if f == "" || filepath.IsAbs(f) || strings.HasPrefix(filepath.Clean(f), "..") {
			l.addAt(key, "%q must be a path relative to stack.dir, inside it", f)
		}
	}
	if c.Stack.Database.Service == "" {
		l.addAt("stack.database.service", "must not be empty (the compose service of the database, e.g. mariadb)")
	}
	if !slices.Contains(dbkind.Configurable, c.Stack.Database.Kind) {
		l.addAt("stack.database.kind", "%q: want %s", c.Stack.Database.Kind, strings.Join(dbkind.Configurable, ", "))
	}
	l.volumeList("stack.volumes", c.Stack.Volumes)
	l.volumeList("stack.exclude_volumes", c.Stack.ExcludeVolumes)
	for i, v := range c.Stack.ExcludeVolumes {
		if slices.Contains(c.Stack.Volumes, v) {
			l.addAt(fmt.Sprintf("stack.exclude_volumes[%d]", i), "%q is also in stack.volumes; a volume is either backed up or excluded", v)
		}
	}

	if len(c.Destinations) == 0 {
		l.addAt("destinations", "at least one destination is needed, e.g. {name: local, remote: /var/backups/appwrite}")
	}
	names := map[string]bool{}
	for i, d := range c.Destinations {
		key := fmt.Sprintf("destinations[%d]", i)
		switch {
		case d.Name == "":
			l.addAt(key+".name", "must not be empty")
		case !destinationName.MatchString(d.Name):
			l.addAt(key+".name", "%q: use lower-case letters, digits, '-' and '_'", d.Name)
		case names[d.Name]:
			l.addAt(key+".name", "%q is used by another destination; names must be unique", d.Name)
		}
		names[d.Name] = true
		if strings.TrimSpace(d.Remote) == "" {
			l.addAt(key+".remote", "must not be empty (an rclone remote path, e.g. /var/backups/appwrite or gdrive:appwrite)")
		}
		if t := time.Duration(d.Timeout); t < MinTimeout || t > MaxTimeout {
			l.addAt(key+".timeout", "%s: want between %s and %s (how long a remote may leave a call unanswered before the destination counts as failed)",
				d.Timeout, Duration(MinTimeout), Duration(MaxTimeout))
		}
		r := d.Retention
		for _, k := range []struct {
			name string
			v    int
		}{{"keep_last", r.KeepLast}, {"keep_hourly", r.KeepHourly}, {"keep_daily", r.KeepDaily}, {"keep_weekly", r.KeepWeekly}, {"keep_monthly", r.KeepMonthly}, {"keep_yearly", r.KeepYearly}} {
			if k.v < 0 {
				l.addAt(key+".retention."+k.name, "must not be negative")
			}
		}
		if time.Duration(r.IncompleteGrace) < MinIncompleteGrace {
			l.addAt(key+".retention.incomplete_grace", "%s is too short: want at least %s, because an archive without a sidecar may be another host's upload still running, and pruning it breaks that backup",
				r.IncompleteGrace, Duration(MinIncompleteGrace))
		}
		if r.Mode != ModePrune && r.Mode != ModeAppendOnly {
			l.addAt(key+".retention.mode", "%q: want prune or append-only", r.Mode)
		}
	}

	for i, r := range c.Encryption.Recipients {
		if !strings.HasPrefix(r, "age1") && !strings.HasPrefix(r, "ssh-ed25519 ") && !strings.HasPrefix(r, "ssh-rsa ") {
			l.addAt(fmt.Sprintf("encryption.recipients[%d]", i), "%q is not an age public key (age1…) nor an ssh-ed25519/ssh-rsa public key; never put a private key here", abbreviate(r))
		}
	}

	if c.Archive.ChunkSize < 1<<20 || c.Archive.ChunkSize > 1<<30 {
		l.addAt("archive.chunk_size", "%s: want between 1MiB and 1GiB", c.Archive.ChunkSize)
	}
	if c.Archive.ZstdLevel < 0 || c.Archive.ZstdLevel > 22 {
		l.addAt("archive.zstd_level", "%d: want 0 (the default) or 1 to 22", c.Archive.ZstdLevel)
	}
	if c.Archive.Concurrency < 0 {
		l.addAt("archive.concurrency", "must not be negative (0 means one per CPU)")
	}
	if fe := time.Duration(c.Volumes.FullEvery); fe != 0 && fe < time.Hour {
		l.addAt("volumes.full_every", "%s: want 0 (never; dr backup --full does it by hand) or at least 1h, e.g. 30d", c.Volumes.FullEvery)
	}

	for _, s := range []struct{ key, spec string }{{"schedule.backup", c.Schedule.Backup}, {"schedule.drill", c.Schedule.Drill}, {"schedule.verify", c.Schedule.Verify}} {
		if s.spec == "" {
			continue
		}
		if _, err := cron.ParseStandard(s.spec); err != nil {
			l.addAt(s.key, "%q is not a cron expression: %v (five fields, e.g. \"0 8 * * *\", or @daily)", s.spec, err)
		}
	}
	if _, err := time.LoadLocation(c.Schedule.Timezone); err != nil || c.Schedule.Timezone == "" {
		l.addAt("schedule.timezone", "%q is not a time zone (use an IANA name such as UTC or Europe/Berlin)", c.Schedule.Timezone)
	}

	for i, n := range c.Notify {
		key := fmt.Sprintf("notify[%d]", i)
		if n.URL == "" {
			l.addAt(key+".url", "must not be empty")
		} else if u, err := url.Parse(n.URL); err != nil || u.Scheme == "" || (u.Scheme != "command" && u.Host == "" && u.Opaque == "" && u.User == nil) {
			// Which services exist is shoutrrr's to say: dr daemon checks
			// the scheme when it starts.
			l.addAt(key+".url", "want an http(s):// webhook, a shoutrrr URL (ntfy://, slack://, …) or command:/path/to/program")
		}
		for j, on := range n.On {
			switch on {
			case "failure", "success", "drill", "skipped":
			default:
				l.addAt(fmt.Sprintf("%s.on[%d]", key, j), "%q: want failure, success, drill or skipped", on)
			}
		}
	}

	for i, h := range c.Heartbeats {
		key := fmt.Sprintf("heartbeats[%d]", i)
		if h.Kind != HeartbeatUptimeKuma && h.Kind != HeartbeatHealthchecks {
			l.addAt(key+".kind", "%q: want %s or %s", h.Kind, HeartbeatUptimeKuma, HeartbeatHealthchecks)
		}
		if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.addAt(key+".url", "want the monitor's http(s):// URL")
		}
	}

	if c.Restore.KeepSafetyDumps < 1 {
		l.addAt("restore.keep_safety_dumps", "%d: want 1 or more (the dump a restore just made is always kept)", c.Restore.KeepSafetyDumps)
	}
	if time.Duration(c.Restore.UploadTolerance) < time.Minute {
		l.addAt("restore.upload_tolerance", "%s: want 1m or more (a backup uploads minutes to hours after the time in its name)", c.Restore.UploadTolerance)
	}
	if c.Restore.SafetyNet != SafetyNetAside && c.Restore.SafetyNet != SafetyNetDump {
		l.addAt("restore.safety_net", "%q: want %s (move the tables aside, the default) or %s (always a safety dump)", c.Restore.SafetyNet, SafetyNetAside, SafetyNetDump)
	}
	if c.Restore.KeepAside < 1 {
		l.addAt("restore.keep_aside", "%d: want 1 or more (the aside schemas a restore just made are always kept)", c.Restore.KeepAside)
	}
	if c.Restore.ImportConnections < 1 || c.Restore.ImportConnections > MaxImportConnections {
		l.addAt("restore.import_connections", "%d: want 1 (the dump as one stream) to %d (tables imported at once)", c.Restore.ImportConnections, MaxImportConnections)
	}

	if !(c.Drill.CPUs > 0) || c.Drill.CPUs > 1024 {
		l.addAt("drill.cpus", "%v: want a number of CPUs above 0, e.g. 1 or 0.5", c.Drill.CPUs)
	}
	if c.Drill.Memory < 256<<20 {
		l.addAt("drill.memory", "%s: want 256MiB or more (MariaDB needs that much to start and import)", c.Drill.Memory)
	}
	for i, q := range c.Drill.Queries {
		key := fmt.Sprintf("drill.queries[%d]", i)
		switch {
		case strings.TrimSpace(q.Name) == "":
			l.addAt(key+".name", "must not be empty (it names the check in the report)")
		case slices.ContainsFunc(c.Drill.Queries[:i], func(o DrillQuery) bool { return o.Name == q.Name }):
			l.addAt(key+".name", "%q is used twice", q.Name)
		}
		if strings.TrimSpace(q.SQL) == "" {
			l.addAt(key+".sql", "must not be empty")
		}
	}

	l.validateScan(c)

	if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		l.addAt("http.listen", "%q: want host:port, e.g. 127.0.0.1:9477", c.HTTP.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		l.addAt("http.listen", "%q: want a port number from 0 to 65535", c.HTTP.Listen)
	}
}

// volumeList checks a list of compose volume names: none empty, none twice.
func (l *loader) volumeList(key string, names []string) {
	for i, v := range names {
		switch {
		case strings.TrimSpace(v) == "":
			l.addAt(fmt.Sprintf("%s[%d]", key, i), "must not be empty")
		case slices.Contains(names[:i], v):
			l.addAt(fmt.Sprintf("%s[%d]", key, i), "%q is listed twice", v)
		}
	}
}

func (l *loader) absolute(key, path string) {
	switch {
	case path == "":
		l.addAt(key, "must not be empty")
	case !filepath.IsAbs(path):
		l.addAt(key, "%q must be an absolute path", path)
	}
}

func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
