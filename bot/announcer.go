package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/trains"
)

// RateLimitRetries is how many times an Announcer retries a call
// Slack rate limited.
const RateLimitRetries = 3

// AnnouncerOption changes an Announcer.
type AnnouncerOption func(*Announcer)

// WithSleeper sets how the Announcer waits out a rate limit (trains.Sleep
// by default).
func WithSleeper(s trains.Sleeper) AnnouncerOption {
	return func(a *Announcer) {
		if s != nil {
			a.sleep = s
		}
	}
}

// WithAnnouncerLogger sets the logger (discarded by default).
func WithAnnouncerLogger(l *slog.Logger) AnnouncerOption {
	return func(a *Announcer) {
		if l != nil {
			a.log = l
		}
	}
}

// Announcer posts to the validators' channel with the Slack Web API. It is
// safe for concurrent use.
type Announcer struct {
	api     *slack.Client
	channel string
	sleep   trains.Sleeper
	log     *slog.Logger
}

var _ trains.Announcer = (*Announcer)(nil)

// NewAnnouncer returns an Announcer posting to channel (a channel id, C…).
func NewAnnouncer(api *slack.Client, channel string, opts ...AnnouncerOption) *Announcer {
	a := &Announcer{api: api, channel: channel, sleep: trains.Sleep, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Post posts m to the channel with chat.postMessage, link unfurling off.
// A message too long for one Slack message continues in its thread. The
// error says what Slack refused and what to do.
func (a *Announcer) Post(ctx context.Context, m trains.Message) (trains.MessageRef, error) {
	parts := RenderAll(m)
	ref, err := a.post(ctx, "", parts[0])
	if err != nil {
		return trains.MessageRef{}, fmt.Errorf("post to channel %s: %w", a.channel, err)
	}
	for _, p := range parts[1:] {
		if _, err := a.post(ctx, ref.TS, p); err != nil {
			return ref, fmt.Errorf("post the rest of a long message to channel %s (thread %s): %w", a.channel, ref.TS, err)
		}
	}
	return ref, nil
}

// Reply posts m in the thread under parent with chat.postMessage and
// thread_ts.
func (a *Announcer) Reply(ctx context.Context, parent trains.MessageRef, m trains.Message) (trains.MessageRef, error) {
	if parent.TS == "" {
		return trains.MessageRef{}, errors.New("reply in a thread: the parent message has no ts (was it ever posted?)")
	}
	ch := parent.Channel
	if ch == "" {
		ch = a.channel
	}
	var first trains.MessageRef
	for i, p := range RenderAll(m) {
		ref, err := a.postTo(ctx, ch, parent.TS, p)
		if err != nil {
			return first, fmt.Errorf("reply in channel %s thread %s: %w", ch, parent.TS, err)
		}
		if i == 0 {
			first = ref
		}
	}
	return first, nil
}

// Edit replaces the message at ref with m (chat.update). A message too
// long for one Slack message is cut, with a note.
func (a *Announcer) Edit(ctx context.Context, ref trains.MessageRef, m trains.Message) error {
	if ref.TS == "" {
		return errors.New("edit a message: it has no ts (was it ever posted?)")
	}
	ch := ref.Channel
	if ch == "" {
		ch = a.channel
	}
	blocks, fallback := Render(m)
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	err := a.retry(ctx, "chat.update", func() error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, ch, ref.TS, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("edit message %s in channel %s: %w", ref.TS, ch, err)
	}
	return nil
}

func (a *Announcer) post(ctx context.Context, threadTS string, p Part) (trains.MessageRef, error) {
	return a.postTo(ctx, a.channel, threadTS, p)
}

func (a *Announcer) postTo(ctx context.Context, channel, threadTS string, p Part) (trains.MessageRef, error) {
	opts := []slack.MsgOption{
		slack.MsgOptionText(p.Fallback, false),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if len(p.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(p.Blocks...))
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	var ref trains.MessageRef
	err := a.retry(ctx, "chat.postMessage", func() error {
		ch, ts, err := a.api.PostMessageContext(ctx, channel, opts...)
		ref = trains.MessageRef{Channel: ch, TS: ts}
		return err
	})
	if ref.Channel == "" {
		ref.Channel = channel
	}
	return ref, err
}

// retry calls f, waiting out rate limits up to RateLimitRetries times, and
// explains the final error.
func (a *Announcer) retry(ctx context.Context, method string, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			return explainSlackError(err)
		}
		if attempt >= RateLimitRetries {
			return fmt.Errorf("rate limited by Slack: %s %d times in a row (retry after %s): try again later: %w", method, attempt+1, rl.RetryAfter, err)
		}
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		a.log.Warn("Slack rate limited a call; waiting", "method", method, "retry_after", wait, "attempt", attempt+1)
		if err := a.sleep(ctx, wait); err != nil {
			return fmt.Errorf("waiting out Slack's rate limit on %s: %w", method, err)
		}
	}
}

// slackHints say what to do about Slack's error codes.
var slackHints = map[string]string{
	"not_in_channel":      "invite the bot to the channel with /invite @trainbot",
	"channel_not_found":   "check that TRAINBOT_CHANNEL is a channel id (C…) the bot can see, and invite the bot to it",
	"is_archived":         "the channel is archived: unarchive it or set TRAINBOT_CHANNEL to another channel",
	"invalid_auth":        "check SLACK_BOT_TOKEN (an xoxb- token of this workspace)",
	"not_authed":          "set SLACK_BOT_TOKEN",
	"token_revoked":       "the bot token was revoked: reinstall the app and set SLACK_BOT_TOKEN",
	"account_inactive":    "the bot token was revoked: reinstall the app and set SLACK_BOT_TOKEN",
	"missing_scope":       "add the missing scope (chat:write, usergroups:read) to the app and reinstall it",
	"message_not_found":   "the message was deleted, so there is nothing to edit",
	"cant_update_message": "the bot can only edit messages it posted",
	"invalid_blocks":      "trainbot built a message Slack does not accept: this is a bug, report it with this line",
	"msg_blocks_too_long": "trainbot built a message too long for Slack: this is a bug, report it with this line",
	"no_text":             "trainbot built an empty message: this is a bug, report it with this line",
	"no_such_subteam":     "the user group does not exist: check the S… ids in TRAINBOT_RELEASERS, TRAINBOT_CHAINOPS and TRAINBOT_VALIDATORS",
	"subteam_not_found":   "the user group does not exist: check the S… ids in TRAINBOT_RELEASERS, TRAINBOT_CHAINOPS and TRAINBOT_VALIDATORS",
}

// explainSlackError says in plain words what Slack answered, and what to do.
func explainSlackError(err error) error {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		msg := "Slack says " + se.Err
		var details []string
		for _, e := range se.Errors {
			if e.Message != nil {
				details = append(details, *e.Message)
			}
		}
		if len(details) > 0 {
			msg += " (" + strings.Join(details, "; ") + ")"
		}
		if h, ok := slackHints[se.Err]; ok {
			msg += ": " + h
		}
		return &SlackError{msg: msg, err: err}
	}
	if h, ok := slackHints[err.Error()]; ok {
		return &SlackError{msg: "Slack says " + err.Error() + ": " + h, err: err}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return &SlackError{msg: fmt.Sprintf("Slack answered HTTP %d: try again in a minute; if it lasts, see https://slack-status.com", sc.Code), err: err}
	}
	return &SlackError{msg: "cannot reach Slack (" + err.Error() + "): check the network and SLACK_API_URL", err: err}
}

// SlackError is an error from Slack explained in plain words. It wraps the
// slack-go error (match with errors.As).
type SlackError struct {
	msg string
	err error
}

// Error says what Slack refused and what to do.
func (e *SlackError) Error() string { return e.msg }

// Unwrap returns slack-go's error.
func (e *SlackError) Unwrap() error { return e.err }
