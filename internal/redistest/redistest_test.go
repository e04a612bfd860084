package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/redistest"
)

func TestNewGivesOwnPrefixAndCleansUp(t *testing.T) {
	var prefix string
	var r *redistest.Redis
	t.Run("inner", func(t *testing.T) {
		r = redistest.New(t)
		prefix = r.Prefix
		if err := r.Client.Set(t.Context(), prefix+"k", "v", 0).Err(); err != nil {
			t.Fatalf("set: %v", err)
		}
		if other := redistest.New(t); other.Prefix == prefix {
			t.Fatalf("two tests got the same prefix %s", prefix)
		}
	})
	// The inner test's cleanup deleted its keys (and closed its client).
	check := redistest.New(t)
	n, err := check.Client.Exists(t.Context(), prefix+"k").Result()
	if err != nil || n != 0 {
		t.Fatalf("key of a finished test: exists=%d err=%v, want deleted", n, err)
	}
}

func TestServerKillRestart(t *testing.T) {
	t.Parallel()
	s := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	c := newClient(t, s.URL())
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	s.Kill()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping a killed server: no error")
	}
	s.Restart()
	if v, err := c.Get(t.Context(), "k").Result(); err != nil || v != "v" {
		t.Fatalf("after restart with AOF: got %q, %v; want v", v, err)
	}
}
