package trains_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
)

// A track lock whose renewal fails because the store does not answer (not
// a lease reported lost) stops the train before its next step: here the
// train waits between two polls of its publish run, which would go on
// polling GitHub for an hour; it stops at the failed renewal instead. When
// the store is back, the scheduler resumes it from its stored step, and it
// deploys once.
func TestRenewalFailureStopsTheTrainUntilResumed(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	store, err := redisstore.New(client, "tb:", redisstore.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	polling := make(chan struct{}, 1)
	gate := make(chan struct{})
	st := trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{
		Store:  store,
		Config: func(c *trains.ServiceConfig) { c.LockTTL = 600 * time.Millisecond },
		BeforeSleep: func(ctx context.Context) error {
			select {
			case polling <- struct{}{}:
			default:
			}
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	st.GH.SetRunSteps(0) // runs move only when the test says
	st.GH.AddCommits("main", 2)

	res, err := st.Svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut: %+v, %v", res.Outcome, err)
	}
	<-polling // tagged, and waiting for the publish run
	srv.Kill()

	stopped := make(chan struct{})
	go func() { st.Svc.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("the train goes on after its lock could not be renewed")
	}
	if n := len(st.GH.Dispatches()); n != 0 {
		t.Fatalf("%d dispatches while the lock was not held", n)
	}

	// The store is back and the publish run succeeds: the scheduler
	// resumes the train once its old lock runs out.
	srv.Restart()
	close(gate)
	st.GH.SetRunSteps(1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Svc.RunScheduler(ctx, trains.SchedulerConfig{Poll: 20 * time.Millisecond, LeaseTTL: time.Second})
	}()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer wcancel()
	if _, err := st.GH.WaitRequests(wctx, func([]githubfake.Request) bool { return len(st.GH.Dispatches()) > 0 }); err != nil {
		t.Fatalf("the train was not resumed: %v", err)
	}
	cancel()
	<-done
	st.Svc.Wait()
	if n := len(st.GH.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}

// The scheduler sleeps from moment to moment on the service's clock: at
// the slot it postpones a confirmed train for a quiet window, and at the
// window's end it cuts it — with a poll of an hour of real time, only
// the alarms it sets can wake it.
func TestSchedulerWakesAtSlotAndWindowEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 13:00"))
	ctx := t.Context()
	e.gh.AddCommits("main", 2)
	if _, err := e.svc.Pause(ctx, trains.PauseRequest{From: at("2026-12-01 13:30"), Until: at("2026-12-01 15:00"), Reason: "chain upgrade", By: chainOps}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Confirm(ctx, releaser, "dev-2026-12-01"); err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.svc.RunScheduler(run, trains.SchedulerConfig{Poll: time.Hour}) }()
	defer func() { stop(); <-done }()

	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	slot := at("2026-12-01 14:00")
	if err := e.clock.WaitAlarm(wait, slot); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(slot)
	end := at("2026-12-01 15:00")
	if err := e.clock.WaitAlarm(wait, end); err != nil { // the tick at the slot is over
		t.Fatal(err)
	}
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Postponed || !tr.At.Equal(end) {
		t.Fatalf("at the slot: %s at %s, want postponed to the window's end", tr.State, tr.At)
	}
	e.clock.Set(end)
	if _, err := e.gh.WaitRequests(wait, func(rs []githubfake.Request) bool {
		return slices.ContainsFunc(rs, func(r githubfake.Request) bool { return r.Method == "POST" && r.Route == "git/refs" })
	}); err != nil {
		t.Fatalf("not cut at the window's end: %v", err)
	}
}

// A train's lock is renewed on the service's clock: moved ahead by a test
// past the lock's life, the embedded store (which expires leases on that
// clock) still finds it held by the train, renewed at each third of its
// life, so no other replica may take the track. (Renewals on the wall
// clock alone let it run out here.)
func TestTrainLockRenewedOnTheServiceClock(t *testing.T) {
	t.Parallel()
	polling := make(chan struct{}, 1)
	gate := make(chan struct{})
	st := trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{
		BeforeSleep: func(ctx context.Context) error {
			select {
			case polling <- struct{}{}:
			default:
			}
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	st.GH.SetRunSteps(0) // runs move only when the test says
	st.GH.AddCommits("main", 2)
	ctx := t.Context()
	if res, err := st.Svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser}); err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut: %+v, %v", res.Outcome, err)
	}
	<-polling // tagged, and waiting for the publish run
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	third := trains.DefaultLeaseTTL / 3
	for range 4 { // 4 × (a third + 1s): past the lock's whole life
		st.Clock.Advance(third + time.Second)
		if err := st.Clock.WaitAlarm(wait, st.Clock.Now().Add(third)); err != nil {
			t.Fatalf("the lock was not renewed when the clock passed a third of its life: %v", err)
		}
	}
	if other, ok, err := st.Store.TryLease(ctx, trains.Dev.LockName(), "another-replica", time.Minute); err != nil || ok {
		t.Fatalf("another replica took the dev lock (%+v, %v) while the train ran: it was not renewed on the service's clock", other, err)
	}
	close(gate)
	st.GH.SetRunSteps(1)
	st.Svc.Wait()
	if n := len(st.GH.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}
