package redistest_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
)

func TestClusterFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := redistest.StartCluster(t)
	t.Logf("cluster up in %s: %s", time.Since(start).Round(time.Millisecond), c.URL())
	opt, err := redis.ParseClusterURL(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClusterClient(opt)
	defer client.Close()
	const key = "{redistest}:k"
	if err := client.Set(t.Context(), key, "v", 0).Err(); err != nil {
		t.Fatalf("set through the cluster: %v", err)
	}
	master := c.MasterOf(key)
	waitReplicated(t, master, "{redistest}:barrier")
	c.Kill(master)
	f := c.WaitFailover(master)
	promoted, settled := f.Took()
	t.Logf("failover of %s: %s promoted after %s, settled after %s", master.Addr(), f.Master.Addr(), promoted.Round(time.Millisecond), settled.Round(time.Millisecond))
	if got := c.MasterOf(key); got != f.Master {
		t.Fatalf("after the failover the master of %s is %s, want %s", key, got.Addr(), f.Master.Addr())
	}
	direct := redis.NewClient(&redis.Options{Addr: f.Master.Addr()})
	defer direct.Close()
	if v, err := direct.Get(t.Context(), key).Result(); err != nil || v != "v" {
		t.Fatalf("the promoted replica has %s = %q, %v; want v", key, v, err)
	}
}
