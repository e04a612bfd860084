package trains_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The guards of retry and rollback: a button acts on the train it sits on,
// not on whatever runs when it is clicked, and neither deploys an older tag
// over what another train put in the same environment.

// deployThird deploys v0.5.0-staging.3 on top of rollbackEnv's two tags.
func deployThird(e *unitEnv) {
	c := e.repo.AddCommits("main", 1)[0]
	e.repo.AddTag("v0.5.0-staging.3", c)
	e.repo.CompleteRun(e.repo.StartRun(trainstest.DeployWorkflow, "v0.5.0-staging.3", c, "workflow_dispatch"), "success")
}

// A Roll back button names the tag it rolls back from: clicked again after
// that rollback (or days later, when something else runs), it is refused
// instead of rolling back one tag further.
func TestUnitRollbackFromATagOnlyWhileItRuns(t *testing.T) {
	t.Parallel()
	e, _ := rollbackEnv(t)
	deployThird(e)
	req := trains.RollbackRequest{Track: trains.Staging, From: "v0.5.0-staging.3", Reason: "from its announcement", By: releaser}
	res, err := e.svc.Rollback(t.Context(), req)
	if err != nil || res.Outcome != trains.RollbackStarted || res.Previous.Tag != "v0.5.0-staging.2" {
		t.Fatalf("rollback from staging.3 = %v to %q, %v", res.Outcome, res.Previous.Tag, err)
	}
	e.svc.Wait()
	e.clock.Advance(10 * time.Minute)
	_, err = e.svc.Rollback(t.Context(), req)
	if !userErrSays(err, "staging runs v0.5.0-staging.2 now, not v0.5.0-staging.3") {
		t.Errorf("second click on the same button: %v", err)
	}
	if n := len(e.repo.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1: %+v", n, e.repo.Dispatches())
	}
	req.DryRun = true
	if _, err := e.svc.Rollback(t.Context(), req); !userErrSays(err, "staging runs v0.5.0-staging.2 now") {
		t.Errorf("dry run from a tag that no longer runs: %v", err)
	}
}

// The buttons: a failed deploy's Roll back names its tag; a failed
// rollback offers Retry only (rolling back a rollback would go one tag
// further back, not forward again).
func TestUnitRollBackButtonNamesItsTag(t *testing.T) {
	t.Parallel()
	svc := trains.NewService(unitConfig(), trains.Deps{})
	failed := trains.Train{ID: "staging-2026-12-09", Track: trains.Staging, State: trains.Failed, Tag: "v0.5.0-staging.3",
		DeployRunID: 7, DispatchedAt: at("2026-12-09 14:00")}
	want := []string{"retry: retry staging-2026-12-09", "rollback: rollback v0.5.0-staging.3 rolled back from staging-2026-12-09's announcement"}
	if diff := cmp.Diff(want, buttons(svc.Announcement(failed))); diff != "" {
		t.Errorf("failed train's buttons (-want +got):\n%s", diff)
	}
	rb := failed
	rb.ID, rb.Tag, rb.RollsBack = "rollback-2026-12-09", "v0.5.0-staging.2", "v0.5.0-staging.3"
	if diff := cmp.Diff([]string{"retry: retry rollback-2026-12-09"}, buttons(svc.Announcement(rb))); diff != "" {
		t.Errorf("failed rollback's buttons (-want +got):\n%s", diff)
	}
}

// The on-call of the train a Roll back button sits on may click it, as
// they may click its Retry.
func TestUnitRollbackByTheOnCallOfTheTrainRolledBack(t *testing.T) {
	t.Parallel()
	e, _ := rollbackEnv(t)
	const onCall = "U0ONCALL"
	if _, err := e.store.CreateTrain(t.Context(), trains.Train{ID: "staging-2026-12-02", Track: trains.Staging, State: trains.Deployed,
		At: at("2026-12-02 14:00"), Tag: "v0.5.0-staging.2", OnCall: onCall, Created: at("2026-12-02 14:00"), Updated: at("2026-12-02 15:00")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, Reason: "typed", By: onCall})
	var ue *trains.UserError
	if !errors.As(err, &ue) || !ue.Forbidden {
		t.Errorf("a typed rollback by an old train's on-call: %v, want refused", err)
	}
	res, err := e.svc.Rollback(t.Context(), trains.RollbackRequest{Track: trains.Staging, From: "v0.5.0-staging.2", Reason: "button", By: onCall})
	if err != nil || res.Outcome != trains.RollbackStarted {
		t.Errorf("the rolled-back train's on-call clicking its Roll back: %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
}

// Neither a retry nor a rollback deploys over another train's deploy to
// the same environment: a hotfix deploying to staging holds a staging
// rollback, and a hotfix made after a failed staging train holds its retry.
func TestUnitNoDeployOverAnotherTrainOfTheEnvironment(t *testing.T) {
	t.Parallel()
	e, _ := rollbackEnv(t)
	ctx := t.Context()
	hotfix := trains.Train{ID: "hotfix-2026-12-09", Track: trains.Hotfix, State: trains.Deploying, At: at("2026-12-09 09:00"),
		Tag: "v0.5.0-hotfix.1", DispatchedAt: at("2026-12-09 09:30"), Created: at("2026-12-09 09:00"), Updated: at("2026-12-09 09:30")}
	if _, err := e.store.CreateTrain(ctx, hotfix); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Rollback(ctx, trains.RollbackRequest{Track: trains.Staging, Reason: "broken", By: releaser})
	if !userErrSays(err, "hotfix-2026-12-09 is deploying v0.5.0-hotfix.1 to staging") {
		t.Errorf("rollback while a hotfix deploys: %v", err)
	}
	if n := len(e.repo.Dispatches()); n != 0 {
		t.Errorf("%d dispatches", n)
	}

	failed := trains.Train{ID: "staging-2026-12-08", Track: trains.Staging, State: trains.Failed, At: at("2026-12-08 14:00"),
		Tag: "v0.5.0-staging.2", DeployRunID: 3, DispatchedAt: at("2026-12-08 14:30"), Error: "the deploy run failed",
		Created: at("2026-12-08 14:00"), Updated: at("2026-12-08 15:00")}
	if _, err := e.store.CreateTrain(ctx, failed); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Retry(ctx, trains.RetryRequest{Train: string(failed.ID), By: releaser})
	if !userErrSays(err, "hotfix-2026-12-09 came after staging-2026-12-08") {
		t.Errorf("retry of a staging train a hotfix came after: %v", err)
	}
	if n := len(e.repo.Dispatches()); n != 0 {
		t.Errorf("%d dispatches", n)
	}
}
