package deploy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

// cut is the part of a train this package serves, in the order the
// domain runs it (SPEC §2): tag, wait for publish, dispatch only if
// publish succeeded, find the run, follow it.
func cut(ctx context.Context, r trains.Repo, clock trains.Clock, tag, commit string) (trains.Run, error) {
	if err := r.CreateTag(ctx, tag, commit, "train "+tag); err != nil {
		return trains.Run{}, err
	}
	pub, err := r.WaitPublish(ctx, tag)
	if err != nil {
		return pub, err
	}
	if !pub.Succeeded() {
		return pub, errors.New("publish " + pub.Conclusion)
	}
	since := clock.Now()
	if err := r.Dispatch(ctx, tag, trains.Dev.WorkflowInputs()); err != nil {
		return trains.Run{}, err
	}
	run, err := r.FindDeployRun(ctx, tag, since)
	if err != nil {
		return run, err
	}
	return r.WaitRun(ctx, run.ID, false)
}

func TestTrainRequestCost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetRunSteps(2) // every run moves one state per two polls
	head := e.fake.Head("main")
	e.fake.ResetRequests()

	run, err := cut(t.Context(), e.gh, e.clock, "v0.1.0-dev.1", head)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Succeeded() || run.Ref != "v0.1.0-dev.1" || run.Event != "workflow_dispatch" || run.SHA != head {
		t.Errorf("deploy run %+v", run)
	}
	want := []githubfake.Dispatch{{Workflow: "deploy-simple.yaml", Ref: "v0.1.0-dev.1",
		Inputs: map[string]string{"environment": "dev", "release_type": "dev"}, At: e.fake.Dispatches()[0].At}}
	if diff := cmp.Diff(want, e.fake.Dispatches()); diff != "" {
		t.Errorf("dispatches (-want +got):\n%s", diff)
	}
	counted := e.fake.Counted()
	t.Logf("a whole train cost %d counted requests (+%d answered 304 Not Modified)", counted, e.fake.NotModified())
	for _, r := range e.fake.Requests() {
		t.Log(r)
	}
	if counted > 15 {
		t.Errorf("a train cost %d counted requests, want at most 15", counted)
	}
	for _, w := range e.sleep.Waits() {
		if w < e.gh.cfg.PollMin/2 || w > e.gh.cfg.PollMax {
			t.Errorf("poll wait %v outside [%v, %v]", w, e.gh.cfg.PollMin, e.gh.cfg.PollMax)
		}
	}
}

func TestFailedPublishStopsBeforeDispatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetRunSteps(1)
	e.fake.SetConclusion("publish-images.yaml", "failure")
	run, err := cut(t.Context(), e.gh, e.clock, "v0.1.0-dev.1", e.fake.Head("main"))
	if err == nil || run.Conclusion != "failure" || run.Ref != "v0.1.0-dev.1" || !run.Completed() {
		t.Errorf("got %+v, %v; want the failed publish run", run, err)
	}
	if d := e.fake.Dispatches(); len(d) != 0 {
		t.Errorf("dispatched %+v after a failed publish", d)
	}
}

func TestWaitPublishWithoutWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.PublishWorkflow = "" })
	run, err := e.gh.WaitPublish(t.Context(), "v0.1.0-dev.1")
	if err != nil || !run.Succeeded() || run.Ref != "v0.1.0-dev.1" {
		t.Errorf("got %+v, %v", run, err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestWaitPublishNoRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.PublishWorkflow = "deploy-simple.yaml" }) // a workflow no tag push starts
	_, err := e.gh.WaitPublish(t.Context(), "v0.1.0-dev.1")
	if !errors.Is(err, trains.ErrRunNotFound) || !strings.Contains(err.Error(), "started no run for tag v0.1.0-dev.1") {
		t.Errorf("got %v", err)
	}
	if total := e.sleep.Total(); total > e.gh.cfg.RunAppear+e.gh.cfg.PollMax {
		t.Errorf("waited %v for a bound of %v", total, e.gh.cfg.RunAppear)
	}
}

func TestDispatchRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arrange func(e *env)
		tag     string
		inputs  map[string]string
		want    string
	}{
		{"unexpected inputs", nil, "v0.1.0-dev.1", map[string]string{"environment": "dev", "colour": "red"},
			`GitHub refused to dispatch deploy-simple.yaml on v0.1.0-dev.1: deploy-simple.yaml does not declare these inputs (["colour"])`},
		{"no such ref", nil, "v9.9.9-dev.1", nil, "acme/chain has no tag or branch v9.9.9-dev.1"},
		{"no workflow_dispatch trigger", func(e *env) { e.fake.SetDispatchable("deploy-simple.yaml", false) }, "v0.1.0-dev.1", nil,
			"has no workflow_dispatch trigger"},
		{"unknown workflow", func(e *env) {}, "v0.1.0-dev.1", nil, "or the token lacks actions:write"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.name == "unknown workflow" {
				e = newEnv(t, func(c *Config) { c.DeployWorkflow = "nope.yaml" })
			}
			e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
			if tc.arrange != nil {
				tc.arrange(e)
			}
			err := e.gh.Dispatch(t.Context(), tc.tag, tc.inputs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want it to contain %q", err, tc.want)
			}
			var er *github.ErrorResponse
			if !errors.As(err, &er) || !errors.Is(err, trains.ErrRefused) {
				t.Errorf("%v does not wrap the go-github error and trains.ErrRefused", err)
			}
			if n := e.fake.Count("POST", "actions/workflows/"); n != 1 {
				t.Errorf("%d dispatch requests, want 1 (never retried)", n)
			}
			if len(e.fake.Dispatches()) != 0 || len(e.sleep.Waits()) != 0 {
				t.Errorf("dispatches %v, waits %v", e.fake.Dispatches(), e.sleep.Waits())
			}
		})
	}
}

func TestDispatch5xx(t *testing.T) {
	t.Parallel()
	const route = "actions/workflows/deploy-simple.yaml/dispatches"
	t.Run("carried out: not dispatched again", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
		e.fake.Fail("POST", route, githubfake.ServerError().Applied())
		if err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", trains.Dev.WorkflowInputs()); err != nil {
			t.Fatal(err)
		}
		if d, n := e.fake.Dispatches(), e.fake.Count("POST", route); len(d) != 1 || n != 1 {
			t.Errorf("%d dispatches made in %d requests, want 1 and 1", len(d), n)
		}
	})
	t.Run("not carried out: dispatched again once no run appeared", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
		e.fake.Fail("POST", route, githubfake.BadGateway())
		if err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", trains.Dev.WorkflowInputs()); err != nil {
			t.Fatal(err)
		}
		if d, n := e.fake.Dispatches(), e.fake.Count("POST", route); len(d) != 1 || n != 2 {
			t.Errorf("%d dispatches made in %d requests, want 1 and 2", len(d), n)
		}
		if e.sleep.Total() < e.gh.cfg.RunAppear {
			t.Errorf("looked for the run for %v only, want %v", e.sleep.Total(), e.gh.cfg.RunAppear)
		}
	})
	t.Run("always failing: gives up saying so", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
		e.fake.Fail("POST", route, githubfake.ServerError(), githubfake.ServerError(), githubfake.ServerError())
		err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", nil)
		if err == nil || !strings.Contains(err.Error(), "tried 3 times; no run appeared") {
			t.Errorf("got %v", err)
		}
	})
}

func TestFindDeployRunNeverAppears(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
	e.fake.SetDispatchCreatesRun(false)
	since := e.clock.Now()
	if err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.gh.FindDeployRun(t.Context(), "v0.1.0-dev.1", since)
	if !errors.Is(err, trains.ErrRunNotFound) {
		t.Fatalf("got %v, want ErrRunNotFound", err)
	}
	for _, want := range []string{"no run of deploy-simple.yaml for tag v0.1.0-dev.1", "appeared within 3m0s", "Actions tab of acme/chain"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if got := e.sleep.Total(); got != e.gh.cfg.RunAppear {
		t.Errorf("waited %v, want the bound %v", got, e.gh.cfg.RunAppear)
	}
	if n := e.fake.Counted(); n > 3 {
		t.Errorf("%d counted requests while polling an empty list, want ≤3 (304s are free)", n)
	}
}

func TestFindDeployRunIgnoresOlderRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
	old := e.fake.StartRun("deploy-simple.yaml", "v0.1.0-dev.1", e.fake.Head("main"), "workflow_dispatch")
	e.clock.Advance(time.Hour)
	since := e.clock.Now()
	if err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", nil); err != nil {
		t.Fatal(err)
	}
	run, err := e.gh.FindDeployRun(t.Context(), "v0.1.0-dev.1", since)
	if err != nil || run.ID == old || run.Status != "queued" {
		t.Errorf("got %+v, %v; want the new run, not %d", run, err, old)
	}
}

func TestPendingDeploymentApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	env := githubfake.Environment{ID: 161171787, Name: "dev"}
	e.fake.RequireApproval("deploy-simple.yaml", env)
	e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
	since := e.clock.Now()
	if err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", trains.Dev.WorkflowInputs()); err != nil {
		t.Fatal(err)
	}
	run, err := e.gh.FindDeployRun(t.Context(), "v0.1.0-dev.1", since)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.gh.ReviewDeployment(t.Context(), run.ID, true, "too early"); err == nil || !strings.Contains(err.Error(), "waits for no deployment review") {
		t.Errorf("review before the run waits: %v", err)
	}
	e.fake.AdvanceRun(run.ID) // in_progress
	e.fake.AdvanceRun(run.ID) // waiting for the dev environment
	if err := e.gh.ReviewDeployment(t.Context(), run.ID, true, "LGTM, train v0.1.0-dev.1"); err != nil {
		t.Fatal(err)
	}
	want := []githubfake.Review{{RunID: run.ID, EnvironmentIDs: []int64{env.ID}, State: "approved", Comment: "LGTM, train v0.1.0-dev.1", User: githubfake.APIUser}}
	if diff := cmp.Diff(want, e.fake.Reviews()); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
	e.fake.SetRunSteps(1)
	done, err := e.gh.WaitRun(t.Context(), run.ID, false)
	if err != nil || !done.Succeeded() {
		t.Errorf("WaitRun = %+v, %v", done, err)
	}

	e.fake.Fail("POST", "actions/runs/*", githubfake.Forbidden())
	e.fake.SetRunStatus(run.ID, "waiting", "")
	other := e.fake.StartRun("deploy-simple.yaml", "v0.1.0-dev.1", e.fake.Head("main"), "workflow_dispatch")
	e.fake.AdvanceRun(other)
	e.fake.AdvanceRun(other)
	err = e.gh.ReviewDeployment(t.Context(), other, false, "no")
	if err == nil || !strings.Contains(err.Error(), "GitHub refused to reject the deployments of run") || !strings.Contains(err.Error(), "required reviewer") {
		t.Errorf("a refused review: %v", err)
	}
}

func TestWaitRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.fake.StartRun("deploy-simple.yaml", "v0.1.0-dev.1", e.fake.Head("main"), "workflow_dispatch")
	e.fake.SetConclusion("deploy-simple.yaml", "failure")
	e.fake.SetRunSteps(3)
	run, err := e.gh.WaitRun(t.Context(), id, false)
	if err != nil || !run.Completed() || run.Conclusion != "success" || run.ID != id {
		// The run was started before the conclusion changed: it keeps success.
		t.Errorf("got %+v, %v", run, err)
	}
	if _, err := e.gh.WaitRun(t.Context(), 424242, false); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("unknown run: %v", err)
	}

	stuck := e.fake.StartRun("deploy-simple.yaml", "v0.1.0-dev.1", e.fake.Head("main"), "workflow_dispatch")
	e.fake.SetRunSteps(0)
	e2 := e.gh
	e2.cfg.RunTimeout = 10 * time.Minute
	run, err = e2.WaitRun(t.Context(), stuck, false)
	if err == nil || !strings.Contains(err.Error(), "still queued after 10m0s") || run.ID != stuck {
		t.Errorf("a stuck run: %+v, %v", run, err)
	}
}

func TestDeployRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	head := e.fake.Head("main")
	e.fake.StartRun("deploy-simple.yaml", "main", head, "push") // before since
	e.clock.Advance(time.Hour)
	since := e.clock.Now()
	push := e.fake.StartRun("deploy-simple.yaml", "main", head, "push")
	e.clock.Advance(time.Minute)
	train := e.fake.StartRun("deploy-simple.yaml", "v0.1.0-dev.1", head, "workflow_dispatch")
	e.fake.StartRun("publish-images.yaml", "v0.1.0-dev.1", head, "push")

	runs, err := e.gh.DeployRuns(t.Context(), since)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range runs {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]int64{push, train}, got); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	if runs[0].Ref != "main" || runs[0].Event != "push" || runs[0].URL == "" {
		t.Errorf("unscheduled run %+v", runs[0])
	}
	if q := e.fake.Requests()[len(e.fake.Requests())-1]; q.Status != http.StatusOK || !strings.Contains(q.Query, "created=%3E%3D2026-05-12T15%3A00%3A00Z") {
		t.Errorf("request %s", q)
	}
}
