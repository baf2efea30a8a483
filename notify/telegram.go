package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/chat/telegram"
)

// telegramAPI is the Bot API's base; its URLs carry the bot's token.
const telegramAPI = "https://api.telegram.org"

// telegramMaxRunes is the longest text sendMessage takes.
const telegramMaxRunes = 4096

// sendTelegram posts msg to every chat of a telegram:// URL through the
// Bot API, with shoutrrr parsing the URL but not sending. shoutrrr's
// telegram service (v0.13.2) reads a failed request's error from the
// response body, and when there is none (no network, a refused
// connection, a proxy's error page) it finds no error and reports the
// message sent: an alert that never left the host was logged as
// delivered. The text goes as plain text, its first line the title, so
// that a backup name or an error never breaks a parse mode and gets the
// message refused.
func sendTelegram(ctx context.Context, client *http.Client, raw, msg string) error {
	svc, err := (&router.ServiceRouter{}).Locate(raw)
	if err != nil {
		return fmt.Errorf("reading the telegram URL: %w", err)
	}
	tg, ok := svc.(*telegram.Service)
	if !ok {
		return fmt.Errorf("reading the telegram URL: shoutrrr made a %T of it", svc)
	}
	cfg := tg.GetConfig()
	if runes := []rune(msg); len(runes) > telegramMaxRunes {
		msg = string(runes[:telegramMaxRunes-1]) + "…"
	}
	var errs []error
	for _, chat := range cfg.Chats {
		payload := telegram.SendMessagePayload{
			Text:                msg,
			DisablePreview:      !cfg.Preview,
			DisableNotification: !cfg.Notification,
		}
		// A chat may name a forum topic: @channel:42 or -100123:42.
		payload.ID = chat
		if id, thread, ok := strings.Cut(chat, ":"); ok {
			if n, err := strconv.Atoi(thread); err == nil {
				payload.ID, payload.MessageThreadID = id, &n
			}
		}
		if err := postTelegram(ctx, client, cfg.Token, payload); err != nil {
			errs = append(errs, fmt.Errorf("sending to telegram chat %s: %w", chat, err))
		}
	}
	return errors.Join(errs...)
}

// postTelegram calls sendMessage once. Delivered means a 200 answer whose
// JSON says ok: anything else, including no answer at all, is an error.
// The request's URL holds the token, so transport errors are reported
// without it.
func postTelegram(ctx context.Context, client *http.Client, token string, payload telegram.SendMessagePayload) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding the message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, telegramAPI+"/bot"+token+"/sendMessage", bytes.NewReader(body))
	if err != nil {
		return errors.New("building the request: the bot token does not fit in a URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("posting to the bot api: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("reading the bot api's answer (%s): %w", resp.Status, err)
	}
	var answer struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return fmt.Errorf("the bot api answered %s, not its JSON", resp.Status)
	}
	if resp.StatusCode != http.StatusOK || !answer.OK {
		return fmt.Errorf("the bot api answered %s: %s", resp.Status, answer.Description)
	}
	return nil
}

// newNotifyHTTPClient is the client of the requests dr makes itself: it
// honours HTTPS_PROXY like shoutrrr's, and gives up on a server that
// accepts and never answers.
func newNotifyHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second}
}
