package trains_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// A quiet window holds cuts, not hotfixes: the hotfix goes out on the
// staging line with a warning, and the window ends with /train resume.
func TestUnitPauseHoldsCutsNotHotfixes(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-01 10:00"))
	ctx := t.Context()
	e.repo.AddTag("v0.5.0-staging.1", e.repo.HeadOf("main"))
	fix := e.repo.AddCommits("main", 1)[0] // the fix alone: a hotfix in scope

	pr, err := e.svc.Pause(ctx, trains.PauseRequest{Until: e.clock.Now().Add(2 * time.Hour), Reason: "mtest-val-01 re-roll", By: chainOps})
	if err != nil || len(pr.Affected) != 0 {
		t.Fatalf("pause = %+v, %v; a 2h window at 10:00 should not hold the 14:00 train", pr.Affected, err)
	}
	res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser})
	if err != nil || res.Outcome != trains.CutPaused || res.Window.Reason != "mtest-val-01 re-roll" {
		t.Fatalf("cut in window = %v %+v, %v", res.Outcome, res.Window, err)
	}
	hf, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: fix, Reason: "fix panic", By: validator})
	if err != nil || !hf.InWindow() || hf.Train.Tag != "v0.5.0-hotfix.1" || hf.Train.Candidate.Commits != 1 {
		t.Fatalf("hotfix = %+v, %v", hf, err)
	}
	e.svc.Wait()
	if got := e.repo.Tag("v0.5.0-hotfix.1"); got != fix {
		t.Errorf("hotfix tag on %q", got)
	}
	p, ok := e.ann.Find("Hotfix v0.5.0-hotfix.1")
	if !ok || !strings.Contains(p.Message.Plain(), "Made during a quiet window: mtest-val-01 re-roll") {
		t.Errorf("hotfix announcement lacks the warning: %q", p.Message.Plain())
	}
	ds := e.repo.Dispatches()
	if len(ds) != 1 || ds[0].Inputs["environment"] != "staging" || ds[0].Inputs["release_type"] != "hotfix" {
		t.Errorf("hotfix dispatch = %+v", ds)
	}
	if ended, err := e.svc.Resume(ctx, releaser); err != nil || len(ended) != 1 {
		t.Fatalf("resume = %v, %v", ended, err)
	}
	if _, err := e.svc.Resume(ctx, releaser); !isUserErr(err) {
		t.Errorf("second resume: %v", err)
	}
	if res, err := e.svc.Cut(ctx, trains.CutRequest{Track: trains.Dev, By: releaser}); err != nil || res.Outcome != trains.CutStarted {
		t.Errorf("cut after resume = %v, %v", res.Outcome, err)
	}
}

// A hotfix needs a staging tag to number it on.
func TestUnitHotfixWithoutStagingTag(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00"))
	fix := e.repo.AddCommits("main", 1)[0]
	_, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator})
	if !isUserErr(err) {
		t.Errorf("hotfix with no staging tag: %v", err)
	}
	if len(e.repo.AllTags()) != 0 {
		t.Errorf("tagged: %+v", e.repo.AllTags())
	}
}

func TestUnitHotfixTwiceOnOneCommit(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00"))
	e.repo.AddTag("v0.5.0-staging.1", e.repo.HeadOf("main"))
	fix := e.repo.AddCommits("main", 1)[0]
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
	if n := len(e.repo.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}

// A hotfix takes the next free number, also over one made by hand.
func TestUnitHotfixNumbers(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00"))
	e.repo.AddTag("v0.5.0-staging.1", e.repo.HeadOf("main"))
	e.repo.AddTag("v0.5.0-hotfix.1", e.repo.AddCommits("main", 1)[0])
	fix := e.repo.AddCommits("main", 1)[0]
	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: fix, Reason: "panic", By: validator})
	if err != nil || res.Train.Tag != "v0.5.0-hotfix.2" {
		t.Fatalf("hotfix = %q, %v; want v0.5.0-hotfix.2", res.Train.Tag, err)
	}
	e.svc.Wait()
	if got := e.repo.Tag("v0.5.0-hotfix.2"); got != fix {
		t.Errorf("hotfix.2 on %q, want %q", got, fix)
	}
}

