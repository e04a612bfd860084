package trains_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// A staging train promotes the newest dev tag that has soaked, once
// another validator than the cutter approved it; a double click counts once.
func TestUnitStagingSignOff(t *testing.T) {
	t.Parallel()
	e, soaked := unitStagingEnv(t)
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
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: "USTR", Train: "next-staging"}); !isUserErr(err) {
		t.Errorf("a stranger's approval: %v", err)
	}
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutStarted || res.Train.Tag != "v0.5.0-staging.1" {
		t.Fatalf("signed cut = %v %s, %v", res.Outcome, res.Train.Tag, err)
	}
	e.svc.Wait()
	if got := e.repo.Tag("v0.5.0-staging.1"); got != soaked {
		t.Errorf("staging tag on %q, want the soaked dev commit %q", got, soaked)
	}
	if ds := e.repo.Dispatches(); len(ds) != 1 || ds[0].Inputs["environment"] != "staging" || ds[0].Inputs["release_type"] != "staging" {
		t.Errorf("dispatches = %+v", ds)
	}
}

func TestUnitNothingToStage(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-09 10:00"))
	c := e.repo.AddCommits("main", 1)[0]
	e.repo.AddAnnotatedTag("v0.5.0-dev.1", c, at("2026-12-08 14:00")) // one day old
	res, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutNothing || !strings.Contains(res.Plan.Nothing, "soaked") {
		t.Errorf("cut = %v %q, %v", res.Outcome, res.Plan.Nothing, err)
	}
	if len(e.repo.AllTags()) != 1 {
		t.Errorf("tags = %+v", e.repo.AllTags())
	}
}

// A lightweight dev tag has no tag date: the plan reads its commit's date
// to tell whether it has soaked.
func TestUnitStagingSoakOfALightweightTag(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-09 10:00"))
	old := e.repo.AddCommit("main", "old", at("2026-11-30 10:00"))
	e.repo.AddTag("v0.5.0-dev.1", old)
	pre, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Staging, By: releaser, DryRun: true})
	if err != nil || pre.Plan.Promotes.String() != "v0.5.0-dev.1" || pre.Plan.Commit.SHA != old {
		t.Errorf("preview promotes %q on %s, %v; want v0.5.0-dev.1 on %s", pre.Plan.Promotes, pre.Plan.Commit.SHA, err, old)
	}
}

// A hotfix made since the last staging tag and not in the candidate holds
// the staging cut until --force (SPEC §1: hotfixes roll forward).
func TestUnitStagingRollForward(t *testing.T) {
	t.Parallel()
	e, soaked := unitStagingEnv(t)
	ctx := t.Context()
	base := e.repo.AddCommit("old", "old staging", at("2026-11-20 10:00"))
	e.repo.AddAnnotatedTag("v0.4.0-staging.1", base, at("2026-11-25 14:00"))
	hf := e.repo.AddCommit("fix", "hotfix", at("2026-11-26 10:00"))
	e.repo.AddAnnotatedTag("v0.4.0-hotfix.1", hf, at("2026-11-26 10:00"))
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || res.Outcome != trains.CutMissingHotfixes || len(res.Plan.Missing) != 1 || res.Plan.Missing[0].String() != "v0.4.0-hotfix.1" {
		t.Fatalf("cut lacking a hotfix = %v %+v, %v", res.Outcome, res.Plan.Missing, err)
	}
	res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, Force: true})
	if err != nil || res.Outcome != trains.CutStarted || !res.Train.Forced || res.Train.Tag != "v0.5.0-staging.1" {
		t.Fatalf("forced cut = %v %s, %v", res.Outcome, res.Train.Tag, err)
	}
	e.svc.Wait()
	if got := e.repo.Tag("v0.5.0-staging.1"); got != soaked {
		t.Errorf("staging tag on %q, want %q", got, soaked)
	}
}

// A hotfix the candidate contains (merged into main) holds nothing.
func TestUnitStagingWithTheHotfixMerged(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-09 10:00"))
	base := e.repo.AddCommit("main", "staged", at("2026-11-20 10:00"))
	e.repo.AddAnnotatedTag("v0.4.0-staging.1", base, at("2026-11-25 14:00"))
	e.repo.AddBranch("fix", base)
	hf := e.repo.AddCommit("fix", "hotfix", at("2026-11-26 10:00"))
	e.repo.AddAnnotatedTag("v0.4.0-hotfix.1", hf, at("2026-11-26 10:00"))
	e.repo.AddBranch("main", hf) // merged
	cand := e.repo.AddCommit("main", "after", at("2026-11-30 10:00"))
	e.repo.AddAnnotatedTag("v0.5.0-dev.1", cand, at("2026-12-01 14:00"))
	pre, err := e.svc.Cut(t.Context(), trains.CutRequest{Track: trains.Staging, By: releaser, DryRun: true})
	if err != nil || pre.Outcome != trains.CutPreview || len(pre.Plan.Missing) != 0 || pre.Plan.Comparison.Total != 2 {
		t.Errorf("preview = %v, missing %+v, %d commits since staging, %v; want none missing and 2 commits",
			pre.Outcome, pre.Plan.Missing, pre.Plan.Comparison.Total, err)
	}
}

