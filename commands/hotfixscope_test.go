package commands_test

import (
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

// TestHotfixOfMoreThanTheFix: /train hotfix of a commit that carries
// commits not yet in staging lists them and needs --force; a branch cut
// from the staging tag with the fix alone goes through without a word.
func TestHotfixOfMoreThanTheFix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-03 10:00")
	staging := h.GH.Head("main")
	h.GH.AddTag("v0.5.0-staging.1", staging)
	extra := h.GH.AddCommits("main", 8)
	fix := h.GH.AddCommit("main", "fix: panic on empty block", h.Clock.Now())

	got, refused := h.do(t, stranger, "hotfix main fix the panic --dry-run")
	if refused {
		t.Fatalf("dry run refused: %s", got)
	}
	mustContain(t, got, "Dry run", "v0.5.0-hotfix.1", fix[:7],
		"This hotfix also ships 8 commits not yet in staging (v0.5.0-staging.1)",
		extra[7][:7]+" change 8", extra[3][:7]+" change 4", "and 3 more", "needs --force", "Nothing was done")
	if strings.Contains(got, extra[2][:7]) {
		t.Errorf("the dry run lists more than the newest five:\n%s", got)
	}

	got, refused = h.do(t, validator, "hotfix main fix the panic")
	if !refused {
		t.Fatalf("a hotfix of main carrying 8 commits went through: %s", got)
	}
	mustContain(t, got, "This hotfix also ships 8 commits not yet in staging (v0.5.0-staging.1)", extra[7][:7]+" change 8",
		"cut a branch from v0.5.0-staging.1", "cherry-pick the fix", "/train hotfix <that branch> <reason>",
		"/train hotfix main <reason> --force", "Nothing was tagged or dispatched")
	if n := len(h.GH.Tags()); n != 1 {
		t.Errorf("%d tags after a refused hotfix", n)
	}

	got, refused = h.do(t, validator, "hotfix main fix the panic --force")
	if refused {
		t.Fatalf("forced hotfix refused: %s", got)
	}
	mustContain(t, got, "v0.5.0-hotfix.1", "is on its way", "Forced", "8 commits not yet in v0.5.0-staging.1")
	h.Svc.Wait()
	ts, err := h.Svc.History(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	var hf trains.Train
	for _, tr := range ts {
		if tr.Track == trains.Hotfix {
			hf = tr
		}
	}
	if !hf.Forced || hf.Reason != "fix the panic" {
		t.Errorf("forced hotfix recorded as forced %v, reason %q; want forced, the reason without the flag", hf.Forced, hf.Reason)
	}

	// A fix on a branch from the staging tag now lacks what the forced
	// hotfix shipped: deploying it would take that out of production.
	h.GH.AddBranch("hotfix/from-staging", staging)
	h.GH.AddCommit("hotfix/from-staging", "fix: another panic", h.Clock.Now())
	got, refused = h.do(t, validator, "hotfix hotfix/from-staging another panic")
	if !refused {
		t.Fatalf("a hotfix leaving out v0.5.0-hotfix.1 went through: %s", got)
	}
	mustContain(t, got, "It does not build on the last hotfix, v0.5.0-hotfix.1: it lacks the fix of v0.5.0-hotfix.1",
		"cut a branch from v0.5.0-hotfix.1", "--force", "Nothing was tagged or dispatched")

	// The way the refusal shows: a branch from the newest hotfix, the
	// fix on it.
	h.GH.AddBranch("hotfix/empty-block", fix)
	pick := h.GH.AddCommit("hotfix/empty-block", "fix: another panic", h.Clock.Now())
	got, refused = h.do(t, validator, "hotfix hotfix/empty-block another panic, without the rest")
	if refused {
		t.Fatalf("a hotfix off the last hotfix was refused: %s", got)
	}
	mustContain(t, got, "v0.5.0-hotfix.2", pick[:7], "is on its way")
	for _, w := range []string{"Forced", "not yet in", "--force"} {
		if strings.Contains(got, w) {
			t.Errorf("a hotfix in scope is told %q:\n%s", w, got)
		}
	}
	h.Svc.Wait()
}

// TestHotfixThatLacksStagingCommits: a commit that does not build on the
// staging tag would take staging's commits off staging; the reply says so.
func TestHotfixThatLacksStagingCommits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-12-03 10:00")
	old := h.GH.Head("main")
	h.GH.AddCommits("main", 2)
	h.GH.AddTag("v0.5.0-staging.1", h.GH.Head("main"))
	h.GH.AddBranch("hotfix/old", old)
	h.GH.AddCommit("hotfix/old", "fix: panic", h.Clock.Now())

	got, refused := h.do(t, validator, "hotfix hotfix/old fix the panic")
	if !refused {
		t.Fatalf("a hotfix lacking staging's commits went through: %s", got)
	}
	mustContain(t, got, "does not build on v0.5.0-staging.1", "lacks 2 commits", "cut a branch from v0.5.0-staging.1", "--force")
	got, _ = h.do(t, stranger, "hotfix hotfix/old fix the panic --dry-run")
	mustContain(t, got, "does not build on v0.5.0-staging.1", "needs --force")
}
