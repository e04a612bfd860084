package trains_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// With live verification off (no Deps.Live, TRAINBOT_PROMETHEUS_URL
// empty), a deployed train is as before: nothing is verified, and the
// top message has no Live field.
func TestLiveVerificationOffChangesNothing(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 10:00"))
	e.repo.AddCommits("main", 2)
	res, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(res.Train.ID)
	if tr.State != trains.Deployed || tr.Live != trains.NotVerified || !tr.LiveSince.IsZero() || tr.Instances != 0 {
		t.Fatalf("train %s/%q since %v with %d instances; want deployed and not verified", tr.State, tr.Live, tr.LiveSince, tr.Instances)
	}
	for _, p := range e.ann.Posts() {
		if strings.Contains(p.Text(), "Live:") || strings.Contains(p.Text(), "live:") {
			t.Errorf("a message speaks of live verification while it is off:\n%s", p.Text())
		}
	}
	if err := e.svc.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
}
