// Package redisstore keeps trainbot's state in Redis through a go-redis v9
// redis.UniversalClient: one node, Sentinel or Cluster.
//
// Every key lives under one prefix (see docs/storage.md for the layout).
// Every change that touches several keys is one Lua script or one
// MULTI/EXEC, leases are SET NX PX with a fencing token from an INCR
// counter, and the audit log is a Redis Stream. No path uses KEYS.
//
// A Redis failure that changed nothing — every failed read, and a write
// that never went out (refused connection, pool timeout, closed client) or
// that Redis refused (LOADING, READONLY, MOVED, …) — comes back as an
// error wrapping trains.ErrUnavailable, with the cause kept in the message
// and in the chain for errors.Is. A write that went out and got no answer
// (a timeout, a dropped connection) may have been applied: it is settled
// before the call returns (see unclear.go), and is ErrUnclear only when
// that fails too. Every call is bounded by a deadline: the caller's, or
// the store's timeout when the caller gave none; settling gets fresh ones.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// DefaultTimeout bounds a call whose context has no deadline.
const DefaultTimeout = 2 * time.Second

// DefaultPrefix is the key prefix used when New is given an empty one.
const DefaultPrefix = "trainbot:"

// Store is a trains.Store on Redis. It is safe for concurrent use. It does
// not own the client: whoever made the client closes it.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	clock   trains.Clock
	log     *slog.Logger
	auditN  int64 // cap of the audit stream; 0: none
	trainN  int64 // cap of each train's audit stream; 0: none
	onErr   func()

	// pending remembers the claims of this process that could not be
	// settled (see unclear.go): "claim:<key>" → the claim's token.
	pendMu  sync.Mutex
	pending map[string]string
}

var _ trains.Store = (*Store)(nil)
var _ trains.CalendarReader = (*Store)(nil)

// Option changes how New sets the store up.
type Option func(*Store)

// WithTimeout bounds each call whose context has no deadline (DefaultTimeout
// when not given or not positive).
func WithTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithClock sets the clock a Lease's Expiry is computed from (the system
// clock by default). Expiry itself is kept by Redis, not by this clock.
func WithClock(c trains.Clock) Option {
	return func(s *Store) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithLogger sets the logger (slog.Default by default).
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.log = l
		}
	}
}

// WithErrorHook calls f on every failed call to Redis (for a metric).
func WithErrorHook(f func()) Option { return func(s *Store) { s.onErr = f } }

// WithAuditMaxLen bounds the audit stream, and each train's audit stream,
// to about n entries (0, the default, keeps every entry). Each append trims
// the oldest entries with XADD MAXLEN ~ n. The "~" lets Redis drop only
// whole stream nodes, which is cheap but inexact: a stream keeps at least n
// entries once it has had n, and at most n plus one node, i.e. n +
// stream-node-max-entries (100 unless redis.conf changes it). A stream that
// is already longer (a cap lowered, a store that was not bounded) shrinks
// by up to 100 × stream-node-max-entries entries on each append (Redis's
// default trim LIMIT).
func WithAuditMaxLen(n int64) Option {
	return func(s *Store) { s.auditN = max(n, 0) }
}

// WithTrainAuditMaxLen bounds each train's audit stream (audit:<train id>)
// to about n entries, the same way (0, the default: the cap WithAuditMaxLen
// sets). A train's cap is never above the whole log's.
func WithTrainAuditMaxLen(n int64) Option {
	return func(s *Store) { s.trainN = max(n, 0) }
}

