package trains_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// A dev cut tags the release branch's head with the next number of the
// line, waits for the publish run, dispatches and follows the deploy, and
// tells each step in the thread and the audit log.
func TestUnitCutDevDeploys(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 10:00")) // a dev Tuesday, before the slot
	ctx := t.Context()
	e.repo.AddTag("v0.5.0-dev.3", e.repo.HeadOf("main"))
	head := e.repo.AddCommits("main", 3)[2]

	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %+v, %v", res.Outcome, err)
	}
	if res.Train.ID != "dev-2026-12-01" || res.Train.OffSchedule || res.Train.Tag != "v0.5.0-dev.4" {
		t.Errorf("train = %s off=%v tag=%s", res.Train.ID, res.Train.OffSchedule, res.Train.Tag)
	}
	if res.Plan.Comparison.Total != 3 || res.Plan.Previous != "v0.5.0-dev.3" {
		t.Errorf("plan: %d commits since %q, want 3 since v0.5.0-dev.3", res.Plan.Comparison.Total, res.Plan.Previous)
	}
	e.svc.Wait()

	tr := e.train("dev-2026-12-01")
	publish := e.repo.Runs(trainstest.PublishWorkflow)
	if tr.State != trains.Deployed || len(publish) != 1 || tr.PublishRunID != publish[0].ID || tr.DeployRunID == 0 {
		t.Fatalf("train after run: %+v; publish runs %+v", tr, publish)
	}
	if got := e.repo.Tag("v0.5.0-dev.4"); got != head {
		t.Errorf("tag on %q, want HEAD %q", got, head)
	}
	ds := e.repo.Dispatches()
	if len(ds) != 1 || ds[0].Ref != "v0.5.0-dev.4" || ds[0].Inputs["environment"] != "dev" || ds[0].Inputs["release_type"] != "dev" {
		t.Fatalf("dispatches = %+v", ds)
	}
	top := e.ann.Top()
	if len(top) != 1 || !strings.Contains(top[0].Text(), "v0.5.0-dev.4") || !strings.Contains(top[0].Text(), "deployed") {
		t.Fatalf("top message: %+v", top)
	}
	var steps []string
	for _, p := range e.ann.Thread(top[0].Ref) {
		steps = append(steps, p.Text())
	}
	all := strings.Join(steps, "\n")
	for _, want := range []string{"Tagged", trainstest.PublishWorkflow, "Dispatched", "deployed to dev"} {
		if !strings.Contains(all, want) {
			t.Errorf("thread lacks %q:\n%s", want, all)
		}
	}
	log, err := e.store.AuditLog(ctx, "dev-2026-12-01", 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(log) - 1; i >= 0; i-- { // oldest first
		actions = append(actions, log[i].Action)
	}
	want := []string{"cut dev", "train tagged", "train publishing", "train deploying", "train deployed"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit log of the train (-want +got):\n%s", diff)
	}
	// Cutting again: HEAD is the tag's commit now.
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutNothing || !strings.Contains(res.Plan.Nothing, "already shipped") {
		t.Errorf("second cut = %v %q, %v", res.Outcome, res.Plan.Nothing, err)
	}
	recs, err := e.store.Deploys(ctx, at("2026-12-01 00:00"), e.clock.Now().Add(time.Hour))
	if err != nil || len(recs) != 1 || recs[0].Track != trains.Dev || recs[0].RunID != tr.DeployRunID {
		t.Errorf("deploy records = %+v, %v", recs, err)
	}
}

// The first train tag of a repository starts the configured line.
func TestUnitFirstCutStartsTheInitialLine(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 10:00"))
	e.repo.AddCommits("main", 1)
	res, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser, DryRun: true})
	if err != nil || res.Outcome != trains.CutPreview || res.Plan.Tag.String() != "v0.1.0-dev.1" || res.Plan.Previous != "" {
		t.Fatalf("preview = %v %s (previous %q), %v", res.Outcome, res.Plan.Tag, res.Plan.Previous, err)
	}
	if len(e.repo.AllTags()) != 0 || len(e.repo.Dispatches()) != 0 {
		t.Error("a dry run tagged or dispatched")
	}
}

func TestUnitConcurrentCutsMakeOneTag(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00")) // a Thursday: off schedule
	e.repo.AddCommits("main", 2)
	var wg sync.WaitGroup
	results := make([]trains.CutResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = e.svc.Cut(context.Background(), trains.CutRequest{Track: trains.Dev, By: releaser})
		})
	}
	wg.Wait()
	e.svc.Wait()
	started := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Errorf("cut %d: %v", i, errs[i])
		}
		if r.Outcome == trains.CutStarted {
			started++
		}
	}
	if started != 1 {
		t.Errorf("%d cuts started, want 1", started)
	}
	if n, d := len(e.repo.AllTags()), len(e.repo.Dispatches()); n != 1 || d != 1 {
		t.Errorf("%d tags and %d dispatches, want 1 and 1", n, d)
	}
	if tr := e.train("dev-2026-12-03"); !tr.OffSchedule || tr.State != trains.Deployed {
		t.Errorf("off-schedule train: %+v", tr)
	}
}

