package trains

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// A hotfix is "an emergency patch off the current staging tag" (RFC, tag
// scheme). This file measures what a hotfix commit ships beyond that: the
// commits it carries that staging does not have yet, and the commits of
// staging it lacks (a commit that does not build on the staging tag takes
// those off staging when it deploys). Either needs --force.

// maxScopeListed is how many of a hotfix's extra commits are kept, newest
// first, for replies and dry runs: enough to see what rides along.
const maxScopeListed = 10

// HotfixScope is what a hotfix commit ships beyond its fix, measured
// against the newest staging tag. Commits that a hotfix made since that
// staging tag already shipped (the newest such hotfix tag, Since) are not
// counted: a second fix on a hotfix branch ships only itself.
type HotfixScope struct {
	// Staging is the staging tag the hotfix is measured against.
	Staging string
	// Since is the newest hotfix tag on the staging tag's line made since
	// it, whose commits count as shipped too; empty when there is none or
	// it was not needed.
	Since string
	// Extra are the newest of the extra commits, newest first (at most
	// ten); Extras counts them all. The hotfix commit itself is never
	// extra.
	Extra  []Commit
	Extras int
	// Behind counts the commits of the staging tag that the hotfix commit
	// lacks: it does not build on the staging tag.
	Behind int
	// Lacks is the newest hotfix tag since the staging tag when the hotfix
	// commit does not build on it: deploying it takes that hotfix's fix
	// (and every earlier one on it) out of production again. Empty when
	// there is no such hotfix or the commit builds on it.
	Lacks string
	// CompareURL is the compare view of the staging tag and the hotfix
	// commit, empty when there is none.
	CompareURL string
}

// Clean reports whether the hotfix ships its fix and nothing else: no
// extra commit, and built on the staging tag.
func (sc HotfixScope) Clean() bool { return sc.Extras == 0 && sc.Behind == 0 && sc.Lacks == "" }

// Beyond names what the extra commits are not in yet: the staging tag, or
// it and the newest hotfix since.
func (sc HotfixScope) Beyond() string {
	if sc.Since == "" {
		return sc.Staging
	}
	return sc.Staging + " or " + sc.Since
}

// Base is the tag a hotfix branch should be cut from to ship its fix and
// nothing else: the newest hotfix since the staging tag when the scope
// knows of one, else the staging tag.
func (sc HotfixScope) Base() string {
	switch {
	case sc.Lacks != "":
		return sc.Lacks
	case sc.Since != "":
		return sc.Since
	}
	return sc.Staging
}

// Summary says in one line, for the audit log, what the hotfix ships
// beyond the fix: "ships 3 commit(s) not yet in v0.5.0-staging.1 besides
// the fix; lacks 2 commit(s) of v0.5.0-staging.1; lacks the fix of
// v0.5.0-hotfix.1". Empty when Clean.
func (sc HotfixScope) Summary() string {
	return scopeSummary(sc.Extras, sc.Beyond(), sc.Behind, sc.Staging, sc.Lacks)
}

// scopeSummary is HotfixScope.Summary of extras commits not yet in beyond,
// behind commits of staging lacking, and the hotfix tag lacks whose fix
// is missing.
func scopeSummary(extras int, beyond string, behind int, staging, lacks string) string {
	var parts []string
	if extras > 0 {
		parts = append(parts, fmt.Sprintf("ships %d commit(s) not yet in %s besides the fix", extras, beyond))
	}
	if behind > 0 {
		parts = append(parts, fmt.Sprintf("lacks %d commit(s) of %s", behind, staging))
	}
	if lacks != "" {
		parts = append(parts, "lacks the fix of "+lacks)
	}
	return strings.Join(parts, "; ")
}

