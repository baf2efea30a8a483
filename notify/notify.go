// Package notify tells people and monitors about the daemon's runs:
// shoutrrr services, webhooks and command: programs per notify[].on event,
// and heartbeats (Uptime Kuma push, healthchecks pings) for backups, so a
// dead daemon shows as a missing ping. A failed send is retried and
// logged, with every URL's secrets redacted; it never fails a job.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
	"github.com/appwrite-dr/dr/internal/humanize"
	"github.com/appwrite-dr/dr/internal/redact"
)

// Notification events, as notify[].on names them.
const (
	EventFailure = "failure"
	EventSuccess = "success"
	EventDrill   = "drill"
	EventSkipped = "skipped"
)

// Event is the notify[].on event a run raises.
func Event(r health.Run) string {
	switch {
	case r.Kind == health.KindDrill:
		return EventDrill
	case r.Outcome == health.OutcomeSuccess:
		return EventSuccess
	case r.Outcome == health.OutcomeSkipped:
		return EventSkipped
	default:
		return EventFailure
	}
}

// serviceURL is the shoutrrr URL of a notify URL: an http(s) URL is a
// plain webhook (shoutrrr's generic service), any other scheme a shoutrrr
// service (ntfy://, slack://, discord://, telegram://, smtp://, …).
func serviceURL(raw string) string {
	if strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "https://") {
		return "generic+" + raw
	}
	return raw
}

// Check checks that every notify URL names a service this build
// can send to, without sending anything.
func Check(cfg *config.Config) error {
	var errs []error
	r := &router.ServiceRouter{}
	red := cfg.Redacted().Notify
	for i, n := range cfg.Notify {
		if strings.HasPrefix(n.URL, "command:") {
			if strings.TrimSpace(strings.TrimPrefix(n.URL, "command:")) == "" {
				errs = append(errs, fmt.Errorf("notify[%d].url: command: names no program", i))
			}
			continue
		}
		if _, err := r.Locate(serviceURL(n.URL)); err != nil {
			errs = append(errs, fmt.Errorf("notify[%d].url %s: not a URL shoutrrr can send to: %s", i, red[i].URL, scrub(err.Error(), n.URL, red[i].URL)))
		}
	}
	return errors.Join(errs...)
}

// Notifier sends each run to the notify targets that asked for its event.
// A failed send is retried with back-off and logged; it never fails the
// job.
type Notifier struct {
	Logger *slog.Logger
	// Attempts per message (default 3) and the first back-off (default
	// 2s, doubled after each failure).
	Attempts int
	Backoff  time.Duration
	// Send delivers one message (default: shoutrrr, dr's own Telegram
	// sender, or the program of a command: URL); tests replace it.
	Send func(ctx context.Context, rawURL, title, message string, r health.Run) error
	// HTTPClient makes the requests dr sends itself (Telegram's); nil is
	// a client with a 30s timeout that honours HTTPS_PROXY.
	HTTPClient *http.Client

	wg sync.WaitGroup
}

// Notify sends r in the background to every target of cfg whose on: list
// has its event (a skipped run also goes to failure targets: a backup
// that did not happen is one; so does a backup that lacks something: a
// restore of it would), and a backup's outcome to every heartbeat.
func (n *Notifier) Notify(ctx context.Context, cfg *config.Config, r health.Run) {
	event := Event(r)
	red := cfg.Redacted().Notify
	title, msg := message(cfg, r)
	n.heartbeats(ctx, cfg, r, msg)
	for i, t := range cfg.Notify {
		if !wants(t.On, event) && !(len(r.Lacks) > 0 && wants(t.On, EventFailure)) {
			continue
		}
		n.wg.Add(1)
		go func(raw, shown, name string) {
			defer n.wg.Done()
			n.deliver(ctx, raw, shown, name, title, msg, r)
		}(t.URL, red[i].URL, t.Name)
	}
}

