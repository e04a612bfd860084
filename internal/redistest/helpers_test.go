package redistest_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
)

func newClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitReplicated returns once a replica of master has every write master
// acknowledged before: replication is asynchronous, and a write
// acknowledged just before a kill may be lost by the failover. It writes
// key and waits (WAIT 1) for a replica to have it, on one connection, as
// WAIT waits for its own connection's writes.
func waitReplicated(t *testing.T, master *redistest.Server, key string) {
	t.Helper()
	c := newClient(t, master.URL())
	var wait *redis.Cmd
	_, err := c.Pipelined(t.Context(), func(p redis.Pipeliner) error {
		p.Set(t.Context(), key, "1", 0)
		wait = p.Do(t.Context(), "WAIT", 1, 5000)
		return nil
	})
	if n, _ := wait.Int(); err != nil || n < 1 {
		t.Fatalf("a write, then WAIT 1 on %s: %d replicas have it, %v; want 1", master.Addr(), n, err)
	}
}
