package redisstore_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// recorder is a go-redis hook that counts round trips (one per command
// sent alone, one per pipeline or MULTI/EXEC) and records command names.
type recorder struct {
	trips atomic.Int64
	mu    sync.Mutex
	names map[string]bool
}

func newRecorder() *recorder { return &recorder{names: map[string]bool{}} }

func (r *recorder) note(cmds ...redis.Cmder) {
	r.trips.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		r.names[strings.ToLower(c.Name())] = true
	}
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.note(cmd)
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.note(cmds...)
		return next(ctx, cmds)
	}
}

// forbidden are commands no store path may send.
var forbidden = []string{"keys", "scan", "flushdb", "flushall"}

// harness is a store on its own prefix, its clock, the round-trip recorder
// on the store's client, and a second raw client for the harness itself.
type harness struct {
	store *redisstore.Store
	clock *trainstest.Clock
	rec   *recorder
	raw   *redis.Client
}

func newRedisHarness(t testing.TB, opts ...redisstore.Option) harness {
	t.Helper()
	r := redistest.New(t)
	rec := newRecorder()
	client := r.NewClient(t, nil)
	client.AddHook(rec)
	t.Cleanup(func() {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, name := range forbidden {
			if rec.names[name] {
				t.Errorf("the store sent %s", strings.ToUpper(name))
			}
		}
	})
	clock := trainstest.NewClock(storagetest.T0)
	s, err := redisstore.New(client, r.Prefix, append([]redisstore.Option{redisstore.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return harness{store: s, clock: clock, rec: rec, raw: r.Client}
}

// newHarness makes time pass by moving the store's clock and taking d off
// the TTL of every key under the prefix that has one (deleting those whose
// TTL is d or less): Redis expires the keys, the clock only dates Lease.Expiry.
func newHarness(t testing.TB) storagetest.Harness {
	h := newRedisHarness(t)
	return storagetest.Harness{
		Store: h.store,
		Advance: func(t testing.TB, d time.Duration) {
			h.clock.Advance(d)
			advanceTTLs(t, h.raw, h.store.Prefix(), d)
		},
		Bounded: func(t testing.TB, max, trainMax int) trains.Store {
			return newRedisHarness(t, redisstore.WithAuditMaxLen(int64(max)), redisstore.WithTrainAuditMaxLen(int64(trainMax))).store
		},
		AuditSlack: streamNodeMaxEntries(t, h.raw),
	}
}

// streamNodeMaxEntries is the Redis's stream-node-max-entries: XADD
// MAXLEN ~ n keeps at most n plus that many entries.
func streamNodeMaxEntries(t testing.TB, c *redis.Client) int {
	t.Helper()
	v, err := c.ConfigGet(t.Context(), "stream-node-max-entries").Result()
	if err != nil {
		t.Fatalf("CONFIG GET stream-node-max-entries: %v", err)
	}
	n, err := strconv.Atoi(v["stream-node-max-entries"])
	if err != nil || n <= 0 {
		t.Fatalf("stream-node-max-entries is %q: the audit bound needs a positive one (the default is 100)", v["stream-node-max-entries"])
	}
	return n
}

func advanceTTLs(t testing.TB, c *redis.Client, prefix string, d time.Duration) {
	t.Helper()
	ctx := t.Context()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("advance: scan: %v", err)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("advance: pttl %s: %v", k, err)
		}
		switch {
		case ttl <= 0: // no expiry (-1), or gone (-2)
		case ttl <= d:
			err = c.Del(ctx, k).Err()
		default:
			err = c.PExpire(ctx, k, ttl-d).Err()
		}
		if err != nil {
			t.Fatalf("advance: %s: %v", k, err)
		}
	}
}
