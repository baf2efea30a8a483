package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/appwrite-dr/dr/archive"
	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/internal/headless"
	"github.com/appwrite-dr/dr/internal/teststack"
	"github.com/appwrite-dr/dr/lock"
	"github.com/appwrite-dr/dr/restore/journal"
)

// buildDr builds the dr binary for tests that need real signals.
func buildDr(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dr")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", bin, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback address nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// daemonProc is a running dr daemon and its log lines.
type daemonProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []string
	done chan error
}

func startDaemon(t *testing.T, bin, cfg string, args ...string) *daemonProc {
	t.Helper()
	c := exec.Command(bin, append([]string{"daemon", "--config", cfg}, args...)...)
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p := &daemonProc{cmd: c, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs = append(p.logs, sc.Text())
			p.mu.Unlock()
		}
		p.done <- c.Wait()
	}()
	t.Cleanup(func() {
		if c.ProcessState == nil {
			_ = c.Process.Kill()
		}
	})
	return p
}

// waitLog waits for a log line holding every one of want.
func (p *daemonProc) waitLog(t *testing.T, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, l := range p.logs {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(l, w)
			}
			if ok {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no log line with %q within %s:\n%s", want, timeout, p.allLogs())
	return ""
}

func (p *daemonProc) allLogs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// stop sends sig and returns the exit code.
func (p *daemonProc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatalf("the daemon did not exit within 60s of %v:\n%s", sig, p.allLogs())
		return -1
	}
}

func httpGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func daemonConfig(t *testing.T, s *teststack.Stack, schedule, listen, tokenFile string, extra ...string) (cfgPath, dest, state string) {
	t.Helper()
	dest = t.TempDir()
	state = filepath.Join(t.TempDir(), "state")
	body := fmt.Sprintf(`stack:
  project: %s
  dir: %s
destinations:
  - name: local
    remote: %s
archive: {chunk_size: 1MiB}
schedule: {backup: %q, drill: "", timezone: UTC}
http: {listen: %q, token_file: %q}
state_dir: %s
%s`, s.Project, s.Dir, dest, schedule, listen, tokenFile, state, strings.Join(extra, ""))
	return writeConfig(t, body), dest, state
}

// idleSchedule is a daily schedule (in UTC) whose run is 11 to 12 hours
// after now: a daemon started with it runs nothing while a test lasts
// unless the test starts the run itself.
func idleSchedule(now time.Time) string {
	return fmt.Sprintf("0 %d * * *", (now.UTC().Hour()+12)%24)
}

// TestDaemonBackupHealthAndMetrics runs the daemon binary on the test
// stack: /healthz, /metrics and dr status before any backup and after the
// daemon's backup, a refused SIGHUP reload, and SIGTERM exiting 0. When a
// cron schedule fires is decided against a fake clock
// (scheduler.TestRunsAtTheCronTimesInTheZone); here the backup is started
// by a restart with --run-now, so nothing waits for a minute boundary.
func TestDaemonBackupHealthAndMetrics(t *testing.T) {
	s := stack.Get(t)
	bin := buildDr(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("t0ken-for-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	cfg, dest, _ := daemonConfig(t, s, idleSchedule(time.Now()), listen, tokenFile)
	base := "http://" + listen

	p := startDaemon(t, bin, cfg)
	p.waitLog(t, 30*time.Second, `"msg":"daemon started"`)
	if code, _ := httpGet(t, base+"/healthz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz before any backup = %d, want 503", code)
	}
	if _, _, code := run(t, nil, "status", "--config", cfg); code != exitFailed {
		t.Errorf("dr status before any backup: exit %d, want 1", code)
	}
	if code, _ := httpGet(t, base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token = %d, want 401", code)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM of the idle daemon: exit %d, want 0\n%s", code, p.allLogs())
	}
	if objs, _ := os.ReadDir(dest); len(objs) != 0 {
		t.Fatalf("the idle daemon wrote %d objects: its schedule fired during the test\n%s", len(objs), p.allLogs())
	}

	p = startDaemon(t, bin, cfg, "--run-now")
	line := p.waitLog(t, 120*time.Second, `"msg":"job finished"`, `"job":"backup"`)
	if !strings.Contains(line, `"trigger":"run-now"`) || !strings.Contains(line, `"outcome":"success"`) {
		t.Fatalf("the daemon's backup: %s\n%s", line, p.allLogs())
	}
	if code, body := httpGet(t, base+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz after the backup = %d %s\n%s", code, body, p.allLogs())
	}
	code, body := httpGet(t, base+"/metrics", "t0ken-for-test")
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token = %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	gauge := func(name string) float64 {
		f := families[name]
		if f == nil || len(f.Metric) == 0 {
			t.Fatalf("/metrics lacks %s", name)
		}
		return f.Metric[0].GetGauge().GetValue()
	}
	if gauge("dr_job_last_status") != 1 || gauge("dr_backup_last_size_bytes") <= 0 || gauge("dr_healthy") != 1 {
		t.Errorf("metrics after a good backup: status %v size %v healthy %v", gauge("dr_job_last_status"), gauge("dr_backup_last_size_bytes"), gauge("dr_healthy"))
	}
	if age := gauge("dr_destination_newest_backup_age_seconds"); age < 0 || age > 300 {
		t.Errorf("newest backup age %v s", age)
	}

	out, errOut, code := run(t, nil, "status", "--json", "--config", cfg)
	var st health.Status
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || !st.Healthy || st.LastBackup == nil || st.Destinations[0].Newest == "" {
		t.Errorf("dr status --json after the backup: exit %d\n%s%s", code, out, errOut)
	}

	// A broken dr.yaml on SIGHUP is refused; the daemon keeps serving.
	good, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte("stack: {dir: relative}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, 10*time.Second, `"msg":"reload refused; keeping the running configuration"`)
	if code, _ := httpGet(t, base+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz after a refused reload = %d", code)
	}
	_ = os.WriteFile(cfg, good, 0o600)

	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d, want 0\n%s", code, p.allLogs())
	}
	assertNoHalfDoneBackup(t, dest)
}

