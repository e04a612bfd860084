package trainstest

import (
	"context"
	"fmt"

	"github.com/trainbot/trainbot/trains"
)

// Names is a workspace's display names by Slack user id: a fake of
// trains.Names for tests of the domain (bot.Names reads Slack).
type Names map[string]string

var _ trains.Names = Names(nil)

// Name returns user's name, or trains.ErrNoSuchUser.
func (n Names) Name(_ context.Context, user string) (string, error) {
	if name, ok := n[user]; ok {
		return name, nil
	}
	return "", fmt.Errorf("%s: %w", user, trains.ErrNoSuchUser)
}
