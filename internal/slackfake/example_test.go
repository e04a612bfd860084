package slackfake_test

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// A bot under test runs the real slack-go clients against the fake; the test
// plays the user's side and inspects what the bot posted.
func Example() {
	fake := slackfake.New(slackfake.Options{
		Channels: []slackfake.Channel{{ID: "C0CHANNEL1", Name: "rel"}},
		Users:    []slackfake.User{{ID: "U01", Name: "ana"}},
	})
	defer fake.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The bot: ack each slash command with a reply, then post in the channel.
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	sm := socketmode.New(api)
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(ctx) }()
	go func() {
		for evt := range sm.Events {
			if cmd, ok := evt.Data.(slack.SlashCommand); ok {
				_ = sm.Ack(*evt.Request, map[string]any{"text": "on it"})
				_, _, _ = api.PostMessageContext(ctx, cmd.ChannelID, slack.MsgOptionText("train "+cmd.Text+" started", false))
			}
		}
	}()

	ack, err := fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "staging"})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(ack.Payload))
	msg, err := fake.WaitMessage(ctx, func(m slackfake.Message) bool { return m.Channel == "C0CHANNEL1" && !m.Ephemeral })
	if err != nil {
		panic(err)
	}
	fmt.Println(msg.Text)
	fmt.Println(fake.Ephemerals("U01")[0].Text)
	cancel()
	<-done
	// Output:
	// {"text":"on it"}
	// train staging started
	// on it
}
