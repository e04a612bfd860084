package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// runBare is the floor: a slack-go Socket Mode client that only acks, until
// interrupted. The fake's default tokens are the ones it accepts.
func runBare(apiURL string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	api := slack.New(slackfake.DefaultBotToken, slack.OptionAppLevelToken(slackfake.DefaultAppToken), slack.OptionAPIURL(apiURL))
	return slackfake.RunAckOnly(ctx, socketmode.New(api))
}