// New returns a store that keeps its keys under prefix in the Redis behind
// client. With a Cluster client the prefix must hold a hash tag, e.g.
// "{trainbot}:", so that every key is in one slot and the multi-key scripts
// and transactions may run.
func New(client redis.UniversalClient, prefix string, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: no Redis client given")
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if _, ok := client.(*redis.ClusterClient); ok && !hasHashTag(prefix) {
		return nil, fmt.Errorf("redisstore: with Redis Cluster the key prefix %q must hold a hash tag so all of trainbot's keys share a slot: set it to e.g. %q", prefix, hashTagged(prefix))
	}
	s := &Store{rdb: client, prefix: prefix, timeout: DefaultTimeout, clock: trains.SystemClock{}, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.trainN == 0 || (s.auditN > 0 && s.trainN > s.auditN) {
		s.trainN = s.auditN
	}
	return s, nil
}

// hasHashTag says whether keys under prefix p all hash to one Cluster
// slot. Redis hashes only the hash tag of a key when it has one: the text
// between the first "{" and the first "}" after it, if not empty.
func hasHashTag(p string) bool {
	i := strings.IndexByte(p, '{')
	return i >= 0 && strings.IndexByte(p[i+1:], '}') > 0
}

// hashTagged suggests a prefix with a hash tag for p: p's text without
// its braces and its trailing ":", in braces, then ":" ("trainbot:" →
// "{trainbot}:", "{trainbot:" → "{trainbot}:"), or "{trainbot}:" when no
// text is left ("{}:").
func hashTagged(p string) string {
	name := strings.NewReplacer("{", "", "}", "").Replace(strings.TrimSuffix(p, ":"))
	name = strings.TrimSuffix(name, ":")
	if name == "" {
		name = strings.TrimSuffix(DefaultPrefix, ":")
	}
	return "{" + name + "}:"
}

// Prefix returns the prefix every key of the store starts with.
func (s *Store) Prefix() string { return s.prefix }

// bound gives ctx the store's timeout when it has no deadline.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.timeout)
}

// unavailable wraps a Redis failure that changed nothing: it says what was
// being done, that nothing was changed (trains.ErrUnavailable) and why.
func (s *Store) unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, trains.ErrUnavailable) {
		return err
	}
	var ce *corruptError
	if errors.As(err, &ce) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	s.log.Warn("redis call failed", "op", op, "err", err)
	if s.onErr != nil {
		s.onErr()
	}
	return fmt.Errorf("redis: %s: %w: %w", op, trains.ErrUnavailable, err)
}

// corruptError is a stored value that does not decode: a bug or a foreign
// writer under our prefix, not an unreachable store.
type corruptError struct {
	what string
	err  error
}

func corrupt(what string, err error) error { return &corruptError{what, err} }

func (e *corruptError) Error() string {
	return fmt.Sprintf("%s does not decode (was it written by another program under this prefix?): %v", e.what, e.err)
}

func (e *corruptError) Unwrap() error { return e.err }

// Key names. Each is the prefix followed by the name below; docs/storage.md
// lists them.
const (
	keyTrains       = "trains"         // hash: id → train JSON
	keyTrainVer     = "trains:version" // hash: id → version
	keyTrainsByAt   = "trains:by_at"   // zset: id by At (µs)
	keyTrainsOpen   = "trains:open"    // zset: ids of non-final trains by At (µs)
	keyTrainWrite   = "trains:write"   // hash: id → id of the write that stored it
	keyWindows      = "windows"        // hash: id → window JSON
	keyWindowsUntil = "windows:until"  // zset: id by Until (µs)
	keyRotation     = "rotation"       // string: {members, since} JSON
	keyOverrides    = "rotation:overrides"
	keyLine         = "line"       // string: X.Y.Z
	keyAudit        = "audit"      // stream: e → entry JSON
	keyAuditTrain   = "audit:"     // + train id: stream per train
	keyDeploys      = "deploys"    // hash: run id → record JSON
	keyDeploysByAt  = "deploys:at" // zset: run id by At (µs)
	keyClaim        = "claim:"     // + key: string with PX
	keyLease        = "lease:"     // + name: "<token> <holder>" with PX
	keyFence        = "fence:"     // + name: INCR counter of tokens
	keySignOffs     = "signed:"    // + id:kind: hash u:<user> → record JSON, k:<user> → what it signs
)

func (s *Store) key(parts ...string) string {
	return s.prefix + strings.Join(parts, "")
}

// score is the sorted-set score of t: Unix microseconds, exact in a
// float64 until the year 2255. Reads filter on the exact time after.
func score(t time.Time) float64 { return float64(t.UnixMicro()) }

func scoreArg(t time.Time) string { return fmt.Sprintf("%d", t.UnixMicro()) }

// Ping checks Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.unavailable("ping", s.rdb.Ping(ctx).Err())
}
