package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, newHarness)
}

// TestRealExpiry lets Redis expire a lease and a claim with short real
// TTLs, polling (with a deadline) rather than sleeping a fixed time.
func TestRealExpiry(t *testing.T) {
	t.Parallel()
	h := newRedisHarness(t)
	ctx := t.Context()
	a, ok, err := h.store.TryLease(ctx, "scheduler", "replica-a", 50*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("take lease: %v %v", ok, err)
	}
	if ok, err := h.store.Claim(ctx, "envelope:1", 50*time.Millisecond); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	eventually(t, "the lease expires and replica-b takes it", func() bool {
		b, ok, err := h.store.TryLease(ctx, "scheduler", "replica-b", time.Minute)
		return err == nil && ok && b.Token > a.Token
	})
	eventually(t, "the claim expires", func() bool {
		ok, err := h.store.Claim(ctx, "envelope:1", time.Minute)
		return err == nil && ok
	})
	if _, err := h.store.RenewLease(ctx, a, time.Minute); !errors.Is(err, trains.ErrLeaseLost) {
		t.Fatalf("renew an expired lease: got %v, want ErrLeaseLost", err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestart kills Redis under a store: calls fail fast with
// ErrUnavailable while it is down, and the same store (same client) works
// again once it is back, with the data AOF kept.
func TestRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	client, desc, err := redisstore.ClientFromURL(srv.URL()+"?max_retries=1", 500*time.Millisecond)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	t.Logf("state store: %s", desc)
	const timeout = 500 * time.Millisecond
	s, err := redisstore.New(client, "trainbot:", redisstore.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tr := trains.Train{ID: "dev-2026-12-01", Track: "dev", At: storagetest.T0, State: trains.Confirmed}
	if _, err := s.CreateTrain(ctx, tr); err != nil {
		t.Fatalf("create: %v", err)
	}

	srv.Kill()
	calls := map[string]func() error{
		"ping":   func() error { return s.Ping(ctx) },
		"get":    func() error { _, err := s.GetTrain(ctx, tr.ID); return err },
		"create": func() error { _, err := s.CreateTrain(ctx, trains.Train{ID: "dev-2026-12-02"}); return err },
		"claim":  func() error { _, err := s.Claim(ctx, "envelope:9", time.Minute); return err },
		"lease":  func() error { _, _, err := s.TryLease(ctx, "scheduler", "a", time.Minute); return err },
		"calendar": func() error {
			_, err := s.CalendarState(ctx, storagetest.T0, trains.TrainQuery{Newest: 4})
			return err
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		took := time.Since(start)
		if !errors.Is(err, trains.ErrUnavailable) {
			t.Errorf("%s while Redis is down: got %v, want ErrUnavailable", name, err)
		}
		if took > 3*timeout {
			t.Errorf("%s while Redis is down took %s, want it bounded by the %s timeout", name, took, timeout)
		}
		if err != nil && !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%s: message %q does not say nothing was changed", name, err)
		}
	}

	srv.Restart()
	eventually(t, "the same store answers again", func() bool { return s.Ping(ctx) == nil })
	got, err := s.GetTrain(ctx, tr.ID)
	if err != nil || got.Version != 1 {
		t.Fatalf("train after restart (AOF): %+v %v", got, err)
	}
	if _, err := s.UpdateTrain(ctx, got, trains.Fence{}); err != nil {
		t.Fatalf("update after restart: %v", err)
	}
	if _, err := s.CreateTrain(ctx, tr); !errors.Is(err, trains.ErrConflict) {
		t.Fatalf("create a train that survived the restart: got %v, want ErrConflict", err)
	}
}

// TestFailuresMapToUnavailable: a closed client, a cancelled context, a
// pool timeout and a server that never answers all give ErrUnavailable,
// with the cause kept for errors.Is.
func TestFailuresMapToUnavailable(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)

	t.Run("closed client", func(t *testing.T) {
		c := r.NewClient(t, nil)
		c.Close()
		s, _ := redisstore.New(c, r.Prefix)
		err := s.Ping(t.Context())
		if !errors.Is(err, trains.ErrUnavailable) || !errors.Is(err, redis.ErrClosed) {
			t.Fatalf("got %v, want ErrUnavailable wrapping redis.ErrClosed", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s, _ := redisstore.New(r.Client, r.Prefix)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := s.GetTrain(ctx, "dev-2026-12-01")
		if !errors.Is(err, trains.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want ErrUnavailable wrapping context.Canceled", err)
		}
	})
	t.Run("pool timeout", func(t *testing.T) {
		c := r.NewClient(t, func(o *redis.Options) { o.PoolSize, o.PoolTimeout, o.MaxRetries = 1, 20*time.Millisecond, -1 })
		s, _ := redisstore.New(c, r.Prefix)
		held := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			close(held)
			c.BLPop(ctx, 500*time.Millisecond, r.Prefix+"never") // holds the only connection
		}()
		<-held
		var err error
		eventually(t, "a pool timeout", func() bool {
			err = s.Ping(t.Context())
			return errors.Is(err, redis.ErrPoolTimeout)
		})
		if !errors.Is(err, trains.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
		<-done
	})
	t.Run("no answer, no deadline given", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() { // accept and say nothing
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
			}
		}()
		client, _, err := redisstore.ClientFromURL(fmt.Sprintf("redis://%s/0?max_retries=-1", l.Addr()), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		s, _ := redisstore.New(client, "trainbot:", redisstore.WithTimeout(200*time.Millisecond))
		start := time.Now()
		_, err = s.Claim(context.WithoutCancel(t.Context()), "k", time.Minute)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("a call to a silent server took %s, want about the 200ms timeout", took)
		}
		if !errors.Is(err, trains.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
}

// TestClusterNeedsHashTag: with a Cluster client, New refuses a prefix
// without a hash tag and suggests one that has one, by Redis's rule,
// however odd the prefix.
func TestClusterNeedsHashTag(t *testing.T) {
	t.Parallel()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer c.Close()
	for _, tc := range []struct{ prefix, suggest string }{
		{"trainbot:", "{trainbot}:"},
		{"", "{trainbot}:"}, // DefaultPrefix
		{"{}:", "{trainbot}:"},
		{"{trainbot:", "{trainbot}:"},
		{"trainbot}:", "{trainbot}:"},
		{"}trainbot{:", "{trainbot}:"},
		{"{}{x}:", "{x}:"}, // the first "{…}" is empty: no hash tag
		{"}{", "{trainbot}:"},
		{":", "{trainbot}:"},
		{"::", "{trainbot}:"},
		{"app:trainbot:", "{app:trainbot}:"},
		{"a{b", "{ab}:"},
		{"x", "{x}:"},
	} {
		_, err := redisstore.New(c, tc.prefix)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("e.g. %q", tc.suggest)) {
			t.Errorf("prefix %q: got %v, want an error suggesting %q", tc.prefix, err, tc.suggest)
		}
		if tag := redisHashTag(tc.suggest); tag == "" {
			t.Errorf("prefix %q: the suggestion %q has no hash tag by Redis's rule", tc.prefix, tc.suggest)
		}
		if _, err := redisstore.New(c, tc.suggest); err != nil {
			t.Errorf("prefix %q: the suggestion %q is refused too: %v", tc.prefix, tc.suggest, err)
		}
	}
	for _, p := range []string{"{trainbot}:", "{{}}:", "app:{trainbot}:", "{a}{}:"} {
		if _, err := redisstore.New(c, p); err != nil {
			t.Errorf("prefix %q has the hash tag %q: %v", p, redisHashTag(p), err)
		}
	}
}

// redisHashTag is the hash tag of key by Redis's rule (cluster spec, "Hash
// tags"): the text between the first "{" and the first "}" after it, when
// not empty; "" when the key has none.
func redisHashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return ""
	}
	return key[i+1 : i+1+j]
}

func TestClientFromURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, desc, kind, err string
	}{
		{url: "redis://127.0.0.1:6379", desc: "redis 127.0.0.1:6379 db 0", kind: "*redis.Client"},
		{url: "rediss://bot:s3cret@redis.internal:6380/2", desc: "redis redis.internal:6380 db 2 tls", kind: "*redis.Client"},
		{url: "redis://:s3cret@redis.internal/1?dial_timeout=1s", desc: "redis redis.internal:6379 db 1", kind: "*redis.Client"},
		{url: "redis://s-a:26379/0?master_name=mymaster&addr=s-b:26379&password=s3cret", desc: "redis sentinel master mymaster via s-a:26379,s-b:26379 db 0", kind: "*redis.Client"},
		{url: "redis://n-a:7000?addr=n-b:7000&addr=n-c:7000", desc: "redis cluster n-a:7000,n-b:7000,n-c:7000", kind: "*redis.ClusterClient"},
		{url: "rediss://:s3cret@n-a:7000?cluster=true", desc: "redis cluster n-a:7000 tls", kind: "*redis.ClusterClient"},
		{url: "http://127.0.0.1:6379", err: "use redis:// or rediss://"},
		{url: "redis://127.0.0.1:6379/x", err: "invalid database number"},
		{url: "redis://127.0.0.1:6379?cluster=maybe", err: "cluster=true"},
		{url: "redis://:s3cret@127.0.0.1:6379?nonsense=1", err: "unexpected option"},
		// No error shows a password, even where go-redis or url.Parse
		// would quote it.
		{url: "redis://:s3cret@n-a:7000?addr=u:s3cret@n-b:7000", err: "unable to parse addr param: xxxxx@n-b:7000"},
		{url: "redis://s-a:26379/0?master_name=m&addr=:s3cret@s-b:26379", err: "unable to parse addr param"},
		{url: "redis://s-a:26379/0?master_name=m&password=s3cret&db=s3cret", err: "invalid database number"},
		{url: "redis://:s3cret", err: "does not parse as a URL"},
		{url: "redis://redis.internal:s3cret/0", err: "does not parse as a URL"},
		{url: "redis://:s3cret@[::1", err: "does not parse as a URL"},
		{url: "s3cret:s3cret@redis.internal:6379", err: "use redis:// or rediss://"},
	} {
		c, desc, err := redisstore.ClientFromURL(tc.url, time.Second)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got error %v, want one containing %q", tc.url, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: error %q shows the password", tc.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if strings.Contains(desc, "s3cret") {
			t.Errorf("%s: description %q shows the password", tc.url, desc)
		}
		if desc != tc.desc || fmt.Sprintf("%T", c) != tc.kind {
			t.Errorf("%s: got %q (%T), want %q (%s)", tc.url, desc, c, tc.desc, tc.kind)
		}
		c.Close()
	}
}

