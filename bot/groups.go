package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/trainbot/trainbot/trains"
)

// Defaults of GroupsConfig.
const (
	// DefaultGroupsTTL is how long a user group's members are fresh.
	DefaultGroupsTTL = 5 * time.Minute
	// DefaultGroupsMaxStale is how long after the last good read a group's
	// members still serve while Slack cannot be read (SPEC §6).
	DefaultGroupsMaxStale = time.Hour
	// DefaultGroupsReadTimeout bounds one usergroups.users.list request.
	DefaultGroupsReadTimeout = 10 * time.Second
	// DefaultGroupsConcurrentReads is how many groups are read from Slack
	// at once.
	DefaultGroupsConcurrentReads = 8
)

// refreshAhead is the fraction of the TTL after which a lookup of a group
// starts reading it again in the background, serving the members it has
// meanwhile.
const refreshAhead = 0.8

// GroupsConfig configures Groups. The zero value works: the Default*
// durations, the system clock, discarded logs.
type GroupsConfig struct {
	// TTL is how long a group's members are fresh; past it the next
	// lookup reads the group again.
	TTL time.Duration
	// MaxStale is how long after the last successful read the members
	// serve while reads fail; past it the group cannot be read and
	// lookups fail with trains.ErrRoleUnknown (fail closed).
	MaxStale time.Duration
	// ReadTimeout bounds one read of a group, which every caller waiting
	// for it shares. It starts when the read asks Slack, not while it
	// waits for one of the ConcurrentReads slots.
	ReadTimeout time.Duration
	// ConcurrentReads bounds how many groups are read from Slack at once,
	// whoever asks for them.
	ConcurrentReads int
	// Clock tells the time; nil is the system clock.
	Clock trains.Clock
	// Logger gets the warnings about groups that cannot be read.
	Logger *slog.Logger
}

// Groups expands Slack user groups (S…) with usergroups.users.list. Each
// group's members are held as a set, fresh for a TTL; past it one read is
// made for all the callers that ask meanwhile. A group looked up after 80%
// of its TTL is read again in the background while the members it has
// serve, so a group in use seldom makes a caller wait on Slack. At most
// ConcurrentReads groups are read at once. When a read fails, the members
// read before serve for at most MaxStale after the last good read, then
// the group cannot be read (SPEC §6: fail closed). It is safe for
// concurrent use.
type Groups struct {
	api      *slack.Client
	ttl      time.Duration
	maxStale time.Duration
	timeout  time.Duration
	clock    trains.Clock
	log      *slog.Logger
	// slots holds a token per read in flight: at most ConcurrentReads.
	slots chan struct{}

	mu     sync.RWMutex
	groups map[string]*group
}

// group is what Groups knows of one user group. Its fields are guarded by
// Groups.mu.
type group struct {
	// members is the set read last, nil until a read succeeds. A set is
	// never changed once stored (a read stores a new one), so it may be
	// read without the lock.
	members *memberSet
	// failing is when reads started failing since the last good one, zero
	// while the last read succeeded.
	failing time.Time
	// reading is the read in flight, nil when none.
	reading *groupRead
}

// groupRead is one usergroups.users.list request that every caller asking
// for the group meanwhile waits for.
type groupRead struct {
	done    chan struct{} // closed when members and err are set
	members *memberSet
	err     error
}

// memberSet is the members of a group as one read found them. It is never
// changed once made.
type memberSet struct {
	users map[string]struct{}
	// read is when the members were asked for.
	read time.Time
}

// has reports whether user is in the set.
func (s *memberSet) has(user string) bool {
	_, ok := s.users[user]
	return ok
}

// NewGroups returns Groups on api.
func NewGroups(api *slack.Client, cfg GroupsConfig) *Groups {
	g := &Groups{api: api, ttl: cfg.TTL, maxStale: cfg.MaxStale, timeout: cfg.ReadTimeout, clock: cfg.Clock, log: cfg.Logger,
		groups: map[string]*group{}}
	if g.ttl <= 0 {
		g.ttl = DefaultGroupsTTL
	}
	if g.maxStale <= 0 {
		g.maxStale = DefaultGroupsMaxStale
	}
	if g.timeout <= 0 {
		g.timeout = DefaultGroupsReadTimeout
	}
	n := cfg.ConcurrentReads
	if n <= 0 {
		n = DefaultGroupsConcurrentReads
	}
	g.slots = make(chan struct{}, n)
	if g.clock == nil {
		g.clock = trains.SystemClock{}
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	return g
}

// IsMember reports whether user is in group. On a warm cache it allocates
// nothing. Its errors wrap trains.ErrRoleUnknown when the group cannot be
// read (and say which group, since when, and what Slack answered), or are
// ctx's when ctx ends while waiting for a read.
func (g *Groups) IsMember(ctx context.Context, group, user string) (bool, error) {
	set, err := g.set(ctx, group)
	if err != nil {
		return false, err
	}
	return set.has(user), nil
}

// Members returns the user ids in group, sorted, in a slice the caller
// owns. It fails as IsMember does.
func (g *Groups) Members(ctx context.Context, group string) ([]string, error) {
	set, err := g.set(ctx, group)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set.users))
	for u := range set.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out, nil
}

// set returns the members of id: fresh from the cache, else from a read
// (shared with every caller asking meanwhile), else stale from the cache
// while that is allowed.
func (g *Groups) set(ctx context.Context, id string) (*memberSet, error) {
	set, r := g.lookup(ctx, id)
	if set != nil {
		return set, nil
	}
	return r.wait(ctx, id)
}

