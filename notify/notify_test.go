package notify

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

func TestEventAndTargets(t *testing.T) {
	for _, tc := range []struct {
		run   health.Run
		event string
		on    []string
		sent  bool
	}{
		{health.Run{Kind: health.KindBackup, Outcome: health.OutcomeFailed}, EventFailure, []string{"failure"}, true},
		{health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess}, EventSuccess, []string{"failure"}, false},
		{health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess}, EventSuccess, []string{"failure", "success"}, true},
		{health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSkipped}, EventSkipped, []string{"failure"}, true},
		{health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSkipped}, EventSkipped, []string{"success"}, false},
		{health.Run{Kind: health.KindDrill, Outcome: health.OutcomeFailed}, EventDrill, []string{"failure"}, false},
		{health.Run{Kind: health.KindDrill, Outcome: health.OutcomeSuccess}, EventDrill, []string{"drill"}, true},
		{health.Run{Kind: health.KindVerify, Outcome: health.OutcomeFailed}, EventFailure, []string{"failure"}, true},
		{health.Run{Kind: health.KindVerify, Outcome: health.OutcomeSuccess}, EventSuccess, []string{"failure"}, false},
	} {
		if got := Event(tc.run); got != tc.event {
			t.Errorf("Event(%+v) = %s, want %s", tc.run, got, tc.event)
		}
		if got := wants(tc.on, tc.event); got != tc.sent {
			t.Errorf("on %v, event %s: sent %v, want %v", tc.on, tc.event, got, tc.sent)
		}
	}
}

// webhook is a notification receiver on 127.0.0.1 that fails its first
// fail requests with a 500.
type webhook struct {
	mu     sync.Mutex
	bodies []string
	calls  int
	fail   int
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.calls <= w.fail {
		http.Error(rw, "try later", http.StatusInternalServerError)
		return
	}
	w.bodies = append(w.bodies, r.Method+" "+r.URL.Path+" "+string(body))
}

func TestWebhookNotificationRetriedAfter500(t *testing.T) {
	hook := &webhook{fail: 1}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	cfg := config.Default()
	cfg.Stack.Project = "appwrite"
	cfg.Notify = []config.Notify{{Name: "ops", URL: srv.URL + "/hook/s3cr3t-path-token", On: []string{"failure"}}}
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	n := &Notifier{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: time.Millisecond}
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeFailed, Error: "dump exited 2",
		Destinations: []health.DestinationOutcome{{Name: "local"}, {Name: "s3", Error: "refused"}}})
	n.Wait(30 * time.Second)
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.calls != 2 || len(hook.bodies) != 1 {
		t.Fatalf("webhook got %d calls, %d accepted; want a retry after the 500 (logs: %s)", hook.calls, len(hook.bodies), logs.String())
	}
	for _, want := range []string{"POST /hook/s3cr3t-path-token", "dr backup failed: appwrite", "error: dump exited 2", "s3: FAILED: refused"} {
		if !strings.Contains(hook.bodies[0], want) {
			t.Errorf("notification %q lacks %q", hook.bodies[0], want)
		}
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("the logs hold the webhook's secret path:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "notification failed; retrying") || !strings.Contains(logs.String(), "notification sent") {
		t.Errorf("logs do not tell the retry:\n%s", logs.String())
	}
}

func TestNotificationGivesUpAndNeverLeaksTheURL(t *testing.T) {
	hook := &webhook{fail: 100}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	cfg := config.Default()
	cfg.Notify = []config.Notify{{Name: "ops", URL: strings.Replace(srv.URL, "http://", "http://bob:pa55word@", 1) + "/T000/B000/XXXXsecret", On: []string{"success"}}}
	var logs bytes.Buffer
	n := &Notifier{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: time.Millisecond, Attempts: 3}
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess})
	n.Wait(30 * time.Second)
	if hook.calls != 3 {
		t.Errorf("%d attempts, want 3", hook.calls)
	}
	if !strings.Contains(logs.String(), "notification failed") {
		t.Errorf("the final failure is not logged:\n%s", logs.String())
	}
	for _, secret := range []string{"pa55word", "XXXXsecret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs hold %q:\n%s", secret, logs.String())
		}
	}
}

func TestCommandNotification(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got")
	script := filepath.Join(dir, "notify.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n{ echo \"$DR_EVENT $DR_JOB $DR_OUTCOME\"; cat; } > "+out+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Notify = []config.Notify{{Name: "local", URL: "command:" + script, On: []string{"skipped"}}}
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	n := &Notifier{}
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSkipped, Error: "lock held by pid 7 (restore)"})
	n.Wait(30 * time.Second)
	got, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(got), "skipped backup skipped\n") || !strings.Contains(string(got), "lock held by pid 7") {
		t.Errorf("the program got %q (%v)", got, err)
	}
}

func TestCheckNotify(t *testing.T) {
	cfg := config.Default()
	cfg.Notify = []config.Notify{
		{URL: "ntfy://ntfy.example.invalid/dr-alerts"},
		{URL: "ftp://user:hunter2@files.example.invalid/x"},
		{URL: "command:"},
	}
	err := Check(cfg)
	if err == nil || !strings.Contains(err.Error(), "notify[1].url") || !strings.Contains(err.Error(), "notify[2].url") || strings.Contains(err.Error(), "notify[0]") {
		t.Fatalf("got %v, want notify[1] and notify[2] refused", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error holds the password: %v", err)
	}
}

func TestHeartbeats(t *testing.T) {
	var mu sync.Mutex
	var got []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.Error(w, "busy", http.StatusInternalServerError) // the first ping is retried
			return
		}
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+strings.SplitN(string(body), "\n", 2)[0])
	}))
	defer srv.Close()
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
	cfg := config.Default()
	cfg.Stack.Project = "appwrite"
	n := &Notifier{Backoff: time.Millisecond}

	cfg.Heartbeats = []config.Heartbeat{{Name: "kuma", Kind: config.HeartbeatUptimeKuma, URL: srv.URL + "/api/push/K123"}}
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess, Backup: "appwrite-x.tar.zst", Duration: 1500 * time.Millisecond})
	n.Wait(30 * time.Second)
	if r := received(); len(r) != 1 || r[0] != "GET /api/push/K123?msg=backup+success%3A+appwrite-x.tar.zst&ping=1500&status=up " {
		t.Errorf("kuma after a success: %q", r)
	}
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeFailed, Error: "dump exited 2"})
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindDrill, Outcome: health.OutcomeFailed}) // drills do not ping
	n.Wait(30 * time.Second)
	if r := received(); len(r) != 1 || !strings.Contains(r[0], "status=down") || !strings.Contains(r[0], "msg=backup+failed%3A+dump+exited+2") {
		t.Errorf("kuma after a failure: %q", r)
	}

	cfg.Heartbeats = []config.Heartbeat{{Name: "hc", Kind: config.HeartbeatHealthchecks, URL: srv.URL + "/ping/uuid-1"}}
	n.Started(context.Background(), cfg, health.KindBackup)
	n.Wait(30 * time.Second)
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSuccess})
	n.Wait(30 * time.Second)
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeSkipped, Error: "lock held"})
	n.Wait(30 * time.Second)
	want := []string{"GET /ping/uuid-1/start? ", "POST /ping/uuid-1? dr backup success: appwrite", "POST /ping/uuid-1/fail? dr backup skipped: appwrite"}
	if r := received(); strings.Join(r, "|") != strings.Join(want, "|") {
		t.Errorf("healthchecks pings:\n got %q\nwant %q", r, want)
	}
}