// TestTokensIncreaseAfterCounterLoss: a Redis that lost its keys (a restart
// without persistence) still grants tokens above every earlier one.
func TestTokensIncreaseAfterCounterLoss(t *testing.T) {
	t.Parallel()
	h := newRedisHarness(t)
	ctx := t.Context()
	a, ok, err := h.store.TryLease(ctx, "scheduler", "replica-a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("take: %v %v", ok, err)
	}
	if err := redistest.DeletePrefix(ctx, h.raw, h.store.Prefix()); err != nil {
		t.Fatal(err)
	}
	b, ok, err := h.store.TryLease(ctx, "scheduler", "replica-b", time.Minute)
	if err != nil || !ok || b.Token <= a.Token {
		t.Fatalf("take after the keys were lost: got %+v ok=%v err=%v, want a token above %d", b, ok, err, a.Token)
	}
	tr := trains.Train{ID: "dev-2026-12-01", Track: "dev", At: storagetest.T0, State: trains.Confirmed}
	if _, err := h.store.CreateTrain(ctx, tr); err != nil {
		t.Fatal(err)
	}
	tr.Version = 1
	if _, err := h.store.UpdateTrain(ctx, tr, a.Fence()); !errors.Is(err, trains.ErrLeaseLost) {
		t.Fatalf("the old holder's fenced write: got %v, want ErrLeaseLost", err)
	}
}

