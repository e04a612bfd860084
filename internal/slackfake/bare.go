package slackfake

import (
	"context"

	"github.com/slack-go/slack/socketmode"
)

// RunAckOnly runs sm as the bare client that benchmarks compare a bot with:
// it acks every envelope at once and does nothing else, until ctx ends.
// It returns what sm.RunContext returns, nil when ctx ended.
func RunAckOnly(ctx context.Context, sm *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-sm.Events:
				if evt.Request != nil && evt.Request.EnvelopeID != "" {
					_ = sm.Ack(*evt.Request)
				}
			}
		}
	}()
	err := sm.RunContext(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
