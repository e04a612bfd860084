package redistest_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
)

func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := redistest.StartSentinel(t)
	t.Logf("sentinel set up in %s: %s", time.Since(start).Round(time.Millisecond), s.URL())
	opt, err := redis.ParseFailoverURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewFailoverClient(opt)
	defer client.Close()
	if err := client.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatalf("set through the Sentinels: %v", err)
	}
	master := s.Master()
	waitReplicated(t, master, "barrier")
	s.KillMaster()
	f := s.WaitFailover(master)
	promoted, settled := f.Took()
	t.Logf("failover of %s: %s promoted after %s, settled after %s", master.Addr(), f.Master.Addr(), promoted.Round(time.Millisecond), settled.Round(time.Millisecond))
	if got := s.Master(); got != f.Master {
		t.Fatalf("after the failover the Sentinels name %s, want %s", got.Addr(), f.Master.Addr())
	}
	if v, err := client.Get(t.Context(), "k").Result(); err != nil || v != "v" {
		t.Fatalf("after the failover k = %q, %v; want v", v, err)
	}
}