// hotfixScope measures what commit head ships beyond the staging tag and
// the newest hotfix made since it (see HotfixScope). It compares the
// staging tag with head, and, when head carries more than itself, the
// newest hotfix tag since staging with head: a commit is extra when
// neither holds it, and head lacks that hotfix when the second comparison
// is behind. When head is the fix alone on the staging tag, one ancestry
// check says whether it builds on that hotfix. Compare lists at most 250
// commits (the newest); beyond that the count is the smaller comparison's
// total, which is exact when the hotfix tag builds on the staging tag, as
// one cut from it does.
func (s *Service) hotfixScope(ctx context.Context, tags []TrainTag, staging TrainTag, head string) (HotfixScope, Comparison, error) {
	sc := HotfixScope{Staging: staging.String()}
	base, err := s.repo.Compare(ctx, staging.Commit, head)
	if err != nil {
		return sc, base, fmt.Errorf("compare %s with the hotfix commit %s: %w", staging, ShortSHA(head), err)
	}
	sc.Behind, sc.CompareURL = base.Behind, base.URL
	since, ok := newestHotfixSince(tags, staging)
	ok = ok && since.Commit != head
	if base.Total <= 1 { // nothing new, or the fix alone
		if ok {
			in, err := s.repo.Contains(ctx, since.Commit, head)
			if err != nil {
				return sc, base, fmt.Errorf("check whether the hotfix commit %s builds on %s: %w", ShortSHA(head), since, err)
			}
			if !in {
				sc.Lacks = since.String()
			}
		}
		return sc, base, nil
	}
	cmps := []Comparison{base}
	if ok {
		c, err := s.repo.Compare(ctx, since.Commit, head)
		if err != nil {
			return sc, base, fmt.Errorf("compare %s with the hotfix commit %s: %w", since, ShortSHA(head), err)
		}
		sc.Since = since.String()
		if c.Behind > 0 {
			sc.Lacks = since.String()
		}
		cmps = append(cmps, c)
	}
	sc.Extra, sc.Extras = extraCommits(head, cmps)
	return sc, base, nil
}

// newestHotfixSince returns the newest hotfix tag on staging's line made
// since staging (or of unknown date, as MissingHotfixes counts them).
func newestHotfixSince(tags []TrainTag, staging TrainTag) (TrainTag, bool) {
	var best TrainTag
	found := false
	for _, t := range tags {
		if t.Track != Hotfix || t.Line != staging.Line {
			continue
		}
		if !t.Date.IsZero() && !staging.Date.IsZero() && !t.Date.After(staging.Date) {
			continue
		}
		if !found || t.Compare(best.Tag) > 0 {
			best, found = t, true
		}
	}
	return best, found
}

// extraCommits returns the commits every comparison lists (those no base
// holds) other than head, newest first and at most maxScopeListed, and
// how many there are. A comparison that lists fewer commits than it
// counts (past 250) cannot rule a commit out; then the count is the
// smallest total, head aside.
func extraCommits(head string, cmps []Comparison) ([]Commit, int) {
	complete := func(c Comparison) bool { return len(c.Commits) >= c.Total }
	tight := 0 // the comparison that counts the fewest: list from it
	for i, c := range cmps {
		if c.Total < cmps[tight].Total {
			tight = i
		}
	}
	allComplete := true
	for _, c := range cmps {
		allComplete = allComplete && complete(c)
	}
	listed := cmps[tight].Commits
	var out []Commit
	for i := len(listed) - 1; i >= 0; i-- {
		c := listed[i]
		if c.SHA == head {
			continue
		}
		extra := true
		for j, o := range cmps {
			if j != tight && complete(o) && !slices.ContainsFunc(o.Commits, func(x Commit) bool { return x.SHA == c.SHA }) {
				extra = false
				break
			}
		}
		if extra {
			out = append(out, c)
		}
	}
	n := len(out)
	if !allComplete {
		n = max(cmps[tight].Total-1, 0) // head is counted when anything is
	}
	if len(out) > maxScopeListed {
		out = out[:maxScopeListed]
	}
	return out, n
}