// TestClusterClientOptions: a Cluster client reloads its slot map every
// few seconds, dials each node once per try and bounds dials and reads,
// unless the URL says otherwise; it refuses replica reads.
func TestClusterClientOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url                string
		reload, dial, read time.Duration
		dialerRetries      int
	}{
		{url: "redis://n-a:7000?cluster=true", reload: redisstore.DefaultClusterStateReloadInterval, dial: redisstore.DefaultTimeout, read: redisstore.DefaultTimeout, dialerRetries: 1},
		{url: "redis://n-a:7000?addr=n-b:7000&cluster_state_reload_interval=5s&dial_timeout=3s&read_timeout=4s&dialer_retries=3", reload: 5 * time.Second, dial: 3 * time.Second, read: 4 * time.Second, dialerRetries: 3},
	} {
		c, _, err := redisstore.ClientFromURL(tc.url, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		o := c.(*redis.ClusterClient).Options()
		if o.ClusterStateReloadInterval != tc.reload || o.DialTimeout != tc.dial || o.ReadTimeout != tc.read || o.DialerRetries != tc.dialerRetries || o.ReadOnly {
			t.Errorf("%s: reload %s, dial timeout %s, read timeout %s, dialer retries %d, read only %v; want %s, %s, %s, %d, false",
				tc.url, o.ClusterStateReloadInterval, o.DialTimeout, o.ReadTimeout, o.DialerRetries, o.ReadOnly, tc.reload, tc.dial, tc.read, tc.dialerRetries)
		}
		c.Close()
	}
	for url, want := range map[string]string{
		"redis://n-a:7000?cluster=true&read_only=true":                  "remove read_only",
		"redis://n-a:7000?addr=n-b:7000&route_by_latency=true":          "remove route_by_latency",
		"redis://n-a:7000?addr=n-b:7000&route_randomly=1":               "remove route_randomly",
		"redis://n-a:7000?cluster=true&cluster_state_reload_interval=0": "positive duration",
		"redis://n-a:7000?cluster=true&cluster_state_reload_interval=x": "positive duration",
	} {
		if c, _, err := redisstore.ClientFromURL(url, 0); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error saying %q", url, err, want)
			if c != nil {
				c.Close()
			}
		}
	}
}
