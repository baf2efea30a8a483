package notify

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

// closedLoopbackAddr is a 127.0.0.1 address nobody listens on: a
// connection there is refused at once.
func closedLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestUndeliverableNotificationIsNeverReportedSent sends to a dead
// endpoint of every kind of notify URL docs/daemon.md names, and checks that
// each send is logged as failed, never as sent, with its secret nowhere in
// the logs. Services whose URL may name a host are pointed at a closed
// 127.0.0.1 port; slack, discord and telegram, which only ever talk to
// their public API, go through the package's outbound trap (TestMain),
// which answers 502 and so stands for "no network".
func TestUndeliverableNotificationIsNeverReportedSent(t *testing.T) {
	dead := closedLoopbackAddr(t)
	for _, tc := range []struct {
		kind, url string
		secret    string
		// trapped is the host:port the request must have asked the
		// outbound trap for; empty for a loopback endpoint.
		trapped string
	}{
		{kind: "webhook", url: "http://" + dead + "/hook/s3cr3tpath", secret: "s3cr3tpath"},
		{kind: "ntfy", url: "ntfy://bob:s3cr3tpass@" + dead + "/dr-alerts?scheme=http", secret: "s3cr3tpass"},
		{kind: "smtp", url: "smtp://bob:s3cr3tpass@" + dead + "/?auth=Plain&encryption=None&usestarttls=No&fromaddress=dr@example.invalid&toaddresses=ops@example.invalid&timeout=5s", secret: "s3cr3tpass"},
		{kind: "slack", url: "slack://hook:T00000000-B00000000-S3cr3tW3bh00kT0k3nXXXXXX@webhook", secret: "S3cr3tW3bh00kT0k3n", trapped: "hooks.slack.com:443"},
		{kind: "discord", url: "discord://S3cr3tD1sc0rdT0k3n@123456789012345678", secret: "S3cr3tD1sc0rdT0k3n", trapped: "discord.com:443"},
		{kind: "telegram", url: "telegram://110201543:S3cr3tT3l3gr4mT0k3n@telegram?chats=@dr_alerts", secret: "S3cr3tT3l3gr4mT0k3n", trapped: "api.telegram.org:443"},
		{kind: "command", url: "command:/bin/false s3cr3targ", secret: "s3cr3targ"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if tc.trapped != "" {
				// The rule this test must not break: nothing leaves the
				// machine. Stop before sending unless the trap is the proxy.
				host, _, _ := strings.Cut(tc.trapped, ":")
				probe, _ := http.NewRequest(http.MethodPost, "https://"+host+"/", nil)
				if p, err := http.ProxyFromEnvironment(probe); err != nil || p == nil || p.Host != proxyTrap.url().Host {
					t.Fatalf("requests to %s would not go to the outbound trap (proxy %v, %v)", host, p, err)
				}
			}
			cfg := config.Default()
			cfg.Stack.Project = "appwrite"
			cfg.Notify = []config.Notify{{Name: "ops", URL: tc.url, On: []string{"failure"}}}
			if err := Check(cfg); err != nil {
				t.Fatalf("the URL is refused: %v", err)
			}
			var logs bytes.Buffer
			n := &Notifier{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Backoff: time.Millisecond, Attempts: 2}
			n.Notify(context.Background(), cfg, health.Run{Kind: health.KindBackup, Outcome: health.OutcomeFailed, Error: "dump exited 2"})
			n.Wait(2 * time.Minute)
			if strings.Contains(logs.String(), "notification sent") {
				t.Errorf("an undeliverable %s notification is logged as sent:\n%s", tc.kind, logs.String())
			}
			if !strings.Contains(logs.String(), "notification failed") || !strings.Contains(logs.String(), "attempts=2") {
				t.Errorf("the %s notification's failure is not logged after its 2 attempts:\n%s", tc.kind, logs.String())
			}
			if strings.Contains(logs.String(), tc.secret) {
				t.Errorf("the logs hold the %s URL's secret:\n%s", tc.kind, logs.String())
			}
			if tc.trapped != "" && !proxyTrap.saw(tc.trapped) {
				t.Errorf("the %s notification never asked for %s: it failed before trying to deliver", tc.kind, tc.trapped)
			}
		})
	}
}
