package deploy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/trains"
)

func TestBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	fix := e.fake.AddCommit("fix/panic", "fix: panic", e.clock.Now())

	c, err := e.gh.Branch(ctx, "fix/panic")
	if err != nil || c.SHA != fix || c.Message != "fix: panic" {
		t.Errorf("Branch(fix/panic) = %+v, %v", c, err)
	}
	if n := e.fake.Count("GET", "git/ref/heads/fix/panic"); n != 1 {
		t.Errorf("%d reads of the branch ref, want 1", n)
	}
	_, err = e.gh.Branch(ctx, "nope")
	if !errors.Is(err, trains.ErrNotFound) || !strings.Contains(err.Error(), "no branch nope in acme/chain") {
		t.Errorf("Branch(nope) = %v", err)
	}
	// A branch named like a sha is read as a branch, not a commit.
	if _, err := e.gh.Branch(ctx, fix[:7]); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Branch(<a sha>) = %v", err)
	}
	e.fake.ResetRequests()
	for _, bad := range []string{"..", "../../../victim/private/git/ref/heads/main", "a//b", "main/."} {
		if _, err := e.gh.Branch(ctx, bad); !errors.Is(err, trains.ErrRefused) {
			t.Errorf("Branch(%q) = %v, want refused", bad, err)
		}
	}
	if reqs := e.fake.Requests(); len(reqs) != 0 {
		t.Errorf("refused branch names were sent: %v", reqs)
	}
}

func TestBranchContaining(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	onMain := e.fake.AddCommits("main", 3)
	rel := e.fake.AddCommit("release/1", "on release", e.clock.Now()) // a branch of its own
	relTop := e.fake.AddCommit("release/1", "release top", e.clock.Now())
	hotHead := e.fake.AddCommit("zz-hot", "hot head", e.clock.Now())
	fork := e.fake.AddForkCommit(onMain[2], "fix from a fork")

	for _, tt := range []struct {
		name, sha, want string
		compares        int // compare requests made
	}{
		{"on the release branch", onMain[0], "main", 1},
		{"the release branch's head", onMain[2], "main", 1}, // compared by name: no read of its ref
		{"on another branch", rel, "release/1", 2},
		{"another branch's head", relTop, "release/1", 1},
		{"a head listed last", hotHead, "zz-hot", 1},
	} {
		e.fake.ResetRequests()
		got, err := e.gh.BranchContaining(ctx, tt.sha)
		if err != nil || got != tt.want {
			t.Errorf("%s: BranchContaining = %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if n := e.fake.Count("GET", "compare/"); n != tt.compares {
			t.Errorf("%s: %d compares, want %d", tt.name, n, tt.compares)
		}
		if n := e.fake.Count("GET", "git/ref/heads/main"); n != 0 {
			t.Errorf("%s: the release branch's ref read %d times: it is compared by name", tt.name, n)
		}
	}

	e.fake.ResetRequests()
	_, err := e.gh.BranchContaining(ctx, fork)
	if !errors.Is(err, trains.ErrNotFound) || !strings.Contains(err.Error(), "no branch of acme/chain contains commit "+fork[:7]) {
		t.Errorf("a fork's commit: %v", err)
	}
	if n, b := e.fake.Count("GET", "compare/"), e.fake.Count("GET", "branches"); n != 3 || b != 1 {
		t.Errorf("a fork's commit: %d compares and %d branch lists, want 3 (main and each other branch) and 1", n, b)
	}
	for _, r := range e.fake.Requests() {
		if r.Route == "branches" && !strings.Contains(r.Query, "per_page=100") {
			t.Errorf("branches listed with %q, want per_page=100", r.Query)
		}
	}
}

func TestBranchContainingPagesAndBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	base := e.fake.Head("main")
	for i := range 150 {
		e.fake.AddCommit(fmt.Sprintf("b%03d", i), "a root of its own", e.clock.Now())
	}
	late := e.fake.AddCommit("b149", "on a branch of the second page", e.clock.Now())
	if got, err := e.gh.BranchContaining(ctx, late); err != nil || got != "b149" {
		t.Errorf("a head on the second page: %q, %v", got, err)
	}
	if n := e.fake.Count("GET", "branches"); n != 2 {
		t.Errorf("%d pages of branches read, want 2", n)
	}

	e.fake.ResetRequests()
	fork := e.fake.AddForkCommit(base, "fork")
	_, err := e.gh.BranchContaining(ctx, fork)
	if !errors.Is(err, trains.ErrRefused) || errors.Is(err, trains.ErrNotFound) || !strings.Contains(err.Error(), "hotfix by branch name instead") {
		t.Errorf("past the bound: %v", err)
	}
	if n := e.fake.Count("GET", "compare/"); n != 1+maxBranchCompares {
		t.Errorf("%d compares past the bound, want %d", n, 1+maxBranchCompares)
	}
}

func TestBranchContainingComparesEachHeadOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.fake.Head("main")
	for i := range 120 {
		e.fake.AddBranch(fmt.Sprintf("copy%03d", i), base)
	}
	fork := e.fake.AddForkCommit(base, "fork")
	if _, err := e.gh.BranchContaining(t.Context(), fork); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("120 branches on main's head: %v, want not found", err)
	}
	if n := e.fake.Count("GET", "compare/"); n != 1 {
		t.Errorf("%d compares, want 1 (main's head, once)", n)
	}
}

func TestBranchContainingNoReleaseBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Branch = "trunk" })
	_, err := e.gh.BranchContaining(t.Context(), e.fake.Head("main"))
	if err == nil || errors.Is(err, trains.ErrNotFound) || !strings.Contains(err.Error(), "TRAINBOT_BRANCH") {
		t.Errorf("no release branch: %v", err)
	}
}

func TestDryRunPassesBranchesThrough(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := DryRun(e.gh, nil)
	head := e.fake.Head("main")
	if c, err := r.Branch(t.Context(), "main"); err != nil || c.SHA != head {
		t.Errorf("Branch = %+v, %v", c, err)
	}
	if b, err := r.BranchContaining(t.Context(), head); err != nil || b != "main" {
		t.Errorf("BranchContaining = %q, %v", b, err)
	}
}

// A release branch whose name holds a "/" is compared by its head's sha,
// read first; a missing release branch is named as a setting to fix.
func TestBranchContainingReleaseBranchNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Branch = "release/2026" })
	ctx := t.Context()
	e.fake.AddBranch("release/2026", e.fake.Head("main"))
	on := e.fake.AddCommit("release/2026", "fix on the release branch", e.clock.Now())
	e.fake.AddCommit("release/2026", "later", e.clock.Now())
	if got, err := e.gh.BranchContaining(ctx, on); err != nil || got != "release/2026" {
		t.Errorf("BranchContaining on release/2026 = %q, %v", got, err)
	}
	if n := e.fake.Count("GET", "git/ref/heads/release/2026"); n != 1 {
		t.Errorf("release/2026's ref read %d times, want 1 (compared by sha)", n)
	}
	for _, r := range e.fake.Requests() {
		if strings.HasPrefix(r.Route, "compare/") && strings.Contains(r.Route, "release") {
			t.Errorf("compared by a name holding a slash: %s", r.Route)
		}
	}

	gone := newEnv(t, func(c *Config) { c.Branch = "trunk" })
	sha := gone.fake.Head("main")
	_, err := gone.gh.BranchContaining(ctx, sha)
	if err == nil || errors.Is(err, trains.ErrNotFound) || !strings.Contains(err.Error(), "read the release branch trunk (TRAINBOT_BRANCH)") {
		t.Errorf("a missing release branch: %v; want it named as the setting, not as a commit on no branch", err)
	}
}

// An orphan branch (gh-pages) shares no history with the others: GitHub
// answers its compares 404 "No common ancestor", which means "not
// contained", not a failure, so a commit on a branch listed after it is
// still found.
func TestBranchContainingPastAnOrphanBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.fake.AddOrphanCommit("aa-gh-pages", "site")
	e.fake.AddBranch("zz-fix", e.fake.Head("main"))
	fix := e.fake.AddCommit("zz-fix", "fix", e.clock.Now())
	e.fake.AddCommit("zz-fix", "later", e.clock.Now())
	if got, err := e.gh.BranchContaining(ctx, fix); err != nil || got != "zz-fix" {
		t.Errorf("BranchContaining past an orphan branch = %q, %v; want zz-fix", got, err)
	}
	pages := e.fake.Head("aa-gh-pages")
	if in, err := e.gh.Contains(ctx, pages, "main"); err != nil || in {
		t.Errorf("Contains(orphan, main) = %v, %v; want false", in, err)
	}
	_, err := e.gh.Compare(ctx, pages, e.fake.Head("main"))
	if !errors.Is(err, trains.ErrRefused) || !strings.Contains(err.Error(), "share no history") {
		t.Errorf("Compare(orphan, main) = %v; want a refusal saying they share no history", err)
	}
}
