package trains_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

func TestCutDevDeploys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00")) // a dev Tuesday, before the slot
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-dev.3", e.gh.Head("main"))
	head := e.gh.AddCommits("main", 3)[2]

	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %+v, %v", res.Outcome, err)
	}
	if res.Train.ID != "dev-2026-12-01" || res.Train.OffSchedule || res.Train.Tag != "v0.5.0-dev.4" {
		t.Errorf("train = %s off=%v tag=%s", res.Train.ID, res.Train.OffSchedule, res.Train.Tag)
	}
	e.svc.Wait()

	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Deployed || tr.DeployRunID == 0 || tr.PublishRunID == 0 {
		t.Fatalf("train after run: %+v", tr)
	}
	if got := e.tag("v0.5.0-dev.4"); got != head {
		t.Errorf("tag on %q, want HEAD %q", got, head)
	}
	ds := e.gh.Dispatches()
	if len(ds) != 1 || ds[0].Ref != "v0.5.0-dev.4" || ds[0].Inputs["environment"] != "dev" || ds[0].Inputs["release_type"] != "dev" {
		t.Fatalf("dispatches = %+v", ds)
	}
	top := e.ann.Top()
	if len(top) != 1 || !strings.Contains(top[0].Text(), "v0.5.0-dev.4") || !strings.Contains(top[0].Text(), "deployed") {
		t.Fatalf("top message: %+v", top)
	}
	thread := e.ann.Thread(top[0].Ref)
	var steps []string
	for _, p := range thread {
		steps = append(steps, p.Text())
	}
	all := strings.Join(steps, "\n")
	for _, want := range []string{"Tagged", "publish-images.yaml", "Dispatched", "deployed to dev"} {
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
	if err != nil || res.Outcome != trains.CutNothing {
		t.Errorf("second cut = %v, %v", res.Outcome, err)
	}
	recs, err2 := e.store.Deploys(ctx, at("2026-12-01 00:00"), e.clock.Now().Add(time.Hour))
	if err2 != nil || len(recs) != 1 || recs[0].Track != trains.Dev {
		t.Errorf("deploy records = %+v, %v", recs, err2)
	}
}

func TestConcurrentCutsMakeOneTag(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00")) // a Thursday: off schedule
	e.gh.AddCommits("main", 2)
	var wg sync.WaitGroup
	results := make([]trains.CutResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.svc.Cut(context.Background(), trains.CutRequest{Track: trains.Dev, By: releaser})
		}()
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
	n := 0
	for _, tg := range e.gh.Tags() {
		if strings.Contains(tg.Name, "-dev.") {
			n++
		}
	}
	if n != 1 || len(e.gh.Dispatches()) != 1 {
		t.Errorf("%d dev tags and %d dispatches, want 1 and 1", n, len(e.gh.Dispatches()))
	}
	tr := e.train("dev-2026-12-03")
	if !tr.OffSchedule || tr.State != trains.Deployed {
		t.Errorf("off-schedule train: %+v", tr)
	}
}

func TestPublishFailureStopsBeforeDispatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 14:00"))
	e.gh.AddCommits("main", 1)
	e.gh.SetConclusion("publish-images.yaml", "failure")
	if res, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser}); err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Failed || !strings.Contains(tr.Error, "publish") {
		t.Errorf("train = %s %q", tr.State, tr.Error)
	}
	if len(e.gh.Dispatches()) != 0 {
		t.Errorf("dispatched after a failed publish: %+v", e.gh.Dispatches())
	}
	if p, ok := e.ann.Find("Train failed"); !ok || p.Parent.TS == "" {
		t.Errorf("failure not announced in the thread")
	}
}

func TestDeployFailureAndConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 14:00"))
	head := e.gh.AddCommits("main", 1)[0]
	// Someone made the next tag by hand on another commit.
	e.gh.AddTag("v0.1.0-dev.1", e.gh.AddCommit("side", "elsewhere", time.Time{}))
	e.gh.AddBranch("main", head)
	res, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted || res.Train.Tag != "v0.1.0-dev.2" {
		t.Fatalf("cut = %v %s, %v", res.Outcome, res.Train.Tag, err)
	}
	e.svc.Wait()
	e.gh.SetConclusion("deploy-simple.yaml", "failure")
	e.gh.AddCommits("main", 1)
	e.clock.Advance(time.Hour)
	res, err = e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted || res.Train.ID != "dev-2026-12-01-2" {
		t.Fatalf("second cut = %v %s, %v", res.Outcome, res.Train.ID, err)
	}
	e.svc.Wait()
	if tr := e.train("dev-2026-12-01-2"); tr.State != trains.Failed || !strings.Contains(tr.Error, "failure") {
		t.Errorf("failed deploy: %s %q", tr.State, tr.Error)
	}
}