// TestDaemonSIGTERMDuringBackup stops the daemon while its --run-now
// backup (with volumes) runs: exit 0, no partial object, no helper
// container, and the history says what happened.
func TestDaemonSIGTERMDuringBackup(t *testing.T) {
	s := stack.Get(t)
	bin := buildDr(t)
	cfg, dest, state := daemonConfig(t, s, "0 8 * * *", freePort(t), "")
	p := startDaemon(t, bin, cfg, "--run-now")
	// The dump is in, the volumes are being captured and the archive is
	// streaming to the destination: the middle of the backup.
	p.waitLog(t, 60*time.Second, `"msg":"database dumped"`)
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM during a backup: exit %d, want 0\n%s", code, p.allLogs())
	}
	assertNoHalfDoneBackup(t, dest)
	assertNoHelper(t, s.Project)
	h, err := health.LoadHistory(state)
	if err != nil || h.Last(health.KindBackup) == nil {
		t.Fatalf("history after the stop: %v %+v", err, h)
	}
	r := h.Last(health.KindBackup)
	if r.Outcome == health.OutcomeFailed && !strings.Contains(r.Error, "daemon stopping") {
		t.Errorf("an interrupted backup recorded as %q", r.Error)
	}
	t.Logf("the backup stopped by SIGTERM after %s was recorded %s: %s", r.Duration, r.Outcome, r.Error)
}

// TestDaemonSkipsWhileACLIRunHoldsTheLock: the daemon's job waits
// --lock-wait, then is recorded skipped with the holder; dr status fails.
func TestDaemonSkipsWhileACLIRunHoldsTheLock(t *testing.T) {
	s := stack.Get(t)
	bin := buildDr(t)
	var mu sync.Mutex
	var received []string
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, r.URL.Path+"?"+r.URL.RawQuery+" "+string(body))
		mu.Unlock()
	}))
	defer hooks.Close()
	cfg, dest, state := daemonConfig(t, s, "0 8 * * *", freePort(t), "", fmt.Sprintf(`notify:
  - {name: ops, url: "%s/notify/tok"}
heartbeats:
  - {name: kuma, kind: uptime-kuma, url: "%s/api/push/K1"}
`, hooks.URL, hooks.URL))
	held, err := lock.Acquire(state, "restore")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	p := startDaemon(t, bin, cfg, "--run-now", "--lock-wait", "1s")
	line := p.waitLog(t, 30*time.Second, `"msg":"job skipped"`)
	if !strings.Contains(line, fmt.Sprintf("pid %d (restore)", os.Getpid())) {
		t.Errorf("skipped without naming the holder: %s", line)
	}
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("SIGINT: exit %d", code)
	}
	// The daemon waits for the sends in flight before it exits.
	mu.Lock()
	got := strings.Join(received, "\n")
	mu.Unlock()
	if !strings.Contains(got, "/notify/tok? dr backup skipped") || !strings.Contains(got, "/api/push/K1?msg=backup+skipped") || !strings.Contains(got, "status=down") {
		t.Errorf("notification and heartbeat of the skipped backup: got\n%s", got)
	}
	if logs := p.allLogs(); strings.Contains(logs, "/notify/tok") || strings.Contains(logs, "K1") {
		t.Errorf("the daemon logged a notify or heartbeat secret:\n%s", logs)
	}
	if objs, _ := os.ReadDir(dest); len(objs) != 0 {
		t.Errorf("a skipped backup wrote %d objects", len(objs))
	}
	out, _, code := run(t, nil, "status", "--config", cfg)
	if code != exitFailed || !strings.Contains(out, "skipped") || !strings.Contains(out, "(restore)") {
		t.Errorf("dr status after a skipped backup: exit %d\n%s", code, out)
	}
}

