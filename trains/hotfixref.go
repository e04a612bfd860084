package trains

import (
	"context"
	"errors"
	"fmt"
)

// hotfixCommit finds the commit a hotfix names (SPEC §6): ref must parse
// as a sha or a branch name (ParseUserRef) before any request is made; a
// branch is read at its head; a sha must be a commit on a branch of the
// released repository — GitHub answers commits of forks too, and those
// must not ship. Refusals are *UserErrors that name the repository and
// say what to do.
func (s *Service) hotfixCommit(ctx context.Context, ref string) (Commit, error) {
	r, err := ParseUserRef(ref)
	if err != nil {
		return Commit{}, userErr("%v", err)
	}
	if r.Kind == BranchRef {
		c, err := s.repo.Branch(ctx, r.Name)
		if errors.Is(err, ErrNotFound) {
			return Commit{}, userErr("%s has no branch %s: give the name of one of its branches, or a commit sha", s.cfg.Repo, quoteShort(r.Name))
		} else if err != nil {
			return Commit{}, fmt.Errorf("read branch %s: %w", r.Name, err)
		}
		return c, nil
	}
	c, err := s.repo.Commit(ctx, r.Name)
	if errors.Is(err, ErrNotFound) {
		return Commit{}, userErr("%s has no commit %s: check the sha, or give a branch name", s.cfg.Repo, r.Name)
	} else if err != nil {
		return Commit{}, fmt.Errorf("look up commit %s: %w", r.Name, err)
	}
	if _, err := s.repo.BranchContaining(ctx, c.SHA); errors.Is(err, ErrNotFound) {
		return Commit{}, userErr("commit %s is not on any branch of %s (a fork's commit, perhaps): a hotfix must be pushed to a branch of %s first; then hotfix that branch or commit",
			ShortSHA(c.SHA), s.cfg.Repo, s.cfg.Repo)
	} else if err != nil {
		return Commit{}, fmt.Errorf("find a branch of %s with commit %s: %w", s.cfg.Repo, ShortSHA(c.SHA), err)
	}
	return c, nil
}
