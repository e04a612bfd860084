package deploy

import (
	"errors"
	"testing"
	"time"

	"github.com/trainbot/trainbot/trains"
)

func TestLocalBranches(t *testing.T) {
	repo := newGitRepo(t)
	c1 := repo.commit("feat: one", start.Add(-3*time.Hour))
	repo.git("checkout", "-q", "-b", "fix/panic")
	c2 := repo.commit("fix: panic", start.Add(-2*time.Hour))
	repo.git("checkout", "-q", "--orphan", "other")
	c3 := repo.commit("an unrelated root", start.Add(-time.Hour))
	repo.git("checkout", "-q", "main")
	repo.git("update-ref", "refs/fork/x", c3) // reachable from a ref, not a branch
	repo.git("branch", "-D", "other")
	l := NewLocal(repo.dir, "main", "", nil)
	ctx := t.Context()

	if c, err := l.Branch(ctx, "fix/panic"); err != nil || c.SHA != c2 {
		t.Errorf("Branch(fix/panic) = %+v, %v", c, err)
	}
	if _, err := l.Branch(ctx, "nope"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Branch(nope) = %v", err)
	}
	for _, bad := range []string{"-x", "--upload-pack=x"} {
		if _, err := l.Branch(ctx, bad); err == nil || errors.Is(err, trains.ErrNotFound) {
			t.Errorf("Branch(%q) = %v, want refused", bad, err)
		}
	}
	for _, tt := range []struct{ sha, want string }{{c1, "main"}, {c1[:7], "main"}, {c2, "fix/panic"}} {
		if b, err := l.BranchContaining(ctx, tt.sha); err != nil || b != tt.want {
			t.Errorf("BranchContaining(%s) = %q, %v; want %s", tt.sha[:7], b, err, tt.want)
		}
	}
	if _, err := l.BranchContaining(ctx, c3); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("a commit on no branch: %v", err)
	}
	if _, err := l.BranchContaining(ctx, "--all"); err == nil || errors.Is(err, trains.ErrNotFound) {
		t.Errorf("BranchContaining(--all) = %v, want refused", err)
	}
}