func assertNoHalfDoneBackup(t *testing.T, dest string) {
	t.Helper()
	objs, _ := os.ReadDir(dest)
	names := map[string]bool{}
	for _, o := range objs {
		names[o.Name()] = true
	}
	for n := range names {
		if _, err := archive.ParseObjectName(n); err == nil && !names[archive.SidecarName(n)] {
			t.Errorf("archive %s without its sidecar left on the destination", n)
		}
	}
}

// assertNoHelper fails on a helper container left on one of project's
// volumes (other tests' helpers on the shared engine are theirs).
func assertNoHelper(t *testing.T, project string) {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--no-trunc", "--filter", "label="+engine.LabelHelper, "--format", "{{.Mounts}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), project) {
		t.Errorf("helper containers left on the stack's volumes: %s", out)
	}
}

// TestDaemonRecordsARefusedBackupOverAnUnfinishedRestore: a scheduled
// backup over a half-restored stack is refused, as dr backup refuses it,
// and recorded failed with the command that finishes the restore.
func TestDaemonRecordsARefusedBackupOverAnUnfinishedRestore(t *testing.T) {
	s := stack.Get(t)
	cfg, dest, state := daemonConfig(t, s, "0 8 * * *", freePort(t), "")
	finish := "dr restore x --only db --yes"
	if err := journal.Write(state, &journal.Journal{Backup: "x", Project: s.Project, Parts: []string{"db"}, Phase: journal.PhaseDB,
		Unfinished: []string{journal.ItemDB}, Command: finish, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, []string{"daemon", "--run-now", "--config", cfg}, streams{in: strings.NewReader(""), out: &out, err: &errb},
			func(string) string { return "" })
	}()
	var last *health.Run
	for deadline := time.Now().Add(90 * time.Second); last == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if h, err := health.LoadHistory(state); err == nil {
			last = h.Last(health.KindBackup)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("daemon stopped by its context: exit %d\n%s", code, errb.String())
	}
	if last == nil || last.Outcome != health.OutcomeFailed || !strings.Contains(last.Error, "refusing to back up") || !strings.Contains(last.Error, finish) {
		t.Fatalf("the run over an unfinished restore: %+v\n%s", last, errb.String())
	}
	if objs, _ := os.ReadDir(dest); len(objs) != 0 {
		t.Errorf("the refused backup wrote %d objects", len(objs))
	}
	stdout, _, code := run(t, nil, "status", "--config", cfg)
	if code != exitFailed || !strings.Contains(stdout, "did not finish") || !strings.Contains(stdout, finish) {
		t.Errorf("dr status with an unfinished restore: exit %d\n%s", code, stdout)
	}
}

