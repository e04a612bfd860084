package trainstack

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
)

// FaultyRedis is a Redis store reached through a redistest.Proxy, for a
// stack (Options.Store) whose tests make the network misbehave: a write
// applied by Redis whose reply is lost, Redis cut off (SPEC §7). With
// Proxy.DropReplyAfterAndBlock and one of the matchers below, a write is
// applied and its reply lost, and the store cannot read it back either:
// the call answers an error wrapping trains.ErrUnclear, truthfully.
// Proxy.Unblock then lets the rest of the test run on the same Redis.
type FaultyRedis struct {
	// Store is the store, through the proxy.
	Store *redisstore.Store
	// Proxy is between Store and Redis.
	Proxy *redistest.Proxy
	// Redis is the Redis itself, with the test's key prefix; its client
	// goes straight to Redis, for checks.
	Redis *redistest.Redis
}

// FaultyTimeout bounds each call of a FaultyRedis's store, so that a lost
// reply costs that long, and settling the write two more such times.
const FaultyTimeout = 300 * time.Millisecond

// NewFaultyRedis returns a store on a Redis of t's own (redistest.New)
// through a proxy. Its client does not retry (go-redis would send the
// write again on its own; the store settles it instead), and the store
// gives up on a call after FaultyTimeout. Its scripts are loaded into
// Redis before it returns: a script Redis does not have yet goes out as
// EVALSHA and is refused with NOSCRIPT before it is sent as EVAL, and a
// test that drops the EVALSHA's reply would drop that refusal, not the
// reply to a write that was applied.
func NewFaultyRedis(t testing.TB) *FaultyRedis {
	t.Helper()
	r := redistest.New(t)
	p := redistest.NewProxy(t, r.URL)
	c := p.Client(t, func(o *redis.Options) { o.MaxRetries = -1 })
	s, err := redisstore.New(c, r.Prefix, redisstore.WithTimeout(FaultyTimeout), redisstore.WithLogger(Logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	loadScripts(t, r)
	return &FaultyRedis{Store: s, Proxy: p, Redis: r}
}

// loadScripts runs the store's train and claim scripts once, on keys
// under a prefix of their own, straight to Redis.
func loadScripts(t testing.TB, r *redistest.Redis) {
	t.Helper()
	s, err := redisstore.New(r.Client, r.Prefix+"load:", redisstore.WithLogger(Logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tr, err := s.CreateTrain(ctx, trains.Train{ID: "load", Track: trains.Dev, At: time.Unix(0, 0).UTC(), State: trains.Scheduled})
	if err == nil {
		_, err = s.UpdateTrain(ctx, tr, trains.Fence{})
	}
	if err == nil {
		_, err = s.Claim(ctx, "load", time.Minute)
	}
	if err != nil {
		t.Fatalf("trainstack: load the store's scripts: %v", err)
	}
}

// TrainWrite matches the script call that stores a train (CreateTrain or
// UpdateTrain) that match accepts: it names the store's trains key and
// carries the train's JSON among its arguments.
func (f *FaultyRedis) TrainWrite(match func(trains.Train) bool) func(cmd []string) bool {
	key := f.Redis.Prefix + "trains"
	return func(cmd []string) bool {
		if len(cmd) == 0 || !strings.HasPrefix(strings.ToLower(cmd[0]), "eval") || !slices.Contains(cmd, key) {
			return false
		}
		for _, a := range cmd {
			var t trains.Train
			if strings.HasPrefix(a, "{") && json.Unmarshal([]byte(a), &t) == nil && t.ID != "" && match(t) {
				return true
			}
		}
		return false
	}
}

// WindowWrite matches the command that stores a quiet window (PutWindow):
// the HSET of the store's windows key, in the transaction that PutWindow
// sends (the proxy fires the fault with its EXEC).
func (f *FaultyRedis) WindowWrite() func(cmd []string) bool {
	key := f.Redis.Prefix + "windows"
	return func(cmd []string) bool {
		return len(cmd) > 1 && strings.EqualFold(cmd[0], "hset") && cmd[1] == key
	}
}

// RunOutLease ends the named lease (e.g. "track:dev") in Redis as its ttl
// would, without waiting for it: a lease that could not be released while
// Redis was cut off is held until then, and a test that is not about that
// wait skips it.
func (f *FaultyRedis) RunOutLease(t testing.TB, name string) {
	t.Helper()
	if err := f.Redis.Client.Del(context.WithoutCancel(t.Context()), f.Redis.Prefix+"lease:"+name).Err(); err != nil {
		t.Fatalf("trainstack: run out lease %s: %v", name, err)
	}
}

// MustHaveFired fails t unless the proxy's fault whose channel is fired
// went off: a fault whose match is wrong would leave the write clear, and
// the test proving nothing. what names the write, for the message.
func MustHaveFired(t testing.TB, fired <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-fired:
	default:
		t.Fatalf("%s did not go through the proxy's fault: its match is wrong", what)
	}
}
