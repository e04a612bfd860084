package trains_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// A hotfix is an emergency patch off the current staging tag (RFC, tag
// scheme): what it ships beyond the fix must be said, and needs --force.

// hotfixScopeEnv has v0.5.0-staging.1 on main, then 3 commits on main and a
// fix on top of them: hotfixing main ships those 3 with the fix.
func hotfixScopeEnv(t *testing.T) (e *env, staging string, extra []string, fix string) {
	t.Helper()
	e = newEnv(t, at("2026-12-03 10:00"))
	staging = e.gh.Head("main")
	e.gh.AddTag("v0.5.0-staging.1", staging)
	extra = e.gh.AddCommits("main", 3)
	fix = e.gh.AddCommit("main", "fix: panic on empty block", e.clock.Now())
	return e, staging, extra, fix
}

func auditOf(t *testing.T, e *env, action string) []trains.AuditEntry {
	t.Helper()
	log, err := e.store.AuditLog(t.Context(), "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []trains.AuditEntry
	for _, a := range log {
		if a.Action == action {
			out = append(out, a)
		}
	}
	return out
}

func TestHotfixOfMainCarryingExtraCommitsIsRefusedWithoutForce(t *testing.T) {
	t.Parallel()
	e, _, extra, fix := hotfixScopeEnv(t)
	ctx := t.Context()

	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "main", Reason: "panic", By: validator})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != trains.CutExtraCommits {
		t.Fatalf("outcome = %v, want CutExtraCommits", res.Outcome)
	}
	sc := res.Scope
	if sc.Staging != "v0.5.0-staging.1" || sc.Extras != 3 || sc.Behind != 0 || res.Train.Commit != fix {
		t.Errorf("scope = %+v (commit %s), want 3 extra commits over v0.5.0-staging.1", sc, res.Train.Commit)
	}
	var got []string
	for _, c := range sc.Extra {
		got = append(got, c.SHA)
	}
	if want := []string{extra[2], extra[1], extra[0]}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("extra commits listed %v, want newest first %v", got, want)
	}
	if sc.Extra[0].Title() != "change 3" {
		t.Errorf("extra commit title %q", sc.Extra[0].Title())
	}
	if len(e.gh.Tags()) != 1 || len(e.gh.Dispatches()) != 0 || len(e.ann.Posts()) != 0 {
		t.Errorf("a refused hotfix changed something: tags %v, dispatches %v, posts %d", e.gh.Tags(), e.gh.Dispatches(), len(e.ann.Posts()))
	}
	if open, _ := e.store.OpenTrains(ctx); len(open) != 0 {
		t.Errorf("a refused hotfix recorded trains: %+v", open)
	}
	au := auditOf(t, e, "hotfix")
	if len(au) != 1 || !strings.HasPrefix(au[0].Result, "refused: ") || !strings.Contains(au[0].Result, "3 commit(s) not yet in v0.5.0-staging.1") {
		t.Errorf("audit = %+v, want one refusal naming the 3 commits", au)
	}
}

func TestHotfixOfMainCarryingExtraCommitsGoesWithForce(t *testing.T) {
	t.Parallel()
	e, _, _, fix := hotfixScopeEnv(t)
	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: "main", Reason: "panic", By: validator, Force: true})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("forced hotfix = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(res.Train.ID)
	if !tr.Forced || tr.Candidate.Extra != 3 || tr.State != trains.Deployed {
		t.Errorf("train = forced %v, extra %d, %s; want forced, 3 extra, deployed", tr.Forced, tr.Candidate.Extra, tr.State)
	}
	if got := e.tag("v0.5.0-hotfix.1"); got != fix {
		t.Errorf("hotfix tag on %q, want %s", got, fix)
	}
	if n := len(e.gh.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
	p, ok := e.ann.Find("Hotfix v0.5.0-hotfix.1")
	if !ok || !strings.Contains(p.Text(), "Forced") || !strings.Contains(p.Text(), "3 commits not yet in v0.5.0-staging.1") {
		t.Errorf("announcement does not say the hotfix was forced over 3 commits: %q", p.Text())
	}
	au := auditOf(t, e, "hotfix")
	if len(au) != 1 || au[0].Result != "ok" || !strings.Contains(au[0].Detail, "forced") || !strings.Contains(au[0].Detail, "3 commit(s) not yet in v0.5.0-staging.1") {
		t.Errorf("audit = %+v, want the forced hotfix with its 3 extra commits", au)
	}
}

func TestHotfixDryRunListsTheExtraCommits(t *testing.T) {
	t.Parallel()
	e, _, extra, _ := hotfixScopeEnv(t)
	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: "main", Reason: "panic", By: "USTRANGER", DryRun: true})
	if err != nil || res.Outcome != trains.CutPreview {
		t.Fatalf("dry run = %v, %v", res.Outcome, err)
	}
	if res.Scope.Extras != 3 || len(res.Scope.Extra) != 3 || res.Scope.Extra[0].SHA != extra[2] {
		t.Errorf("dry run scope = %+v", res.Scope)
	}
	if len(e.gh.Tags()) != 1 || len(e.gh.Dispatches()) != 0 {
		t.Errorf("a dry run changed the repository")
	}
}