// Wait waits for the sends in flight, at most d.
func (n *Notifier) Wait(d time.Duration) {
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func wants(on []string, event string) bool {
	for _, e := range on {
		if e == event || (event == EventSkipped && e == EventFailure) {
			return true
		}
	}
	return false
}

func (n *Notifier) deliver(ctx context.Context, raw, shown, name, title, msg string, r health.Run) {
	send := n.Send
	if send == nil {
		send = n.send
	}
	sent := "notification sent"
	if !confirmsDelivery(serviceName(raw)) {
		sent = "notification handed to shoutrrr; this service's delivery is not confirmed"
	}
	n.retry(ctx, name, raw, shown, "notification", sent, func(ctx context.Context) error {
		return send(ctx, raw, title, msg, r)
	})
}

// confirmsDelivery says whether a notify service's sends have been seen to
// fail on a dead endpoint (TestUndeliverableNotificationIsNeverReportedSent):
// for them no error means delivered. shoutrrr's other services are sent
// through as they are, and their success is logged as handed over, never
// as sent: dr has not seen that they report a failure.
func confirmsDelivery(service string) bool {
	switch service {
	case "command", "generic", "ntfy", "smtp", "slack", "discord", "telegram":
		return true
	default:
		return false
	}
}

// serviceName is the notify service a notify URL names: "command", a
// shoutrrr service ("generic" for an http(s) webhook), or "" when the URL
// cannot be read.
func serviceName(raw string) string {
	if strings.HasPrefix(raw, "command:") {
		return "command"
	}
	u, err := url.Parse(serviceURL(raw))
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(strings.ToLower(u.Scheme), "+")
	return name
}

// retry calls fn until it succeeds or the attempts are spent, with
// doubling back-off, and logs what happened with the URL redacted: sent
// is the line logged on success.
func (n *Notifier) retry(ctx context.Context, name, raw, shown, what, sent string, fn func(context.Context) error) {
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	attempts, backoff := n.Attempts, n.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if backoff <= 0 {
		backoff = 2 * time.Second
	}
	// The stop of the daemon must not drop the notification of the job it
	// interrupted: sends get their own bounded time.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for i := 1; ; i++ {
		err := fn(sctx)
		if err == nil {
			log.Info(sent, "target", name, "url", shown)
			return
		}
		text := scrub(err.Error(), raw, shown)
		if i >= attempts {
			log.Error(what+" failed", "target", name, "url", shown, "attempts", i, "err", text)
			return
		}
		log.Warn(what+" failed; retrying", "target", name, "url", shown, "attempt", i, "in", backoff.String(), "err", text)
		select {
		case <-sctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// message is the notification's title and text. The error was redacted
// when the run was recorded.
func message(cfg *config.Config, r health.Run) (title, msg string) {
	stack := cfg.Stack.Project
	if stack == "" {
		stack = cfg.Stack.Dir
	}
	title = fmt.Sprintf("dr %s %s: %s", r.Kind, r.Outcome, stack)
	if len(r.Lacks) > 0 {
		title = fmt.Sprintf("dr %s %s, INCOMPLETE (%d missing): %s", r.Kind, r.Outcome, len(r.Lacks), stack)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s run started %s, took %s (%s)", title, r.Kind, r.Started.UTC().Format(time.RFC3339), r.Duration.Round(time.Second), r.Trigger)
	if r.Backup != "" {
		fmt.Fprintf(&b, "\nbackup %s, %s", r.Backup, humanize.Bytes(r.Bytes))
	}
	for _, d := range r.Destinations {
		if d.Error != "" {
			fmt.Fprintf(&b, "\n%s: FAILED: %s", d.Name, d.Error)
		} else if r.Outcome != health.OutcomeSkipped {
			fmt.Fprintf(&b, "\n%s: committed", d.Name)
		}
	}
	for _, l := range r.Lacks {
		fmt.Fprintf(&b, "\nmissing: %s", l)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "\nerror: %s", r.Error)
	}
	return title, b.String()
}

func (n *Notifier) send(ctx context.Context, raw, title, msg string, r health.Run) error {
	if prog, ok := strings.CutPrefix(raw, "command:"); ok {
		return runCommand(ctx, strings.Fields(prog), title, msg, r)
	}
	if serviceName(raw) == "telegram" {
		client := n.HTTPClient
		if client == nil {
			client = newNotifyHTTPClient()
		}
		return sendTelegram(ctx, client, raw, msg)
	}
	svc, err := (&router.ServiceRouter{}).Locate(serviceURL(raw))
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- svc.Send(msg, &types.Params{"title": title}) }()
	select {
	case err := <-done:
		return withoutRequestURL(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// withoutRequestURL hides the URL a failed request quotes: shoutrrr's
// services build it from the notify URL's secrets, in a shape of their
// own that scrub cannot find (slack://hook:T-B-X@webhook is posted to
// https://hooks.slack.com/services/T/B/X).
func withoutRequestURL(err error) error {
	ue, ok := errors.AsType[*url.Error](err)
	if !ok || ue.URL == "" {
		return err
	}
	shown := redact.Marker
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		shown = u.Scheme + "://" + u.Host + "/" + redact.Marker
	}
	return errors.New(strings.ReplaceAll(err.Error(), ue.URL, shown))
}

// runCommand runs a command: target with the message on stdin and the
// run in DR_* variables; a non-zero exit is a failed send.
func runCommand(ctx context.Context, argv []string, title, msg string, r health.Run) error {
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdin = strings.NewReader(msg + "\n")
	c.Env = append(c.Environ(), "DR_EVENT="+Event(r), "DR_JOB="+r.Kind, "DR_OUTCOME="+r.Outcome, "DR_BACKUP="+r.Backup, "DR_TITLE="+title)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", argv[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// scrub removes a notify URL's secrets from an error text: shoutrrr quotes
// the URL, and its services carry tokens where redact.String cannot know
// them (slack://token-a/token-b, telegram://token@telegram).
func scrub(text, raw, shown string) string {
	text = strings.ReplaceAll(text, serviceURL(raw), shown)
	text = strings.ReplaceAll(text, raw, shown)
	if u, err := url.Parse(raw); err == nil {
		for _, part := range []string{u.User.String(), u.Path, strings.TrimPrefix(u.Path, "/"), u.RawQuery, u.Opaque} {
			if len(part) >= 4 {
				text = strings.ReplaceAll(text, part, redact.Marker)
			}
		}
	}
	return redact.String(text)
}
