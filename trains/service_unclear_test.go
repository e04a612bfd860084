package trains_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// newUnclearEnv is an env whose store can make writes unclear.
func newUnclearEnv(t *testing.T, now string) (*env, *trainstest.UnclearStore) {
	t.Helper()
	var us *trainstest.UnclearStore
	st := trainstack.New(t, at(now), trainstack.Options{WrapStore: func(s trains.Store) trains.Store {
		us = trainstest.NewUnclearStore(s)
		return us
	}})
	return &env{t: t, clock: st.Clock, gh: st.GH, store: st.Store, ann: st.Ann, svc: st.Svc, st: st}, us
}

// TestCutWhoseRecordIsUnclear: the store applies the cut's train write
// but cannot confirm it (SPEC §7). The cut must not say nothing was
// tagged: it says the train may have been cut and that trainbot continues
// it if so — and the next scheduler tick does, with one tag and one
// dispatch.
func TestCutWhoseRecordIsUnclear(t *testing.T) {
	t.Parallel()
	e, us := newUnclearEnv(t, "2026-12-01 10:00") // a dev Tuesday, before the slot
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-dev.3", e.gh.Head("main"))
	head := e.gh.AddCommits("main", 2)[1]
	us.UnclearTrainWrite(func(t trains.Train) bool { return t.State == trains.Confirmed && t.CutBy == releaser })

	_, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err == nil || strings.Contains(err.Error(), "nothing was tagged") {
		t.Fatalf("a cut whose record is unclear: got %v, want an error that does not say nothing was tagged", err)
	}
	var ue *trains.UnclearError
	if !errors.As(err, &ue) || !errors.Is(err, trains.ErrUnclear) {
		t.Fatalf("got %T %v, want an *UnclearError wrapping ErrUnclear", err, err)
	}
	for _, want := range []string{"may have been cut", "v0.5.0-dev.4", "by itself", "/train history"} {
		if !strings.Contains(ue.Text.Plain(), want) {
			t.Errorf("the user's text lacks %q: %s", want, ue.Text.Plain())
		}
	}
	top := e.ann.Top()
	if len(top) != 1 {
		t.Fatalf("top messages: %+v", top)
	}
	thread := e.ann.Thread(top[0].Ref)
	if len(thread) != 1 || !strings.Contains(thread[0].Text(), "did not confirm") || strings.Contains(thread[0].Text(), "nothing was tagged") {
		t.Fatalf("the thread under the cut: %+v, want one reply saying the store did not confirm it", thread)
	}

	// The train was recorded: the scheduler's next tick continues it.
	if err := e.svc.Tick(ctx); err != nil {
		t.Logf("tick: %v", err)
	}
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01"); tr.State != trains.Deployed {
		t.Fatalf("after the tick the train is %s, want deployed", tr.State)
	}
	if got := e.tag("v0.5.0-dev.4"); got != head {
		t.Errorf("tag on %q, want HEAD %q", got, head)
	}
	if ds := e.gh.Dispatches(); len(ds) != 1 {
		t.Errorf("%d dispatches, want exactly 1: %+v", len(ds), ds)
	}
}

// TestHotfixWhoseRecordIsUnclear: the same for a hotfix's record.
func TestHotfixWhoseRecordIsUnclear(t *testing.T) {
	t.Parallel()
	e, us := newUnclearEnv(t, "2026-12-02 10:00")
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fix := e.gh.AddCommits("main", 1)[0]
	us.UnclearTrainWrite(func(t trains.Train) bool { return t.Track == trains.Hotfix })

	_, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "fix the fork", By: releaser})
	var ue *trains.UnclearError
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "nothing was tagged") {
		t.Fatalf("a hotfix whose record is unclear: got %v, want an *UnclearError that does not say nothing was tagged", err)
	}
	if !strings.Contains(ue.Text.Plain(), "may have been made") {
		t.Errorf("the user's text: %s", ue.Text.Plain())
	}
	if err := e.svc.Tick(ctx); err != nil {
		t.Logf("tick: %v", err)
	}
	e.svc.Wait()
	if ds := e.gh.Dispatches(); len(ds) != 1 {
		t.Errorf("%d dispatches after the tick, want exactly 1: %+v", len(ds), ds)
	}
}

// TestUnclearReminderClaimDoesNotSkipTheReminder: on a Redis store, the
// 24h reminder's claim is applied, its reply lost, and Redis cut off, so
// the claim cannot be settled. No reminder goes out on that tick; the
// claim that may be held must not skip the reminder for good: the next
// tick, with Redis back, sends it, once.
func TestUnclearReminderClaimDoesNotSkipTheReminder(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	proxy := redistest.NewProxy(t, r.URL)
	opt, err := redis.ParseURL(proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	store, err := redisstore.New(client, r.Prefix, redisstore.WithTimeout(300*time.Millisecond), redisstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := store.Claim(ctx, "warm", time.Minute); err != nil { // loads the claim script
		t.Fatal(err)
	}
	st := trainstack.New(t, at("2026-11-30 14:00"), trainstack.Options{Store: store})
	e := &env{t: t, clock: st.Clock, gh: st.GH, store: st.Store, ann: st.Ann, svc: st.Svc, st: st}
	e.gh.AddTag("v0.5.0-dev.1", e.gh.Head("main"))
	e.gh.AddCommits("main", 2)

	fired := proxy.DropReplyAfter(func(cmd []string) bool {
		for _, a := range cmd {
			if strings.HasPrefix(a, r.Prefix+"claim:reminder:") {
				return true
			}
		}
		return false
	})
	go func() {
		<-fired
		proxy.Block()
	}()
	if err := e.svc.Tick(ctx); !errors.Is(err, trains.ErrUnclear) {
		t.Fatalf("the tick whose reminder claim is unclear: got %v, want an error wrapping ErrUnclear", err)
	}
	if n := countTop(e, "Dev train dev-2026-12-01"); n != 0 {
		t.Fatalf("%d reminders on a claim that was not confirmed, want 0", n)
	}
	proxy.Unblock()
	tick(t, e)
	tick(t, e)
	if n := countTop(e, "Dev train dev-2026-12-01"); n != 1 {
		t.Fatalf("%d reminders once Redis is back, want 1", n)
	}
}
