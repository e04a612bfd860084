package bot

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/trains"
)

// maxReplyParts is how many messages one reply may take: a response_url
// takes at most five posts.
const maxReplyParts = 5

// reply sends m to the person who asked, ephemeral: through the
// response_url, or with chat.postEphemeral when that fails. A long m is
// split over several messages (RenderAll).
func (b *Bot) reply(ctx context.Context, log *slog.Logger, j job, m trains.Message) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ReplyTimeout)
	defer cancel()
	parts := RenderAll(m)
	if len(parts) > maxReplyParts {
		more := len(parts) - maxReplyParts
		parts = parts[:maxReplyParts]
		last := &parts[maxReplyParts-1]
		note := contextNote(fmt.Sprintf("… %d more %s not shown", more, trains.Plural(more, "message", "messages")))
		if len(last.Blocks) >= MaxBlocks {
			last.Blocks = last.Blocks[:MaxBlocks-1]
		}
		last.Blocks = append(last.Blocks, note)
	}
	for _, p := range parts {
		if err := b.replyPart(ctx, j, p); err != nil {
			log.Error("could not send the reply", "err", err)
			return
		}
	}
}

func (b *Bot) replyPart(ctx context.Context, j job, p Part) error {
	opts := []slack.MsgOption{slack.MsgOptionText(p.Fallback, false)}
	if len(p.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(p.Blocks...))
	}
	var viaURL error
	if j.responseURL != "" {
		_, _, viaURL = b.api.PostMessageContext(ctx, "", append(opts, slack.MsgOptionResponseURL(j.responseURL, slack.ResponseTypeEphemeral))...)
		if viaURL == nil {
			return nil
		}
	}
	_, err := b.api.PostEphemeralContext(ctx, j.req.Channel, j.req.User, opts...)
	if err != nil {
		if viaURL != nil {
			return fmt.Errorf("reply to %s in %s: through response_url: %v; with chat.postEphemeral: %w", j.req.User, j.req.Channel, viaURL, err)
		}
		return fmt.Errorf("reply to %s in %s with chat.postEphemeral: %w", j.req.User, j.req.Channel, err)
	}
	return nil
}
