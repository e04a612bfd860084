package redisstore_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The storage conformance suite and a failover under load, against a real
// Redis Cluster (three masters, three replicas) and a real Sentinel set
// (a master, a replica, three Sentinels), started by internal/redistest.

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// engineClient is the client ClientFromURL makes for url, as trainbot's
// start-up does (no timeout given: go-redis's own dial timeout), closed
// when t ends.
func engineClient(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	c, desc, err := redisstore.ClientFromURL(url, 0)
	if err != nil {
		t.Fatalf("client for %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	t.Logf("state store: %s", desc)
	return c
}

// enginePrefix is a fresh prefix with a hash tag, as a Cluster needs.
func enginePrefix(t testing.TB) string {
	t.Helper()
	return "{tb-" + randomID(t) + "}:"
}

// engineHarness makes conformance harnesses on one engine: each store on
// client with a fresh prefix; raw returns a client to the master that
// holds a prefix's keys, for the harness's TTL changes.
func engineHarness(client redis.UniversalClient, raw func(t testing.TB, prefix string) *redis.Client) storagetest.NewHarness {
	newStore := func(t testing.TB, opts ...redisstore.Option) (*redisstore.Store, *trainstest.Clock, *redis.Client) {
		t.Helper()
		clock := trainstest.NewClock(storagetest.T0)
		prefix := enginePrefix(t)
		s, err := redisstore.New(client, prefix, append([]redisstore.Option{redisstore.WithClock(clock), redisstore.WithLogger(discard)}, opts...)...)
		if err != nil {
			t.Fatalf("new store: %v", err)
		}
		return s, clock, raw(t, prefix)
	}
	return func(t testing.TB) storagetest.Harness {
		s, clock, r := newStore(t)
		return storagetest.Harness{
			Store: s,
			Advance: func(t testing.TB, d time.Duration) {
				clock.Advance(d)
				advanceTTLs(t, r, s.Prefix(), d)
			},
			Bounded: func(t testing.TB, max, trainMax int) trains.Store {
				s, _, _ := newStore(t, redisstore.WithAuditMaxLen(int64(max)), redisstore.WithTrainAuditMaxLen(int64(trainMax)))
				return s
			},
			AuditSlack: streamNodeMaxEntries(t, r),
		}
	}
}

// directClient is a plain client to one server, closed when t ends.
func directClient(t testing.TB, s *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestClusterConformance(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	client := engineClient(t, c.URL())
	t.Run("CheckTopology", func(t *testing.T) {
		s, err := redisstore.New(client, enginePrefix(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckTopology(t.Context()); err != nil {
			t.Errorf("a Cluster client on a Cluster: %v", err)
		}
		for _, prefix := range []string{"trainbot:", "{tb}:"} {
			one := directClient(t, c.Nodes()[0])
			s, err := redisstore.New(one, prefix)
			if err != nil {
				t.Fatal(err)
			}
			err = s.CheckTopology(t.Context())
			for _, want := range []string{"cluster_enabled:1", c.Nodes()[0].Addr() + "?cluster=true", "addr=", "hash tag"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("a one-node client on a Cluster node, prefix %s: got %v, want an error saying %q", prefix, err, want)
				}
			}
		}
	})
	storagetest.Run(t, engineHarness(client, func(t testing.TB, prefix string) *redis.Client {
		return directClient(t, c.MasterOf(prefix))
	}))
	// The tag caches (a hash each, one written by a script) on a Cluster.
	onCluster := func(t testing.TB) *redisstore.Store {
		s, err := redisstore.New(client, enginePrefix(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storagetest.RunTagObjects(t, func(t testing.TB) trains.TagObjectCache { return onCluster(t) }, nil)
	storagetest.RunTagLines(t, func(t testing.TB) trains.TagLineIndex { return onCluster(t) }, nil)
}

func TestSentinelConformance(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	client := engineClient(t, s.URL())
	master := s.Master()
	storagetest.Run(t, engineHarness(client, func(t testing.TB, _ string) *redis.Client {
		return directClient(t, master)
	}))
}

func TestClusterFailover(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	prefix := enginePrefix(t)
	runFailover(t, engine{
		url:    c.URL(),
		prefix: prefix,
		master: func() *redistest.Server { return c.MasterOf(prefix) },
		kill:   c.Kill,
		wait:   c.WaitFailover,
	})
}

func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	runFailover(t, engine{
		url:    s.URL(),
		prefix: enginePrefix(t),
		master: s.Master,
		kill:   func(*redistest.Server) { s.KillMaster() },
		wait:   s.WaitFailover,
	})
}

// barrier makes sure the replica of master has every write master
// acknowledged before it was called: a write, then WAIT for one replica to
// have it, on one connection (a pipeline), as WAIT waits for the writes of
// its own connection, and this one comes after every write acknowledged
// before.
func barrier(ctx context.Context, t testing.TB, master *redis.Client, prefix string) {
	t.Helper()
	var wait *redis.Cmd
	_, err := master.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, prefix+"barrier", time.Now().String(), 0)
		wait = p.Do(ctx, "WAIT", 1, 5000)
		return nil
	})
	if n, _ := wait.Int(); err != nil || n < 1 {
		t.Fatalf("barrier on the master (a write, then WAIT 1): %d replicas have it, %v; want 1", n, err)
	}
}
