package deploy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

// gated starts a deploy run that waits on the staging environment, whose
// reviewers are ana and the team Validators (bob is in it), and returns
// its id once it waits.
func gated(t *testing.T, e *env) int64 {
	t.Helper()
	e.fake.RequireApproval("deploy-simple.yaml", githubfake.Environment{ID: 161171795, Name: "staging",
		Reviewers: []githubfake.Reviewer{githubfake.User("ana"), githubfake.Team("Validators", "bob")}})
	id := e.fake.StartRun("deploy-simple.yaml", "v0.1.0-staging.1", e.fake.Head("main"), "workflow_dispatch")
	e.fake.SetRunSteps(1)
	run, err := e.gh.WaitRun(t.Context(), id, false)
	if err != nil || !run.Waiting() || run.ID != id || run.URL == "" {
		t.Fatalf("WaitRun(waiting false) = %+v, %v; want the run as soon as it waits", run, err)
	}
	return id
}

// A run that waits on an environment: WaitRun returns it when it starts
// to wait, PendingDeployments names the environment and its reviewers,
// WaitRun(waiting true) follows it until a reviewer (on GitHub, not
// trainbot) approves, and DeploymentReviews says who, with what comment.
func TestEnvironmentGateApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := gated(t, e)

	pending, err := e.gh.PendingDeployments(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := []trains.PendingDeployment{{Environment: "staging", Users: []string{"ana"}, Teams: []string{"Validators"}}}
	if diff := cmp.Diff(want, pending); diff != "" {
		t.Errorf("pending deployments (-want +got):\n%s", diff)
	}
	if reviews, err := e.gh.DeploymentReviews(t.Context(), id); err != nil || len(reviews) != 0 {
		t.Errorf("reviews before any = %+v, %v", reviews, err)
	}

	// The run waits across polls until bob approves it on GitHub.
	polls := 0
	e.gh.o.sleeper = trains.Sleeper(func(ctx context.Context, d time.Duration) error {
		polls++
		if polls == 3 {
			e.fake.ReviewAs(id, "bob", "approved", "Ship it! Validators are watching.")
		}
		e.clock.Advance(d)
		return ctx.Err()
	})
	run, err := e.gh.WaitRun(t.Context(), id, true)
	if err != nil || run.Waiting() || run.Completed() || polls != 3 {
		t.Fatalf("WaitRun(waiting true) = %+v, %v after %d polls; want the run in progress once approved", run, err, polls)
	}
	reviews, err := e.gh.DeploymentReviews(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	wantReviews := []trains.DeploymentReview{{Environments: []string{"staging"}, State: "approved", User: "bob", Comment: "Ship it! Validators are watching."}}
	if diff := cmp.Diff(wantReviews, reviews); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
	if pending, err := e.gh.PendingDeployments(t.Context(), id); err != nil || len(pending) != 0 {
		t.Errorf("pending after the approval = %+v, %v", pending, err)
	}
	run, err = e.gh.WaitRun(t.Context(), id, false)
	if err != nil || !run.Succeeded() {
		t.Errorf("the approved run = %+v, %v; want it to finish with success", run, err)
	}
	if n := len(e.fake.Reviews()); n != 1 {
		t.Errorf("%d reviews made; trainbot made one?", n)
	}
	for _, r := range e.fake.Requests() {
		if r.Method != "GET" {
			t.Errorf("trainbot sent %s: it only reads the gate", r)
		}
	}
}

// A rejected run completes with conclusion failure (GitHub: "If a job is
// rejected, the workflow will fail"); the review history says who
// rejected it and why.
func TestEnvironmentGateRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := gated(t, e)
	e.fake.ReviewAs(id, "ana", "rejected", "mtest-val-01 is re-rolling, not today")
	run, err := e.gh.WaitRun(t.Context(), id, true)
	if err != nil || !run.Completed() || run.Conclusion != "failure" {
		t.Fatalf("the rejected run = %+v, %v; want completed with failure", run, err)
	}
	reviews, err := e.gh.DeploymentReviews(t.Context(), id)
	want := []trains.DeploymentReview{{Environments: []string{"staging"}, State: "rejected", User: "ana", Comment: "mtest-val-01 is re-rolling, not today"}}
	if diff := cmp.Diff(want, reviews); err != nil || diff != "" {
		t.Errorf("reviews (-want +got, %v):\n%s", err, diff)
	}
}

func TestEnvironmentGateUnknownRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.gh.PendingDeployments(t.Context(), 424242); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("pending deployments of an unknown run: %v", err)
	}
	if _, err := e.gh.DeploymentReviews(t.Context(), 424242); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("reviews of an unknown run: %v", err)
	}
}

// A run waiting for a review is followed past RunTimeout, which bounds a
// running deploy: reviewers may take a night to look.
func TestWaitingRunOutlivesRunTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.RunTimeout = time.Hour })
	id := gated(t, e)
	start := e.clock.Now()
	reviewed := false
	e.gh.o.sleeper = trains.Sleeper(func(ctx context.Context, d time.Duration) error {
		e.clock.Advance(d)
		if !reviewed && e.clock.Now().Sub(start) > 14*time.Hour {
			e.fake.ReviewAs(id, "ana", "approved", "morning, ship it")
			reviewed = true
		}
		return ctx.Err()
	})
	run, err := e.gh.WaitRun(t.Context(), id, true)
	if err != nil || run.Waiting() {
		t.Fatalf("WaitRun(waiting true) = %+v, %v; want the run approved after a night", run, err)
	}
}
