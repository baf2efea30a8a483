package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

// toLoopback is a transport that sends every request to one loopback
// server, whatever host its URL names: the Bot API's requests are
// answered on 127.0.0.1.
type toLoopback struct{ server *url.URL }

func (t toLoopback) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = t.server.Scheme, t.server.Host
	return http.DefaultTransport.RoundTrip(out)
}

// botAPI is a fake Telegram Bot API: it keeps each sendMessage call and
// answers with the status and body it is given.
type botAPI struct {
	mu     sync.Mutex
	paths  []string
	bodies []map[string]any
	status int
	answer string
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(data, &body)
	b.mu.Lock()
	b.paths = append(b.paths, r.URL.Path)
	b.bodies = append(b.bodies, body)
	b.mu.Unlock()
	w.WriteHeader(b.status)
	_, _ = io.WriteString(w, b.answer)
}

func TestTelegramNotification(t *testing.T) {
	const token = "110201543:S3cr3tT3l3gr4mT0k3n"
	for _, tc := range []struct {
		name      string
		status    int
		answer    string
		delivered bool
		logged    string
	}{
		{"delivered", http.StatusOK, `{"ok":true,"result":{"message_id":7}}`, true, "notification sent"},
		{"refused by the api", http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, false, "chat not found"},
		{"a 200 that is not the api's", http.StatusOK, `<html>captive portal</html>`, false, "not its JSON"},
		{"a 200 that says not ok", http.StatusOK, `{"ok":false,"description":"Forbidden: bot was blocked by the user"}`, false, "bot was blocked"},
		{"a proxy's error page", http.StatusBadGateway, ``, false, "502 Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &botAPI{status: tc.status, answer: tc.answer}
			srv := httptest.NewServer(api)
			defer srv.Close()
			server, _ := url.Parse(srv.URL)
			cfg := config.Default()
			cfg.Stack.Project = "appwrite"
			cfg.Notify = []config.Notify{{Name: "phone", URL: "telegram://" + token + "@telegram?chats=@dr_alerts,-1001234:42&notification=no", On: []string{"failure"}}}
			var logs bytes.Buffer
			n := &Notifier{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: time.Millisecond, Attempts: 1,
				HTTPClient: &http.Client{Transport: toLoopback{server: server}}}
			n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeFailed, Error: "dump exited 2 <&> _x_"})
			n.Wait(30 * time.Second)

			if got := strings.Contains(logs.String(), "notification sent"); got != tc.delivered {
				t.Errorf("logged as sent: %v, want %v:\n%s", got, tc.delivered, logs.String())
			}
			if !strings.Contains(logs.String(), tc.logged) {
				t.Errorf("the logs do not say %q:\n%s", tc.logged, logs.String())
			}
			if strings.Contains(logs.String(), "S3cr3t") {
				t.Errorf("the logs hold the bot token:\n%s", logs.String())
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if len(api.paths) != 2 || api.paths[0] != "/bot"+token+"/sendMessage" {
				t.Fatalf("the api got %q, want sendMessage for each of the 2 chats", api.paths)
			}
			first, second := api.bodies[0], api.bodies[1]
			text, _ := first["text"].(string)
			if first["chat_id"] != "@dr_alerts" || first["disable_notification"] != true || first["parse_mode"] != nil ||
				!strings.HasPrefix(text, "dr backup failed: appwrite\n") || !strings.Contains(text, "error: dump exited 2 <&> _x_") {
				t.Errorf("the first chat's message: %v", first)
			}
			if second["chat_id"] != "-1001234" || second["message_thread_id"] != float64(42) {
				t.Errorf("the forum topic's message: %v", second)
			}
		})
	}
}

func TestServiceNameAndConfirmedDelivery(t *testing.T) {
	for _, tc := range []struct {
		url, service string
		confirmed    bool
	}{
		{"https://hooks.example.invalid/x", "generic", true},
		{"http://127.0.0.1:9/x", "generic", true},
		{"generic+https://hooks.example.invalid/x", "generic", true},
		{"ntfy://ntfy.sh/topic", "ntfy", true},
		{"NTFY://ntfy.sh/topic", "ntfy", true},
		{"slack://hook:a-b-c@webhook", "slack", true},
		{"discord://token@id", "discord", true},
		{"telegram://1:t@telegram?chats=@x", "telegram", true},
		{"smtp://h.invalid:25/?to=a@b.invalid", "smtp", true},
		{"command:/usr/local/bin/page", "command", true},
		{"gotify://h.invalid/token", "gotify", false},
		{"pushover://shoutrrr:token@user", "pushover", false},
		{"%zz://x", "", false},
	} {
		got := serviceName(tc.url)
		if got != tc.service || confirmsDelivery(got) != tc.confirmed {
			t.Errorf("serviceName(%q) = %q (confirmed %v), want %q (%v)", tc.url, got, confirmsDelivery(got), tc.service, tc.confirmed)
		}
	}
}

// TestUnconfirmedServiceIsNeverLoggedSent: a shoutrrr service no test has
// seen fail (gotify, answered 200 on 127.0.0.1) is logged as handed over,
// never as sent.
func TestUnconfirmedServiceIsNeverLoggedSent(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"id":1}`)
	}))
	defer srv.Close()
	cfg := config.Default()
	cfg.Notify = []config.Notify{{Name: "gotify", URL: "gotify://" + strings.TrimPrefix(srv.URL, "http://") + "/AS3cr3tT0k3nXYZ?disabletls=yes", On: []string{"failure"}}}
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	n := &Notifier{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: time.Millisecond, Attempts: 1}
	n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeFailed})
	n.Wait(30 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 || strings.Contains(logs.String(), "notification sent") || !strings.Contains(logs.String(), "delivery is not confirmed") {
		t.Errorf("gotify got %d calls; logs:\n%s", calls, logs.String())
	}
	if strings.Contains(logs.String(), "S3cr3t") {
		t.Errorf("the logs hold the token:\n%s", logs.String())
	}
}