func TestPauseHoldsCutsNotHotfixes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fix := e.gh.AddCommits("main", 1)[0] // the fix alone: a hotfix in scope

	pr, err := e.svc.Pause(ctx, trains.PauseRequest{Until: e.clock.Now().Add(2 * time.Hour), Reason: "mtest-val-01 re-roll", By: chainOps})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Affected) != 0 {
		t.Errorf("a 2h window at 10:00 should not hold the 14:00 train: %+v", pr.Affected)
	}
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutPaused || res.Window.Reason != "mtest-val-01 re-roll" {
		t.Fatalf("cut in window = %v %+v, %v", res.Outcome, res.Window, err)
	}
	if _, err := e.svc.Pause(ctx, trains.PauseRequest{Until: e.clock.Now().Add(time.Hour), By: chainOps}); !isUserErr(err) {
		t.Errorf("pause without reason: %v", err)
	}

	hf, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "fix panic", By: validator})
	if err != nil || !hf.InWindow() || hf.Train.Tag != "v0.5.0-hotfix.1" {
		t.Fatalf("hotfix = %+v, %v", hf, err)
	}
	e.svc.Wait()
	if got := e.tag("v0.5.0-hotfix.1"); got != fix {
		t.Errorf("hotfix tag on %q", got)
	}
	p, ok := e.ann.Find("Hotfix v0.5.0-hotfix.1")
	if !ok || !strings.Contains(p.Message.Plain(), "Made during a quiet window: mtest-val-01 re-roll") {
		t.Errorf("hotfix announcement lacks the warning: %q", p.Message.Plain())
	}
	ds := e.gh.Dispatches()
	if len(ds) != 1 || ds[0].Inputs["environment"] != "staging" || ds[0].Inputs["release_type"] != "hotfix" {
		t.Errorf("hotfix dispatch = %+v", ds)
	}
	if _, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "no-such-branch", Reason: "x", By: validator}); !isUserErr(err) {
		t.Errorf("hotfix of a missing ref: %v", err)
	}

	ended, err := e.svc.Resume(ctx, releaser)
	if err != nil || len(ended) != 1 {
		t.Fatalf("resume = %v, %v", ended, err)
	}
	if _, err := e.svc.Resume(ctx, releaser); !isUserErr(err) {
		t.Errorf("second resume: %v", err)
	}
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Errorf("cut after resume = %v, %v", res.Outcome, err)
	}
}

func isUserErr(err error) bool {
	var ue *trains.UserError
	return errors.As(err, &ue)
}

// stagingEnv has a dev tag that has soaked 8 days and one of 1 day.
func stagingEnv(t *testing.T) (*env, string) {
	e := newEnv(t, at("2026-12-09 10:00"))
	soaked := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.4", soaked, "dev", at("2026-12-01 14:00"))
	fresh := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.5", fresh, "dev", at("2026-12-08 14:00"))
	return e, soaked
}