// An approval counts for the candidate it was given for only.
func TestUnitApprovalSignsOneCandidate(t *testing.T) {
	t.Parallel()
	e, soaked := unitStagingEnv(t)
	ctx := t.Context()
	res, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"})
	if err != nil || res.Candidate.Promotes != "v0.5.0-dev.4" || res.Candidate.Commit != soaked || len(res.Approvals) != 1 {
		t.Fatalf("approve = %+v, %v", res, err)
	}
	// A newer dev tag soaks before the cut: the approval no longer counts.
	cand := e.repo.AddCommits("main", 1)[0]
	e.repo.AddAnnotatedTag("v0.5.0-dev.6", cand, at("2026-12-02 09:00"))
	cut, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || cut.Outcome != trains.CutNeedsSignOff || !strings.Contains(cut.SignOff.Ignored[validator], "earlier candidate, v0.5.0-dev.4") {
		t.Fatalf("cut with a stale approval = %v %+v, %v", cut.Outcome, cut.SignOff, err)
	}
	// A button carrying the old candidate is refused and records nothing.
	_, err = e.svc.Approve(ctx, trains.ApproveRequest{By: val2, Train: "staging-2026-12-09", Saw: "v0.5.0-dev.4@" + soaked})
	if err == nil || !strings.Contains(err.Error(), "changed since you saw it") || !strings.Contains(err.Error(), "v0.5.0-dev.6") {
		t.Fatalf("approving a candidate no longer current: %v", err)
	}
	if recs, _ := e.store.SignOffs(ctx, "staging-2026-12-09", trains.Approval); len(recs) != 1 {
		t.Errorf("a refused approval was recorded: %+v", recs)
	}
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: val2, Train: "staging-2026-12-09", Saw: "v0.5.0-dev.6@" + cand}); err != nil {
		t.Fatal(err)
	}
	cut, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser})
	if err != nil || cut.Outcome != trains.CutStarted || cut.Train.Tag != "v0.5.0-staging.1" || cut.Train.Commit != cand {
		t.Fatalf("cut = %v %s on %s, %v", cut.Outcome, cut.Train.Tag, cut.Train.Commit, err)
	}
	if got := cut.Train.ApprovedBy; len(got) != 1 || got[0] != val2 {
		t.Errorf("approved by = %v, want the approval of this candidate only", got)
	}
	e.svc.Wait()
	// The approval is used up; the stale one stays (it never counted).
	recs, err := e.store.SignOffs(ctx, "staging-2026-12-09", trains.Approval)
	if err != nil || len(recs) != 1 || recs[0].User != validator {
		t.Errorf("approvals after the cut: %+v, %v", recs, err)
	}
}

// A hotfix made after an approval changes what a promotion leaves out: the
// approval of the candidate without it no longer counts, even for --force.
func TestUnitHotfixAfterApprovalAsksAgain(t *testing.T) {
	t.Parallel()
	e, _ := unitStagingEnv(t)
	ctx := t.Context()
	base := e.repo.AddCommit("old", "old staging", at("2026-11-20 10:00"))
	e.repo.AddAnnotatedTag("v0.4.0-staging.1", base, at("2026-11-25 14:00"))
	if _, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"}); err != nil {
		t.Fatal(err)
	}
	hf := e.repo.AddCommit("fix", "hotfix", at("2026-11-26 10:00"))
	e.repo.AddAnnotatedTag("v0.4.0-hotfix.1", hf, at("2026-11-26 10:00"))
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, Force: true})
	if err != nil || res.Outcome != trains.CutNeedsSignOff || !strings.Contains(res.SignOff.Ignored[validator], "earlier candidate") {
		t.Fatalf("forced cut after a hotfix = %v %+v, %v", res.Outcome, res.SignOff, err)
	}
	r, err := e.svc.Approve(ctx, trains.ApproveRequest{By: validator, Train: "next-staging"})
	if err != nil || len(r.Candidate.Without) != 1 || len(r.Approvals) != 1 || len(r.Stale) != 0 {
		t.Fatalf("approve the candidate without the hotfix = %+v, %v", r, err)
	}
	if res, err = e.svc.Cut(ctx, trains.CutRequest{Track: trains.Staging, By: releaser, Force: true}); err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("forced cut approved as it is = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	if tr := e.train(res.Train.ID); tr.State != trains.Deployed {
		t.Errorf("forced staging train: %s %q", tr.State, tr.Error)
	}
}

// Who may confirm or skip is read with the train: its on-call may, a
// stranger may not, and a refusal changes nothing.
func TestUnitConfirmAndSkipCheckWhoMay(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	if _, err := e.svc.SetOnCall(ctx, releaser, "dev-2026-12-01", "UANA"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Confirm(ctx, "USTR", "dev-2026-12-01")
	var ue *trains.UserError
	if !errors.As(err, &ue) || !ue.Forbidden {
		t.Fatalf("a stranger's confirm: %v", err)
	}
	if _, err := e.store.GetTrain(ctx, "dev-2026-12-01"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("a refused confirm stored the train: %v", err)
	}
	if res, err := e.svc.Confirm(ctx, "UANA", "dev-2026-12-01"); err != nil || res.Train.ConfirmedBy != "UANA" {
		t.Fatalf("the on-call's confirm = %+v, %v", res.Train, err)
	}
	if _, err := e.svc.Skip(ctx, "USTR", "next-dev", "no"); !errors.As(err, &ue) || !ue.Forbidden {
		t.Errorf("a stranger's skip: %v", err)
	}
	tr, err := e.svc.Skip(ctx, "UANA", "next-dev", "chain halted")
	if err != nil || tr.SkippedBy != "UANA" || tr.State != trains.Skipped {
		t.Fatalf("the on-call's skip = %+v, %v", tr, err)
	}
	e.clock.Set(at("2026-12-01 14:00"))
	e.tick()
	if len(e.repo.AllTags()) != 0 {
		t.Error("a skipped train was tagged")
	}
}