// TestDaemonScheduledDrill lets the daemon back up, drill and verify the
// latest backup on schedule.backup, schedule.drill and schedule.verify,
// each a run it missed while down (catch-up, decided against a fake clock
// in scheduler.TestMissedRunsAreCaughtUpOnce), so that all three start at
// once instead of at a minute boundary: the drill and the verify succeed,
// the drill's report lands beside the backup, /metrics carries its RTO, the status
// page rendered in headless Chromium shows the backup and drill charts,
// and dr status shows the drill. DR_SCREENSHOT=path keeps the screenshot
// (how docs/status-page.png is made).
func TestDaemonScheduledDrill(t *testing.T) {
	s := stack.Get(t)
	headless.Skip(t)
	bin := buildDr(t)
	dest := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	listen := freePort(t)
	idle := idleSchedule(time.Now())
	cfg := writeConfig(t, fmt.Sprintf(`stack:
  project: %s
  dir: %s
destinations:
  - name: local
    remote: %s
archive: {chunk_size: 1MiB}
schedule: {backup: %q, drill: %q, verify: %q, timezone: UTC}
http: {listen: %q}
state_dir: %s
`, s.Project, s.Dir, dest, idle, idle, idle, listen, state))
	// Each job's last handled run two days ago: every one missed since is
	// run once at start, in the order backup, drill, verify; the next are
	// hours away, so one drill report is all the test can find.
	missed := time.Now().Add(-48 * time.Hour)
	h := &health.History{LastDue: map[string]time.Time{health.KindBackup: missed, health.KindDrill: missed, health.KindVerify: missed}}
	if err := h.Save(state); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, nil, "backup", "--config", cfg); code != exitOK {
		t.Fatalf("dr backup: exit %d\n%s%s", code, out, errOut)
	}

	p := startDaemon(t, bin, cfg)
	line := p.waitLog(t, 200*time.Second, `"msg":"job finished"`, `"job":"drill"`)
	if !strings.Contains(line, `"outcome":"success"`) {
		t.Fatalf("scheduled drill: %s\n%s", line, p.allLogs())
	}
	// The verify, caught up with the drill, runs after it.
	line = p.waitLog(t, 100*time.Second, `"msg":"job finished"`, `"job":"verify"`)
	if !strings.Contains(line, `"outcome":"success"`) {
		t.Fatalf("scheduled verify: %s\n%s", line, p.allLogs())
	}

	base := "http://" + listen
	code, body := httpGet(t, base+"/metrics", "")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if code != http.StatusOK || err != nil {
		t.Fatalf("/metrics = %d, %v", code, err)
	}
	value := func(name, kind string) float64 {
		if f := families[name]; f != nil {
			for _, m := range f.Metric {
				if kind == "" || (len(m.Label) > 0 && m.Label[0].GetValue() == kind) {
					return m.GetGauge().GetValue()
				}
			}
		}
		t.Errorf("/metrics lacks %s{kind=%q}", name, kind)
		return -1
	}
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "dr_drill_") || strings.HasPrefix(l, "dr_job_last_") {
			t.Log(l)
		}
	}
	if rto := value("dr_drill_last_rto_seconds", ""); rto <= 0 || rto > 200 {
		t.Errorf("dr_drill_last_rto_seconds = %v", rto)
	}
	if st, failed := value("dr_job_last_status", "drill"), value("dr_drill_last_failed_checks", ""); st != 1 || failed != 0 {
		t.Errorf("drill status %v, failed checks %v", st, failed)
	}
	if age := value("dr_drill_last_backup_age_seconds", ""); age < 0 || age > 300 {
		t.Errorf("dr_drill_last_backup_age_seconds = %v", age)
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	if keep := os.Getenv("DR_SCREENSHOT"); keep != "" {
		shot = keep
	}
	img, err := headless.Screenshot(context.Background(), base+"/", shot, 1200, 900)
	if err != nil {
		t.Fatal(err)
	}
	// The chart colours: a successful backup's bar, a passed drill's bar.
	// One run each at least, so the tallest bar of each fills its chart.
	for _, c := range []struct{ what, hex string }{{"backup", "#2e7d32"}, {"drill", "#1565c0"}} {
		col, _ := headless.Hex(c.hex)
		if bar := headless.Tallest(img, col); bar.Dy() < 100 {
			t.Errorf("the status page screenshot %s lacks the %s chart's bar (tallest run of %s: %v)", shot, c.what, c.hex, bar)
		}
	}

	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d, want 0\n%s", code, p.allLogs())
	}
	reports, _ := filepath.Glob(filepath.Join(dest, "*.drill-*.json"))
	if len(reports) != 1 {
		t.Errorf("drill reports on the destination: %v, want one", reports)
	}
	out, errOut, _ := run(t, nil, "status", "--json", "--config", cfg)
	var st health.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.LastDrill == nil || st.LastDrill.Outcome != "success" ||
		st.LastDrill.Drill == nil || !st.LastDrill.Drill.Passed || st.LastDrill.Drill.RTOSeconds <= 0 {
		t.Errorf("dr status --json after the drill: %v\n%s%s", err, out, errOut)
	}
	out, _, _ = run(t, nil, "status", "--config", cfg)
	t.Logf("dr status:\n%s", out)
	if !regexp.MustCompile(`last verify\s+\S+ success \(catch-up, [^)]+\) \S+, [0-9.]+ KiB\n`).MatchString(out) {
		t.Errorf("dr status does not show the verify:\n%s", out)
	}
	if !regexp.MustCompile(`last drill\s+\S+ success \(catch-up, [^)]+\) \S+, RTO [0-9.ms]+, backup \S+ old when drilled, \d+ checks passed`).MatchString(out) {
		t.Errorf("dr status does not show the drill's RTO:\n%s", out)
	}
}
