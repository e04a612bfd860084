package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/trains"
)

// Defaults of NamesConfig.
const (
	// DefaultNamesTTL is how long a name read from Slack is used before it
	// is read again (people seldom rename themselves).
	DefaultNamesTTL = time.Hour
	// DefaultNamesFailTTL is how long a failed read is remembered, so
	// that while Slack cannot be read each page does not wait on it for
	// every person again.
	DefaultNamesFailTTL = time.Minute
	// DefaultNamesMax bounds the cache: a workspace's releasers,
	// validators and on-call fit many times over.
	DefaultNamesMax = 1000
	// DefaultNamesReadTimeout bounds one users.info request.
	DefaultNamesReadTimeout = 3 * time.Second
)

// NamesConfig configures Names. The zero value works: the Default* values,
// the system clock, discarded logs.
type NamesConfig struct {
	// TTL is how long a name read is fresh.
	TTL time.Duration
	// FailTTL is how long a failed read is remembered before Slack is
	// asked again.
	FailTTL time.Duration
	// Max is how many people the cache holds; past it, the entry closest
	// to expiry gives way.
	Max int
	// ReadTimeout bounds one users.info request.
	ReadTimeout time.Duration
	// Clock tells the time; nil is the system clock.
	Clock trains.Clock
	// Logger gets a warning when a name cannot be read.
	Logger *slog.Logger
}

// Names reads people's display names from Slack (users.info, scope
// users:read) for the calendar page, its feed and the calendar file. It
// keeps each name for a TTL in a bounded cache; a user Slack does not know
// is remembered as such for the TTL, and any other failure for FailTTL,
// while a name read before keeps serving. It is safe for concurrent use.
type Names struct {
	api     *slack.Client
	ttl     time.Duration
	failTTL time.Duration
	max     int
	timeout time.Duration
	clock   trains.Clock
	log     *slog.Logger

	mu    sync.Mutex
	cache map[string]nameEntry
}

// nameEntry is what Names knows of one user.
type nameEntry struct {
	// name is the last name read; empty when none was.
	name string
	// err is the last read's failure; nil when it succeeded.
	err error
	// until is when the entry must be read again.
	until time.Time
}

var _ trains.Names = (*Names)(nil)

// NewNames returns Names reading from api.
func NewNames(api *slack.Client, cfg NamesConfig) *Names {
	n := &Names{api: api, ttl: cfg.TTL, failTTL: cfg.FailTTL, max: cfg.Max, timeout: cfg.ReadTimeout,
		clock: cfg.Clock, log: cfg.Logger, cache: map[string]nameEntry{}}
	if n.ttl <= 0 {
		n.ttl = DefaultNamesTTL
	}
	if n.failTTL <= 0 {
		n.failTTL = DefaultNamesFailTTL
	}
	if n.max <= 0 {
		n.max = DefaultNamesMax
	}
	if n.timeout <= 0 {
		n.timeout = DefaultNamesReadTimeout
	}
	if n.clock == nil {
		n.clock = trains.SystemClock{}
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	return n
}

// Name returns user's display name: the one they chose in their profile,
// else their full name, else their handle. A user Slack does not have is
// trains.ErrNoSuchUser; when Slack cannot be read, a name read before is
// returned if there is one, else the error.
func (n *Names) Name(ctx context.Context, user string) (string, error) {
	now := n.clock.Now()
	n.mu.Lock()
	e, ok := n.cache[user]
	n.mu.Unlock()
	if ok && now.Before(e.until) {
		if e.err != nil && e.name == "" {
			return "", e.err
		}
		return e.name, nil
	}

	name, err := n.read(ctx, user)
	if err != nil && ctx.Err() != nil {
		// The caller gave up (a page's time ran out, its client left):
		// not Slack's failure, so not remembered.
		if e.name != "" {
			return e.name, nil
		}
		return "", err
	}
	switch {
	case err == nil:
		e = nameEntry{name: name, until: now.Add(n.ttl)}
	case errors.Is(err, trains.ErrNoSuchUser):
		e = nameEntry{err: err, until: now.Add(n.ttl)}
	default:
		n.log.Warn("cannot read a Slack user's name; showing the id", "user", user, "err", err)
		e = nameEntry{name: e.name, err: err, until: now.Add(n.failTTL)}
	}
	n.store(user, e, now)
	if e.name != "" {
		return e.name, nil
	}
	return "", e.err
}

// read asks Slack for user's name.
func (n *Names) read(ctx context.Context, user string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	u, err := n.api.GetUserInfoContext(ctx, user)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "user_not_visible") {
			return "", fmt.Errorf("users.info %s: %w", user, trains.ErrNoSuchUser)
		}
		return "", fmt.Errorf("users.info %s: %w (check SLACK_BOT_TOKEN and the users:read scope)", user, err)
	}
	for _, s := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
		if s != "" {
			return s, nil
		}
	}
	return "", fmt.Errorf("users.info %s: %w", user, trains.ErrNoSuchUser)
}

// store keeps e for user, making room when the cache is full: expired
// entries go first, then the one closest to expiry.
func (n *Names) store(user string, e nameEntry, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.cache[user]; !ok && len(n.cache) >= n.max {
		for k, v := range n.cache {
			if !now.Before(v.until) {
				delete(n.cache, k)
			}
		}
		for len(n.cache) >= n.max {
			var first string
			var at time.Time
			for k, v := range n.cache {
				if first == "" || v.until.Before(at) {
					first, at = k, v.until
				}
			}
			delete(n.cache, first)
		}
	}
	n.cache[user] = e
}
