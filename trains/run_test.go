package trains_test

import (
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains"
)

// TestCutAfterRunEndedResumesAtTheNextStart: a cut made while the service
// shuts down (Run's context done) is recorded and announced, but its train
// does not run here: the track lock is given back at once, nothing is
// tagged, and the next start resumes the train, which deploys once.
func TestCutAfterRunEndedResumesAtTheNextStart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := trainstack.New(t, at("2026-12-01 10:00"), trainstack.Options{})
	st.GH.AddCommits("main", 2)
	st.Stop() // Run's context ends

	res, err := st.Svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut while shutting down: %v, %v", res.Outcome, err)
	}
	st.Svc.Wait()
	if n := len(st.GH.Tags()); n != 0 {
		t.Fatalf("%d tags made by a train cut after Run ended", n)
	}
	lock, ok, err := st.Store.TryLease(ctx, trains.Dev.LockName(), "someone-else", time.Minute)
	if err != nil || !ok {
		t.Fatalf("the dev lock is still held after the cut returned (%+v, %v): it was not given back", lock, err)
	}
	if err := st.Store.ReleaseLease(ctx, lock); err != nil {
		t.Fatal(err)
	}

	next := trainstack.New(t, st.Clock.Now(), trainstack.Options{GitHub: st.GH, Clock: st.Clock, Store: st.Store})
	if err := next.Svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	next.Svc.Wait()
	if got := next.Train(res.Train.ID); got.State != trains.Deployed {
		t.Errorf("after the next start the train is %s, want deployed", got.State)
	}
	if n := len(st.GH.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}
