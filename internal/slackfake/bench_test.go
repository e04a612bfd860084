package slackfake_test

import (
	"context"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// BenchmarkSlashCommandAck measures a round trip through the fake and a bare
// slack-go client that only acks: the floor under any bot's ack latency.
func BenchmarkSlashCommandAck(b *testing.B) {
	fake := slackfake.New(slackfake.Options{Channels: []slackfake.Channel{{ID: "C0CHANNEL1"}}})
	defer fake.Close()
	api := newAPI(fake)
	sm := socketmode.New(api)
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- slackfake.RunAckOnly(ctx, sm) }()
	defer func() { cancel(); <-done }()
	var total time.Duration
	for b.Loop() {
		ack, err := fake.SlashCommand(ctx, slackfake.SlashCommand{UserID: "U01", ChannelID: "C0CHANNEL1", Text: "status"})
		if err != nil {
			b.Fatal(err)
		}
		total += ack.Latency
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "ack-µs/op")
}
