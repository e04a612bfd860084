package trains_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

func TestHotfixRefusesBadRefsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	for _, ref := range []string{"", "..", "../../../victim/private/commits/main", "%2e%2e", "main/../../user", "-x",
		strings.Repeat("a", 41), "a\x01b", "a?b", "a#b", `a\b`, "a@{1}", "a..b", "refs/heads/main"} {
		for _, dry := range []bool{true, false} {
			e.gh.ResetRequests()
			_, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: ref, Reason: "paged", By: validator, DryRun: dry})
			if !isUserErr(err) || !strings.Contains(err.Error(), "is not a commit sha or a branch name") {
				t.Errorf("hotfix %q (dry run %v): %v", ref, dry, err)
			}
			if reqs := e.gh.Requests(); len(reqs) != 0 {
				t.Errorf("hotfix %q (dry run %v) made GitHub requests: %v", ref, dry, reqs)
			}
		}
	}
}

func TestHotfixRefusesWhatIsNotInTheRepository(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fork := e.gh.AddForkCommit(e.gh.Head("main"), "fix: from a fork")
	for _, tt := range []struct{ ref, want string }{
		{"no-such-branch", `acme/chain has no branch "no-such-branch"`},
		{"0123456789abcdef0123456789abcdef01234567", "acme/chain has no commit 0123456789abcdef0123456789abcdef01234567"},
		{fork, "commit " + fork[:7] + " is not on any branch of acme/chain (a fork's commit, perhaps): a hotfix must be pushed to a branch of acme/chain first"},
		{strings.ToUpper(fork[:10]), "is not on any branch of acme/chain"},
	} {
		for _, dry := range []bool{true, false} {
			_, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: tt.ref, Reason: "paged", By: validator, DryRun: dry})
			if !isUserErr(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("hotfix %q (dry run %v): %v; want %q", tt.ref, dry, err, tt.want)
			}
		}
	}
	for _, r := range e.gh.Requests() {
		if r.Route == "" {
			t.Errorf("a request left the repository: %s %s", r.Method, r.Path)
		}
	}
	if n := len(e.gh.Tags()); n != 1 {
		t.Errorf("%d tags, want the staging tag only", n)
	}
	// Pushed to a branch of the repository, the same commit ships.
	e.gh.AddBranch("fix/fork", fork)
	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: fork, Reason: "paged", By: validator})
	if err != nil || res.Train.Commit != fork {
		t.Fatalf("hotfix of the commit once on a branch: %+v, %v", res.Train, err)
	}
	e.svc.Wait()
	if got := e.tag("v0.5.0-hotfix.1"); got != fork {
		t.Errorf("hotfix tag on %q, want %s", got, fork)
	}
}

func TestHotfixOfABranchAndOfACommitOffTheReleaseBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	e.gh.AddBranch("release/0.5", e.gh.Head("main"))
	onRelease := e.gh.AddCommit("release/0.5", "fix: one", e.clock.Now())
	e.gh.AddCommit("release/0.5", "fix: two", e.clock.Now())

	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: onRelease[:8], Reason: "first", By: validator})
	if err != nil || res.Train.Commit != onRelease {
		t.Fatalf("hotfix of a commit of release/0.5 (not its head): %+v, %v", res.Train, err)
	}
	e.svc.Wait()
	e.gh.AddBranch("hotfix/panic", onRelease) // cut from the last hotfix, so it keeps its fix
	head := e.gh.AddCommit("hotfix/panic", "fix: panic", e.clock.Now())
	res, err = e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: "hotfix/panic", Reason: "second", By: validator})
	if err != nil || res.Train.Commit != head {
		t.Fatalf("hotfix of a branch: %+v, %v", res.Train, err)
	}
	e.svc.Wait()
	if a, b := e.tag("v0.5.0-hotfix.1"), e.tag("v0.5.0-hotfix.2"); a != onRelease || b != head {
		t.Errorf("hotfix tags on %s and %s, want %s and %s", a, b, onRelease, head)
	}
}