func TestHotfixBranchOffTheStagingTagGoesWithoutFriction(t *testing.T) {
	t.Parallel()
	e, staging, _, _ := hotfixScopeEnv(t)
	ctx := t.Context()
	e.gh.AddBranch("hotfix/panic", staging)
	fix1 := e.gh.AddCommit("hotfix/panic", "fix: panic", e.clock.Now())

	dry, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/panic", Reason: "panic", By: validator, DryRun: true})
	if err != nil || dry.Outcome != trains.CutPreview || !dry.Scope.Clean() {
		t.Fatalf("dry run = %v %+v, %v", dry.Outcome, dry.Scope, err)
	}
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/panic", Reason: "panic", By: validator})
	if err != nil || res.Outcome != trains.CutStarted || res.Train.Forced || !res.Scope.Clean() {
		t.Fatalf("hotfix off the staging tag = %v forced %v %+v, %v", res.Outcome, res.Train.Forced, res.Scope, err)
	}
	e.svc.Wait()
	if got := e.tag("v0.5.0-hotfix.1"); got != fix1 {
		t.Errorf("hotfix.1 on %q, want %s", got, fix1)
	}
	if p, _ := e.ann.Find("Hotfix v0.5.0-hotfix.1"); strings.Contains(p.Text(), "Forced") {
		t.Errorf("a hotfix in scope is announced as forced: %q", p.Text())
	}

	// A second fix on the same branch: the first already shipped in
	// v0.5.0-hotfix.1, so it is not extra either.
	fix2 := e.gh.AddCommit("hotfix/panic", "fix: the other panic", e.clock.Now())
	res, err = e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/panic", Reason: "the other panic", By: validator})
	if err != nil || res.Outcome != trains.CutStarted || !res.Scope.Clean() || res.Scope.Since != "v0.5.0-hotfix.1" {
		t.Fatalf("second hotfix on the branch = %v %+v, %v", res.Outcome, res.Scope, err)
	}
	e.svc.Wait()
	if got := e.tag("v0.5.0-hotfix.2"); got != fix2 {
		t.Errorf("hotfix.2 on %q, want %s", got, fix2)
	}
	if au := auditOf(t, e, "hotfix"); len(au) != 2 || strings.Contains(au[0].Detail+au[1].Detail, "forced") {
		t.Errorf("audit = %+v", au)
	}
}

func TestHotfixThatDoesNotBuildOnTheStagingTag(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	ctx := t.Context()
	old := e.gh.Head("main")
	e.gh.AddCommits("main", 2)
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	// A fix on a branch cut before the staging tag: shipping it takes the
	// 2 commits staging has off staging again.
	e.gh.AddBranch("hotfix/old", old)
	fix := e.gh.AddCommit("hotfix/old", "fix: panic", e.clock.Now())

	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/old", Reason: "panic", By: validator})
	if err != nil || res.Outcome != trains.CutExtraCommits {
		t.Fatalf("diverged hotfix = %v, %v; want CutExtraCommits", res.Outcome, err)
	}
	if res.Scope.Behind != 2 || res.Scope.Extras != 0 || res.Scope.Clean() {
		t.Errorf("scope = %+v, want 2 behind, none extra", res.Scope)
	}
	if len(e.gh.Tags()) != 1 || len(e.gh.Dispatches()) != 0 {
		t.Errorf("a refused hotfix changed the repository")
	}
	if au := auditOf(t, e, "hotfix"); len(au) != 1 || !strings.Contains(au[0].Result, "lacks 2 commit(s) of v0.5.0-staging.1") {
		t.Errorf("audit = %+v", au)
	}

	res, err = e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/old", Reason: "panic", By: validator, Force: true})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("forced diverged hotfix = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(res.Train.ID)
	if !tr.Forced || tr.Candidate.Behind != 2 || e.tag("v0.5.0-hotfix.1") != fix {
		t.Errorf("train = %+v", tr)
	}
	if p, _ := e.ann.Find("Hotfix v0.5.0-hotfix.1"); !strings.Contains(p.Text(), "lacks 2 commits of v0.5.0-staging.1") {
		t.Errorf("announcement does not say what staging loses: %q", p.Text())
	}
}

func TestHotfixScopeCountsBeyondOneComparePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, at("2026-12-03 10:00"))
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	cs := e.gh.AddCommits("main", 300) // GitHub lists 250 in one compare
	res, err := e.svc.Hotfix(t.Context(), trains.HotfixRequest{Ref: "main", Reason: "panic", By: validator, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scope.Extras != 299 || res.Scope.Extra[0].SHA != cs[298] {
		t.Errorf("scope = %d extras, newest listed %s; want 299, %s", res.Scope.Extras, short(res.Scope.Extra[0].SHA), short(cs[298]))
	}
	if n := len(res.Scope.Extra); n == 0 || n > 10 {
		t.Errorf("%d extra commits listed, want the newest few", n)
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// A second hotfix cut from the staging tag, not from the first hotfix,
// would take the first fix out of production when it deploys: it is
// refused like any hotfix that ships more than itself, naming the hotfix it
// lacks, and goes with --force.
func TestHotfixThatLeavesOutThePreviousHotfixIsRefused(t *testing.T) {
	t.Parallel()
	e, staging, _, _ := hotfixScopeEnv(t)
	ctx := t.Context()
	e.gh.AddBranch("hotfix/a", staging)
	e.gh.AddCommit("hotfix/a", "fix: panic", e.clock.Now())
	res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/a", Reason: "panic", By: validator})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("first hotfix = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()

	for _, name := range []string{"hotfix/b", "hotfix/c"} {
		e.gh.AddBranch(name, staging)
	}
	// hotfix/b: the fix alone on the staging tag. hotfix/c: the fix on top
	// of 2 commits of main, so ships extras as well.
	fixB := e.gh.AddCommit("hotfix/b", "fix: the other panic", e.clock.Now())
	e.gh.AddCommits("hotfix/c", 2)
	e.gh.AddCommit("hotfix/c", "fix: the other panic, again", e.clock.Now())
	cases := []struct {
		ref    string
		extras int
	}{{"hotfix/b", 0}, {"hotfix/c", 2}}
	for _, c := range cases {
		res, err := e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: c.ref, Reason: "other panic", By: validator})
		if err != nil || res.Outcome != trains.CutExtraCommits {
			t.Fatalf("%s: hotfix lacking v0.5.0-hotfix.1 = %v %+v, %v; want CutExtraCommits", c.ref, res.Outcome, res.Scope, err)
		}
		if res.Scope.Lacks != "v0.5.0-hotfix.1" || res.Scope.Clean() || res.Scope.Extras != c.extras {
			t.Errorf("%s: scope = %+v, want it to lack v0.5.0-hotfix.1", c.ref, res.Scope)
		}
		if !strings.Contains(res.Scope.Summary(), "lacks the fix of v0.5.0-hotfix.1") {
			t.Errorf("%s: summary = %q", c.ref, res.Scope.Summary())
		}
	}
	if len(e.gh.Dispatches()) != 1 {
		t.Fatalf("a refused hotfix dispatched: %v", e.gh.Dispatches())
	}

	res, err = e.svc.Hotfix(ctx, trains.HotfixRequest{Ref: "hotfix/b", Reason: "other panic", By: validator, Force: true})
	if err != nil || res.Outcome != trains.CutStarted {
		t.Fatalf("forced = %v, %v", res.Outcome, err)
	}
	e.svc.Wait()
	tr := e.train(res.Train.ID)
	if !tr.Forced || tr.Candidate.Lacks != "v0.5.0-hotfix.1" || e.tag("v0.5.0-hotfix.2") != fixB {
		t.Errorf("train = %+v", tr)
	}
	if p, _ := e.ann.Find("Hotfix v0.5.0-hotfix.2"); !strings.Contains(p.Text(), "lacks the fix of v0.5.0-hotfix.1") {
		t.Errorf("announcement does not say which fix leaves production: %q", p.Text())
	}
}
