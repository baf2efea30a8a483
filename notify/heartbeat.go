package notify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/appwrite-dr/dr/config"
	"github.com/appwrite-dr/dr/health"
)

// Heartbeats are pinged for backups only: a monitor's "no ping for a
// day" then means no backup for a day, whatever the cause, a dead daemon
// included.

// Started pings the healthchecks-style heartbeats' /start, so that they
// measure the run and notice one that never ends.
func (n *Notifier) Started(ctx context.Context, cfg *config.Config, kind string) {
	if kind != health.KindBackup {
		return
	}
	n.pingHeartbeats(ctx, cfg, config.HeartbeatHealthchecks, func(ctx context.Context, h config.Heartbeat) error {
		return ping(ctx, http.MethodGet, strings.TrimSuffix(h.URL, "/")+"/start", "")
	})
}

// heartbeats pings every heartbeat with a backup's outcome.
func (n *Notifier) heartbeats(ctx context.Context, cfg *config.Config, r health.Run, msg string) {
	if r.Kind != health.KindBackup {
		return
	}
	n.pingHeartbeats(ctx, cfg, "", func(ctx context.Context, h config.Heartbeat) error {
		return heartbeat(ctx, h, r, msg)
	})
}

// pingHeartbeats runs fn in the background for every heartbeat of the
// kind given (every heartbeat when kind is ""), retried and logged with
// the heartbeat's URL redacted.
func (n *Notifier) pingHeartbeats(ctx context.Context, cfg *config.Config, kind string, fn func(context.Context, config.Heartbeat) error) {
	red := cfg.Redacted().Heartbeats
	for i, h := range cfg.Heartbeats {
		if kind != "" && h.Kind != kind {
			continue
		}
		n.wg.Add(1)
		go func(h config.Heartbeat, shown string) {
			defer n.wg.Done()
			n.retry(ctx, h.Name, h.URL, shown, "heartbeat", "heartbeat sent", func(ctx context.Context) error {
				return fn(ctx, h)
			})
		}(h, red[i].URL)
	}
}

func heartbeat(ctx context.Context, h config.Heartbeat, r health.Run, msg string) error {
	ok := r.Outcome == health.OutcomeSuccess
	switch h.Kind {
	case config.HeartbeatUptimeKuma:
		// A push monitor: status up or down, a short message, and the
		// run's duration as the "ping" in milliseconds.
		u, err := url.Parse(h.URL)
		if err != nil {
			return err
		}
		q := u.Query()
		status, short := "up", "backup "+r.Outcome
		if !ok {
			status = "down"
			if r.Error != "" {
				short += ": " + r.Error
			}
		} else if r.Backup != "" {
			short += ": " + r.Backup
		}
		if len(short) > 200 {
			short = short[:200]
		}
		q.Set("status", status)
		q.Set("msg", short)
		q.Set("ping", strconv.FormatInt(r.Duration.Milliseconds(), 10))
		u.RawQuery = q.Encode()
		return ping(ctx, http.MethodGet, u.String(), "")
	default: // healthchecks: the URL on success, URL/fail on failure, the message as the body
		target := strings.TrimSuffix(h.URL, "/")
		if !ok {
			target += "/fail"
		}
		return ping(ctx, http.MethodPost, target, msg)
	}
}

func ping(ctx context.Context, method, target, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