// sets returns the members of each of ids, sets[i] for ids[i]; where a
// group cannot be read, sets[i] is nil and errs[i] says why. Groups that
// are not fresh are read at once (at most ConcurrentReads at a time). When
// done is set, sets stops waiting as soon as a set satisfies it, leaving
// the sets still being read nil with a nil error.
func (g *Groups) sets(ctx context.Context, ids []string, done func(*memberSet) bool) (sets []*memberSet, errs []error) {
	sets = make([]*memberSet, len(ids))
	var reads []*groupRead
	for i, id := range ids {
		set, r := g.lookup(ctx, id)
		sets[i] = set
		if set != nil && done != nil && done(set) {
			return sets, nil
		}
		if r != nil {
			if reads == nil {
				reads = make([]*groupRead, len(ids))
			}
			reads[i] = r
		}
	}
	for i, r := range reads {
		if r == nil {
			continue
		}
		set, err := r.wait(ctx, ids[i])
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ids))
			}
			errs[i] = err
			continue
		}
		sets[i] = set
		if done != nil && done(set) {
			return sets, errs
		}
	}
	return sets, errs
}

// lookup returns the members of id when they are fresh — starting a read
// in the background when they are older than refreshAhead of the TTL — or
// else the read to wait for, which it starts unless one is in flight.
func (g *Groups) lookup(ctx context.Context, id string) (*memberSet, *groupRead) {
	now := g.clock.Now()
	g.mu.RLock()
	if e := g.groups[id]; e != nil && e.members != nil && g.age(e.members, now) < g.refreshAfter() {
		set := e.members
		g.mu.RUnlock()
		return set, nil
	}
	g.mu.RUnlock()

	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.groups[id]
	if e == nil {
		e = &group{}
		g.groups[id] = e
	}
	r := e.reading
	if r == nil {
		if e.members != nil && g.age(e.members, now) < g.refreshAfter() { // read by another caller meanwhile
			return e.members, nil
		}
		r = &groupRead{done: make(chan struct{})}
		e.reading = r
		// The read is shared: it does not end with this caller's ctx.
		go g.read(context.WithoutCancel(ctx), id, e, r)
	}
	if e.members != nil && g.age(e.members, now) < g.ttl { // still fresh: refreshed in the background
		return e.members, nil
	}
	return nil, r
}

// age is how long ago set was read.
func (g *Groups) age(set *memberSet, now time.Time) time.Duration { return now.Sub(set.read) }

// refreshAfter is the age past which a lookup reads a group again.
func (g *Groups) refreshAfter() time.Duration {
	return time.Duration(float64(g.ttl) * refreshAhead)
}

// wait waits for r to be settled or ctx to end.
func (r *groupRead) wait(ctx context.Context, id string) (*memberSet, error) {
	select {
	case <-r.done:
		return r.members, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the members of user group %s: %w", id, context.Cause(ctx))
	}
}

// read asks Slack for the members of id, stores them in e and settles r.
func (g *Groups) read(ctx context.Context, id string, e *group, r *groupRead) {
	defer close(r.done)
	// Wait for a slot, then ask: ReadTimeout bounds the request, not the
	// wait, which the reads ahead (each bounded) keep short.
	g.slots <- struct{}{}
	asked := g.clock.Now()
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	users, err := g.api.GetUserGroupMembersContext(ctx, id)
	cancel()
	<-g.slots
	now := g.clock.Now()

	g.mu.Lock()
	e.reading = nil
	if err == nil {
		set := &memberSet{users: make(map[string]struct{}, len(users)), read: asked}
		for _, u := range users {
			set.users[u] = struct{}{}
		}
		e.members, e.failing = set, time.Time{}
		r.members = set
		g.mu.Unlock()
		return
	}
	if e.failing.IsZero() {
		e.failing = asked
	}
	members, failing := e.members, e.failing
	g.mu.Unlock()

	var read time.Time
	if members != nil {
		read = members.read
	}
	err = explainSlackError(err)
	if members != nil && now.Sub(read) <= g.maxStale {
		g.log.Warn("could not read a user group; its members read before serve until they are too old",
			"group", id, "read", read, "failing_since", failing, "until", read.Add(g.maxStale), "err", err)
		r.members = members
		return
	}
	r.err = &groupError{group: id, read: read, failing: failing, maxStale: g.maxStale, err: err}
	g.log.Warn("a user group cannot be read: the roles it grants are refused", "group", id, "read", read,
		"failing_since", failing, "err", err)
}

// groupError says that a user group cannot be read now: Slack fails and
// the members read before, if any, are too old. It wraps
// trains.ErrRoleUnknown and Slack's error.
type groupError struct {
	group         string
	read, failing time.Time // read is zero when the group was never read
	maxStale      time.Duration
	err           error
}

func (e *groupError) Error() string {
	if e.read.IsZero() {
		return fmt.Sprintf("user group %s cannot be read: %v", e.group, e.err)
	}
	return fmt.Sprintf("user group %s cannot be read since %s, and its members read at %s are more than %s old: %v",
		e.group, utcMinute(e.failing), utcMinute(e.read), shortDuration(e.maxStale), e.err)
}

func (e *groupError) Unwrap() []error { return []error{trains.ErrRoleUnknown, e.err} }

// utcMinute formats t as "2006-01-02 15:04 UTC".
func utcMinute(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// shortDuration formats d without zero units: "1h", "1h30m", "45s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