// Refs that are not a sha or a branch name are refused before the
// repository is asked anything; a commit or branch the repository lacks,
// and a commit on none of its branches (a fork's), are refused by name.
func TestUnitHotfixRefusesRefs(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00"))
	e.repo.AddTag("v0.5.0-staging.1", e.repo.HeadOf("main"))
	for _, ref := range []string{"", "..", "../../../victim/private/commits/main", "%2e%2e", "-x", strings.Repeat("a", 41), "a?b", "a@{1}", "refs/heads/main"} {
		e.repo.ResetCalls()
		_, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: ref, Reason: "paged", By: validator})
		if !isUserErr(err) || !strings.Contains(err.Error(), "is not a commit sha or a branch name") {
			t.Errorf("hotfix %q: %v", ref, err)
		}
		if calls := e.repo.Calls(); len(calls) != 0 {
			t.Errorf("hotfix %q asked the repository: %q", ref, calls)
		}
	}
	fork := e.repo.AddForkCommit(e.repo.HeadOf("main"), "fix: from a fork")
	for _, tt := range []struct{ ref, want string }{
		{"no-such-branch", `acme/chain has no branch "no-such-branch"`},
		{"0123456789abcdef0123456789abcdef01234567", "acme/chain has no commit 0123456789abcdef0123456789abcdef01234567"},
		{fork, "commit " + fork[:7] + " is not on any branch of acme/chain"},
		{strings.ToUpper(fork[:10]), "is not on any branch of acme/chain"},
	} {
		for _, dry := range []bool{true, false} {
			_, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: tt.ref, Reason: "paged", By: validator, DryRun: dry})
			if !isUserErr(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("hotfix %q (dry run %v): %v; want %q", tt.ref, dry, err, tt.want)
			}
		}
	}
	if n := len(e.repo.AllTags()); n != 1 {
		t.Errorf("%d tags, want the staging tag only", n)
	}
	// Pushed to a branch of the repository, the same commit ships.
	e.repo.AddBranch("fix/fork", fork)
	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: fork, Reason: "paged", By: validator})
	if err != nil || res.Train.Commit != fork {
		t.Fatalf("hotfix of the commit once on a branch: %+v, %v", res.Train, err)
	}
	e.svc.Wait()
	if got := e.repo.Tag("v0.5.0-hotfix.1"); got != fork {
		t.Errorf("hotfix tag on %q, want %s", got, fork)
	}
}

// A hotfix may name a branch (its head ships) or a commit of a branch
// other than the release branch.
func TestUnitHotfixOfABranchAndOfACommitOffTheReleaseBranch(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t, at("2026-12-03 10:00"))
	e.repo.AddTag("v0.5.0-staging.1", e.repo.HeadOf("main"))
	e.repo.AddBranch("release/0.5", e.repo.HeadOf("main"))
	onRelease := e.repo.AddCommit("release/0.5", "fix: one", time.Time{})
	e.repo.AddCommit("release/0.5", "fix: two", time.Time{})

	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: onRelease[:8], Reason: "first", By: validator})
	if err != nil || res.Train.Commit != onRelease {
		t.Fatalf("hotfix of a commit of release/0.5 (not its head): %+v, %v", res.Train, err)
	}
	e.svc.Wait()
	e.repo.AddBranch("hotfix/panic", onRelease) // cut from the last hotfix, so it keeps its fix
	head := e.repo.AddCommit("hotfix/panic", "fix: panic", time.Time{})
	res, err = e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: "hotfix/panic", Reason: "second", By: validator})
	if err != nil || res.Train.Commit != head {
		t.Fatalf("hotfix of a branch: %+v, %v", res.Train, err)
	}
	e.svc.Wait()
	if a, b := e.repo.Tag("v0.5.0-hotfix.1"), e.repo.Tag("v0.5.0-hotfix.2"); a != onRelease || b != head {
		t.Errorf("hotfix tags on %s and %s, want %s and %s", a, b, onRelease, head)
	}
}
