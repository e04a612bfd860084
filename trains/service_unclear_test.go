package trains_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

// The tests of this file run the service on a Redis store reached
// through a fault proxy (trainstack.FaultyRedis), and make a write's
// outcome unclear the way a network does (SPEC §7): Redis applies the
// write, its reply is lost, and Redis is cut off at that moment, so the
// store cannot read the write back either and answers ErrUnclear. Redis
// is then let back, and the test goes on against what Redis holds.

// newUnclearEnv is an env on a Redis store behind a fault proxy.
func newUnclearEnv(t *testing.T, now string) (*env, *trainstack.FaultyRedis) {
	t.Helper()
	fr := trainstack.NewFaultyRedis(t)
	st := trainstack.New(t, at(now), trainstack.Options{Store: fr.Store})
	return &env{t: t, clock: st.Clock, gh: st.GH, store: st.Store, ann: st.Ann, svc: st.Svc, st: st}, fr
}

// mustBeRecorded fails t unless the store holds one open train, of
// track, confirmed: the unclear write was applied.
func mustBeRecorded(t *testing.T, e *env, track trains.Track) {
	t.Helper()
	open, err := e.store.OpenTrains(t.Context())
	if err != nil {
		t.Fatalf("open trains: %v", err)
	}
	if len(open) != 1 || open[0].Track != track || open[0].State != trains.Confirmed {
		t.Fatalf("open trains in Redis: %+v, want one %s train, confirmed: the unclear write was not applied", open, track)
	}
}

// TestCutWhoseRecordIsUnclear: Redis applies the cut's train write, the
// reply is lost and Redis cut off, so the store cannot confirm it (SPEC
// §7). The cut must not say nothing was tagged: it says the train may
// have been cut and that trainbot continues it if so — and the next
// scheduler tick, with Redis back, does, with one tag and one dispatch.
func TestCutWhoseRecordIsUnclear(t *testing.T) {
	t.Parallel()
	e, fr := newUnclearEnv(t, "2026-12-01 10:00") // a dev Tuesday, before the slot
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-dev.3", e.gh.Head("main"))
	head := e.gh.AddCommits("main", 2)[1]
	fired := fr.Proxy.DropReplyAfterAndBlock(fr.TrainWrite(func(t trains.Train) bool {
		return t.State == trains.Confirmed && t.CutBy == releaser
	}))

	_, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	trainstack.MustHaveFired(t, fired, "the cut's train write")
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

	// With Redis back: the train was recorded, and the scheduler's next
	// tick continues it.
	fr.Proxy.Unblock()
	mustBeRecorded(t, e, trains.Dev)
	// The cut's track lock could not be released while Redis was cut
	// off: the resumer waits for it to run out (LockTTL), and so does
	// this test, at once.
	fr.RunOutLease(t, "track:dev")
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
	e, fr := newUnclearEnv(t, "2026-12-02 10:00")
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fix := e.gh.AddCommits("main", 1)[0]
	fired := fr.Proxy.DropReplyAfterAndBlock(fr.TrainWrite(func(t trains.Train) bool { return t.Track == trains.Hotfix }))

	_, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "fix the fork", By: releaser})
	trainstack.MustHaveFired(t, fired, "the hotfix's train write")
	var ue *trains.UnclearError
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "nothing was tagged") {
		t.Fatalf("a hotfix whose record is unclear: got %v, want an *UnclearError that does not say nothing was tagged", err)
	}
	if !strings.Contains(ue.Text.Plain(), "may have been made") {
		t.Errorf("the user's text: %s", ue.Text.Plain())
	}
	fr.Proxy.Unblock()
	mustBeRecorded(t, e, trains.Hotfix)
	fr.RunOutLease(t, "track:hotfix") // as for the cut
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
	e, fr := newUnclearEnv(t, "2026-11-30 14:00")
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-dev.1", e.gh.Head("main"))
	e.gh.AddCommits("main", 2)

	claims := fr.Redis.Prefix + "claim:reminder:"
	fired := fr.Proxy.DropReplyAfterAndBlock(func(cmd []string) bool {
		return slices.ContainsFunc(cmd, func(a string) bool { return strings.HasPrefix(a, claims) })
	})
	if err := e.svc.Tick(ctx); !errors.Is(err, trains.ErrUnclear) {
		t.Fatalf("the tick whose reminder claim is unclear: got %v, want an error wrapping ErrUnclear", err)
	}
	trainstack.MustHaveFired(t, fired, "the reminder's claim")
	if n := countTop(e, "Dev train dev-2026-12-01"); n != 0 {
		t.Fatalf("%d reminders on a claim that was not confirmed, want 0", n)
	}
	fr.Proxy.Unblock()
	tick(t, e)
	tick(t, e)
	if n := countTop(e, "Dev train dev-2026-12-01"); n != 1 {
		t.Fatalf("%d reminders once Redis is back, want 1", n)
	}
}