func TestStagingSignOff(t *testing.T) {
	t.Parallel()
	e, soaked := stagingEnv(t)
	ctx := t.Context()
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutNeedsSignOff {
		t.Fatalf("unsigned cut = %v, %v", res.Outcome, err)
	}
	if len(res.CanSignOff) != 2 { // validator and val2; not the cutter
		t.Errorf("can sign off = %v", res.CanSignOff)
	}
	// The cutter is a validator too, but their own approval does not count.
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: releaser, Train: "next-staging"}); err != nil {
		t.Fatal(err)
	}
	res, _ = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if res.Outcome != trains.CutNeedsSignOff || res.SignOff.Ignored[releaser] == "" {
		t.Fatalf("self-approved cut = %v %+v", res.Outcome, res.SignOff)
	}
	// A dry run shows the plan and changes nothing.
	pre, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, DryRun: true})
	if err != nil || pre.Outcome != trains.CutPreview || pre.Plan.Tag.String() != "v0.5.0-staging.1" || pre.Plan.Promotes.String() != "v0.5.0-dev.4" {
		t.Fatalf("preview = %+v, %v", pre, err)
	}
	r1, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "staging-2026-12-09"})
	r2, err2 := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "staging-2026-12-09"})
	if err != nil || err2 != nil || !r1.Added || r2.Added || len(r2.Approvals) != 2 {
		t.Fatalf("approvals: %+v %v / %+v %v", r1, err, r2, err2)
	}
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "dev-2026-12-08"}); !isUserErr(err) {
		t.Errorf("approving a dev train: %v", err)
	}
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted || res.Train.Tag != "v0.5.0-staging.1" {
		t.Fatalf("signed cut = %v %s, %v", res.Outcome, res.Train.Tag, err)
	}
	e.svc.Wait()
	if got := e.tag("v0.5.0-staging.1"); got != soaked {
		t.Errorf("staging tag on %q, want the soaked dev commit %q", got, soaked)
	}
	if ds := e.gh.Dispatches(); len(ds) != 1 || ds[0].Inputs["environment"] != "staging" {
		t.Errorf("dispatches = %+v", ds)
	}
}

func TestStagingRollForward(t *testing.T) {
	t.Parallel()
	e, _ := stagingEnv(t)
	ctx := t.Context()
	// A staging tag two weeks ago, and a hotfix after it on a side branch.
	base := e.gh.AddCommit("old", "old staging", at("2026-11-20 10:00"))
	e.gh.AddAnnotatedTag("v0.4.0-staging.1", base, "staging", at("2026-11-25 14:00"))
	hf := e.gh.AddCommit("fix", "hotfix", at("2026-11-26 10:00"))
	e.gh.AddAnnotatedTag("v0.4.0-hotfix.1", hf, "hotfix", at("2026-11-26 10:00"))
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutMissingHotfixes || len(res.Plan.Missing) != 1 || res.Plan.Missing[0].String() != "v0.4.0-hotfix.1" {
		t.Fatalf("cut lacking a hotfix = %v %+v, %v", res.Outcome, res.Plan.Missing, err)
	}
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, Force: true})
	if err != nil || res.Outcome != trains.CutStarted || !res.Train.Forced {
		t.Fatalf("forced cut = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
}

func TestNothingToStage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-09 10:00"))
	c := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.1", c, "dev", at("2026-12-08 14:00")) // one day old
	res, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutNothing || !strings.Contains(res.Plan.Nothing, "soaked") {
		t.Errorf("cut = %v %q, %v", res.Outcome, res.Plan.Nothing, err)
	}
	if len(e.gh.Tags()) != 1 {
		t.Errorf("tags = %+v", e.gh.Tags())
	}
}

func TestDispatchRunNeverAppears(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-01 14:00"), func(c *trains.ServiceConfig) { c.PublishWorkflow = "" })
	e.gh.AddCommits("main", 1)
	e.gh.SetDispatchCreatesRun(false)
	if _, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Dev, By: releaser}); err != nil {
		t.Fatal(err)
	}
	e.svc.Wait()
	tr := e.train("dev-2026-12-01")
	if tr.State != trains.Failed || !strings.Contains(tr.Error, "run") {
		t.Errorf("train = %s %q", tr.State, tr.Error)
	}
	if len(e.gh.Dispatches()) != 1 {
		t.Errorf("dispatches = %d", len(e.gh.Dispatches()))
	}
	_ = githubfake.DefaultBranch
}

func TestHotfixTwiceOnOneCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fix := e.gh.AddCommits("main", 1)[0]
	if _, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator}); err != nil {
		t.Fatal(err)
	}
	// Retyped while the first is on its way, and again once it is out.
	_, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: "main", Reason: "panic", By: releaser})
	if !isUserErr(err) || !strings.Contains(err.Error(), "already ships") {
		t.Errorf("second hotfix of the same commit: %v", err)
	}
	e.svc.Wait()
	_, err = e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: fix, Reason: "panic", By: releaser})
	if !isUserErr(err) || !strings.Contains(err.Error(), "v0.5.0-hotfix.1 already ships") {
		t.Errorf("hotfix of a commit already hotfixed: %v", err)
	}
	if n := len(e.gh.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}
