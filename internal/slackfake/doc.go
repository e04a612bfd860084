// Package slackfake is an in-process fake of Slack for end-to-end tests and
// benchmarks, driven by the real slack-go client. It speaks Slack's wire
// formats (docs PROTOCOLS.md §1–4):
//
//   - apps.connections.open and the Socket Mode WebSocket: hello, PINGs,
//     envelopes (slash_commands, interactive block_actions, any other you
//     build), acks with payloads and latency, redelivery, disconnect frames;
//   - the Web API methods trainbot calls (auth.test, chat.postMessage,
//     chat.postEphemeral, chat.update, usergroups.users.list, users.info),
//     form-encoded with the bot token in the body, with Block Kit validation;
//   - response_url receivers, at most five uses each;
//   - fault injection (429 with Retry-After, ok:false errors, 5xx),
//     holding a method's calls until released (Hold, WaitHeld) to line up
//     concurrent callers, and counters.
//
// Every message the bot posts is stored and can be queried or waited for;
// waits block on state changes, never on timers.
//
// A bot test:
//
//	fake := slackfake.NewForTest(t, slackfake.Options{
//		Channels:   []slackfake.Channel{{ID: "C0CHANNEL1", Name: "rel"}},
//		Users:      []slackfake.User{{ID: "U01", Name: "ana"}},
//		UserGroups: map[string][]string{"S01": {"U01"}},
//	})
//	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()),
//		slack.OptionAPIURL(fake.APIURL()))
//	sm := socketmode.New(api)
//	go runBot(ctx, api, sm) // the code under test
//	ack, err := fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "start staging"})
//	// ack.Payload is the reply; ack.Latency how long the bot took.
//	msg, err := fake.WaitMessage(ctx, func(m slackfake.Message) bool {
//		return m.Channel == "C0CHANNEL1" && strings.Contains(m.AllText(), "staging")
//	})
//	_, err = fake.Click(ctx, "U01", msg, "approve")
//
// A benchmark uses New and Close instead of NewForTest, and Stats.
//
// On a server made by NewForTest, every Web API call — the request and the
// fake's answer — is checked against Slack's own description of the Web
// API (internal/contract), and a mismatch beyond contract.SlackQuirks
// fails the test. See docs/contracts.md.
package slackfake
