package trains_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
)

// SchedulerConfig.Leading (trainbot_scheduler_leader) follows the real
// lease in Redis: the first replica is told it leads; when it stops it is
// told it does not, and the second replica takes over and is told so; when
// Redis dies the second cannot renew and is told it no longer leads.
func TestSchedulerLeadingFollowsTheLease(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	store, err := redisstore.New(client, "tb:", redisstore.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	a := trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{Store: store,
		Config: func(c *trains.ServiceConfig) { c.Instance = "replica-a" }})
	b := trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{Store: store, GitHub: a.GH, Clock: a.Clock,
		Config: func(c *trains.ServiceConfig) { c.Instance = "replica-b" }})

	type event struct {
		replica string
		leading bool
	}
	events := make(chan event, 16)
	run := func(name string, svc *trains.Service) (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			svc.RunScheduler(ctx, trains.SchedulerConfig{Poll: 20 * time.Millisecond, LeaseTTL: 900 * time.Millisecond,
				Leading: func(yes bool) { events <- event{name, yes} }})
		}()
		stop = func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	expect := func(want event) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("told %+v, want %+v", got, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("never told %+v", want)
		}
	}

	stopA := run("a", a.Svc)
	expect(event{"a", true})
	run("b", b.Svc)
	stopA()
	expect(event{"a", false})
	expect(event{"b", true})
	srv.Kill()
	expect(event{"b", false})
}