// cutAndWait starts a dev cut and waits for its train to stop.
func (e *unitEnv) cutAndWait() trains.Train {
	e.t.Helper()
	res, err := e.svc.Cut(e.t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		e.t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	return e.train(res.Train.ID)
}

func TestUnitPublishFailureStopsBeforeDispatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ publish, why string }{
		{"failure", "ended failure"},
		{trainstest.RunNever, "started no run"},
	} {
		t.Run(tc.publish, func(t *testing.T) {
			t.Parallel()
			e := newUnitEnv(t, at("2026-12-01 14:00"))
			e.repo.AddCommits("main", 1)
			e.repo.SetPublish(tc.publish)
			tr := e.cutAndWait()
			if tr.State != trains.Failed || !strings.Contains(tr.Error, "publish") || !strings.Contains(tr.Error, tc.why) {
				t.Errorf("train = %s %q", tr.State, tr.Error)
			}
			if len(e.repo.Dispatches()) != 0 {
				t.Errorf("dispatched after a failed publish: %+v", e.repo.Dispatches())
			}
			if p, ok := e.ann.Find("Train failed"); !ok || p.Parent.TS == "" {
				t.Errorf("failure not announced in the thread")
			}
		})
	}
}

// With no publish workflow configured, a train does not wait for one.
func TestUnitNoPublishWorkflowGoesStraightToDeploy(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 14:00"), func(c *trains.ServiceConfig) { c.PublishWorkflow = "" })
	e.repo.AddCommits("main", 1)
	e.repo.SetPublish(trainstest.RunNever)
	if tr := e.cutAndWait(); tr.State != trains.Deployed || tr.PublishRunID != 0 {
		t.Errorf("train = %s, publish run %d", tr.State, tr.PublishRunID)
	}
}

func TestUnitDeployFailureAndDispatchWithoutRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ deploy, why string }{
		{"failure", "deploy run ended failure"},
		{trainstest.RunNever, "no run of " + trainstest.DeployWorkflow},
	} {
		t.Run(tc.deploy, func(t *testing.T) {
			t.Parallel()
			e := newUnitEnv(t, at("2026-12-01 14:00"))
			e.repo.AddCommits("main", 1)
			e.repo.SetDeploy(tc.deploy)
			tr := e.cutAndWait()
			if tr.State != trains.Failed || !strings.Contains(tr.Error, tc.why) {
				t.Errorf("train = %s %q, want failed saying %q", tr.State, tr.Error, tc.why)
			}
			if n := len(e.repo.Dispatches()); n != 1 {
				t.Errorf("%d dispatches, want 1", n)
			}
		})
	}
}

// A tag someone made by hand takes its number: the cut makes the next one.
func TestUnitCutSkipsATagMadeByHand(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 14:00"))
	head := e.repo.AddCommits("main", 1)[0]
	e.repo.AddTag("v0.1.0-dev.1", e.repo.AddCommit("side", "elsewhere", time.Time{}))
	tr := e.cutAndWait()
	if tr.Tag != "v0.1.0-dev.2" || tr.State != trains.Deployed || e.repo.Tag("v0.1.0-dev.2") != head {
		t.Errorf("train %s %s; tag on %q, want %q", tr.Tag, tr.State, e.repo.Tag("v0.1.0-dev.2"), head)
	}
}

// A tag conflict and a refusal end the train; an error that may pass with
// time leaves it at its step, and the next tick continues it, dispatching once.
func TestUnitRepoErrorsEndOrPauseTheTrain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		err    error
		state  trains.State
	}{
		{"CreateTag", &trains.TagConflictError{Tag: "v0.1.0-dev.1", Existing: "aaaaaaaa", Want: "bbbbbbbb"}, trains.Failed},
		{"Dispatch", trains.ErrRefused, trains.Failed},
		{"Dispatch", errors.New("502 bad gateway"), trains.Deploying},
		{"WaitPublish", errors.New("connection reset"), trains.Publishing},
	} {
		t.Run(tc.method+"/"+tc.err.Error()[:8], func(t *testing.T) {
			t.Parallel()
			e := newUnitEnv(t, at("2026-12-01 14:00"))
			e.repo.AddCommits("main", 1)
			e.repo.FailNext(tc.method, tc.err)
			tr := e.cutAndWait()
			if tr.State != tc.state {
				t.Fatalf("train after %s failed with %v: %s %q, want %s", tc.method, tc.err, tr.State, tr.Error, tc.state)
			}
			if tc.state == trains.Failed {
				if !strings.Contains(tr.Error, tc.err.Error()) {
					t.Errorf("train error %q does not say %q", tr.Error, tc.err)
				}
				return
			}
			if _, ok := e.ann.Find("trainbot will try this step again"); !ok {
				t.Error("the trouble was not told in the thread")
			}
			e.tick()
			e.svc.Wait()
			if tr := e.train(tr.ID); tr.State != trains.Deployed || len(e.repo.Dispatches()) != 1 {
				t.Errorf("after the tick: %s with %d dispatches, want deployed with 1", tr.State, len(e.repo.Dispatches()))
			}
		})
	}
}

// A repository that cannot be read cuts nothing and says so.
func TestUnitCutWhenTheRepositoryFails(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 14:00"))
	e.repo.AddCommits("main", 1)
	e.repo.FailNext("Tags", errors.New("listing refused"))
	if _, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser}); err == nil || !strings.Contains(err.Error(), "listing refused") {
		t.Errorf("cut with the tags unreadable: %v", err)
	}
	e.svc.Wait()
	if len(e.repo.AllTags()) != 0 {
		t.Errorf("tagged: %+v", e.repo.AllTags())
	}
	if tr := e.cutAndWait(); tr.State != trains.Deployed {
		t.Errorf("the cut once the repository answers: %s", tr.State)
	}
}
