package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/trains"
)

// DefaultGroupsTTL is how long Groups keeps a user group's members.
const DefaultGroupsTTL = 5 * time.Minute

// GroupsConfig configures Groups. The zero value works: DefaultGroupsTTL,
// the system clock, discarded logs.
type GroupsConfig struct {
	TTL    time.Duration
	Clock  trains.Clock
	Logger *slog.Logger
}

// Groups expands Slack user groups (S…) to their members with
// usergroups.users.list, keeping each group's members for a TTL. It is
// safe for concurrent use.
type Groups struct {
	api   *slack.Client
	ttl   time.Duration
	clock trains.Clock
	log   *slog.Logger

	mu    sync.Mutex
	cache map[string]groupEntry
}

type groupEntry struct {
	members []string
	fetched time.Time
}

var _ commands.Groups = (*Groups)(nil)

// NewGroups returns Groups on api.
func NewGroups(api *slack.Client, cfg GroupsConfig) *Groups {
	g := &Groups{api: api, ttl: cfg.TTL, clock: cfg.Clock, log: cfg.Logger, cache: map[string]groupEntry{}}
	if g.ttl <= 0 {
		g.ttl = DefaultGroupsTTL
	}
	if g.clock == nil {
		g.clock = systemClock{}
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	return g
}

// GroupMembers returns the user ids in group. Members fetched less than a
// TTL ago come from the cache. When Slack cannot be asked, it returns the
// last members it knew, if any, with a warning in the log; else an error
// naming the group.
func (g *Groups) GroupMembers(ctx context.Context, group string) ([]string, error) {
	now := g.clock.Now()
	g.mu.Lock()
	e, ok := g.cache[group]
	g.mu.Unlock()
	if ok && now.Sub(e.fetched) < g.ttl {
		return append([]string(nil), e.members...), nil
	}
	members, err := g.api.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		err = fmt.Errorf("expand user group %s: %w", group, explainSlackError(err))
		if ok {
			g.log.Warn("could not refresh a user group; using the members fetched before", "group", group,
				"fetched", e.fetched, "err", err)
			return append([]string(nil), e.members...), nil
		}
		return nil, err
	}
	g.mu.Lock()
	g.cache[group] = groupEntry{members: append([]string(nil), members...), fetched: now}
	g.mu.Unlock()
	return members, nil
}
