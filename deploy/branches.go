package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// Bounds of BranchContaining's search: branches listed, and branches
// compared with the commit after the release branch.
const (
	maxBranchPages    = 10 // of 100 branches
	maxBranchCompares = 100
)

// Branch returns the commit at the head of branch name. It reads the
// branch ref rather than the branch (go-github v62 leaves GetBranch's
// errors untyped). ErrNotFound: no such branch. ErrRefused: name has an
// empty, "." or ".." part (nothing is sent).
//
// GitHub API docs: https://docs.github.com/rest/git/refs#get-a-reference
// and https://docs.github.com/rest/commits/commits#get-a-commit
func (g *GitHub) Branch(ctx context.Context, name string) (trains.Commit, error) {
	p, err := g.ref(ctx, "heads/"+name)
	if err != nil {
		if errors.Is(err, trains.ErrNotFound) {
			return trains.Commit{}, fmt.Errorf("no branch %s in %s: %w", name, g.repo(), err)
		}
		return trains.Commit{}, err
	}
	return g.Commit(ctx, p.commit)
}

// BranchContaining returns the name of a branch whose history contains
// commit sha. It compares the release branch's head with sha first (sha
// behind or identical: the branch contains it); then lists the branches
// and returns one whose head is sha; then compares the others' heads with
// sha in the order GitHub lists them, each head once, until one contains
// it. Other branches are compared by their heads' shas, not their names,
// which the compare endpoint would need escaped; the release branch by its
// name unless it holds a "/".
//
// ErrNotFound: no branch contains sha, e.g. a commit of a fork, which
// GitHub's commit and compare endpoints still answer. ErrRefused: the
// repository has more branches than it looks through (1000 listed, 100
// heads compared besides the release branch's): name the branch instead.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#get-a-reference,
// https://docs.github.com/rest/commits/commits#compare-two-commits
// and https://docs.github.com/rest/branches/branches#list-branches
func (g *GitHub) BranchContaining(ctx context.Context, sha string) (string, error) {
	contains := func(head string) (bool, error) { return g.Contains(ctx, sha, head) }
	// The release branch is compared by its name when the name has no "/"
	// (the compare endpoint reads an escaped "/" as GitHub sees fit): one
	// request; else by its head's sha, read first.
	releaseHead := g.cfg.Branch
	if strings.Contains(releaseHead, "/") {
		release, err := g.ref(ctx, "heads/"+g.cfg.Branch)
		if err != nil {
			return "", fmt.Errorf("read the release branch %s (TRAINBOT_BRANCH): %w", g.cfg.Branch, withoutNotFound(err))
		}
		releaseHead = release.commit
	}
	in, err := contains(releaseHead)
	if errors.Is(err, trains.ErrNotFound) && releaseHead == g.cfg.Branch {
		// sha is known (it was read before), so the branch may be missing:
		// say which, as reading it does.
		if _, rerr := g.ref(ctx, "heads/"+g.cfg.Branch); rerr != nil {
			return "", fmt.Errorf("read the release branch %s (TRAINBOT_BRANCH): %w", g.cfg.Branch, withoutNotFound(rerr))
		}
	}
	if err != nil {
		return "", err
	} else if in {
		return g.cfg.Branch, nil
	}

	type branch struct{ name, head string }
	var others []branch
	opts := &github.BranchListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	listed := false
	for range maxBranchPages {
		cctx, cancel := g.call(ctx)
		bs, resp, err := g.c.Repositories.ListBranches(cctx, g.owner, g.name, opts)
		cancel()
		if err != nil {
			return "", g.explain("list the branches", readContents, err)
		}
		for _, b := range bs {
			switch {
			case b.GetCommit().GetSHA() == sha:
				return b.GetName(), nil
			case b.GetName() == g.cfg.Branch:
				releaseHead = b.GetCommit().GetSHA() // compared already
			default:
				others = append(others, branch{b.GetName(), b.GetCommit().GetSHA()})
			}
		}
		if resp.NextPage == 0 {
			listed = true
			break
		}
		opts.Page = resp.NextPage
	}
	compared := map[string]bool{releaseHead: true}
	for _, b := range others {
		if compared[b.head] {
			continue
		}
		if len(compared) > maxBranchCompares {
			listed = false // not looked through
			break
		}
		compared[b.head] = true
		if in, err := contains(b.head); err != nil {
			return "", err
		} else if in {
			return b.name, nil
		}
	}
	if !listed {
		return "", fmt.Errorf("commit %s is not on %s nor on the first %d other branches of %s; there are too many to look through: hotfix by branch name instead: %w",
			trains.ShortSHA(sha), g.cfg.Branch, len(compared)-1, g.repo(), trains.ErrRefused)
	}
	return "", fmt.Errorf("no branch of %s contains commit %s: %w", g.repo(), trains.ShortSHA(sha), trains.ErrNotFound)
}

// withoutNotFound keeps err's message but no longer matches
// trains.ErrNotFound: a missing release branch is a setting to fix, not
// a commit on no branch.
func withoutNotFound(err error) error {
	if errors.Is(err, trains.ErrNotFound) {
		return errors.New(err.Error())
	}
	return err
}
