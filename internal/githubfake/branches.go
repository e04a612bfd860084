package githubfake

import (
	"net/http"
	"sort"
)

// AddForkCommit adds a commit on top of parent that is in the repository's
// fork network but on no branch of the repository, as a commit pushed to a
// fork is: GET commits/{sha} answers it and compare reads it, as GitHub's
// do, but no branch contains it and the branch list does not show it.
// AddBranch can put it on a branch later. It returns the commit's sha.
func (f *Fake) AddForkCommit(parent, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustCommit(parent)
	date := f.now()
	c := &commit{message: message, author: "forker", date: date, parents: []string{parent}, gen: f.generation([]string{parent})}
	c.sha = f.newSHA(parent, message, date.String(), "fork")
	f.commits[c.sha] = c
	return c.sha
}

// Branches returns every branch name, sorted.
func (f *Fake) Branches() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.branchNames()
}

func (f *Fake) branchNames() []string {
	names := make([]string, 0, len(f.branches))
	for b := range f.branches {
		names = append(names, b)
	}
	sort.Strings(names)
	return names
}

// listBranches answers GET branches: the branches by name, 30 a page
// unless per_page says otherwise (at most 100), with Link headers, each
// {"name","commit":{"sha","url"},"protected"}.
//
// GitHub API docs: https://docs.github.com/rest/branches/branches#list-branches
func (f *Fake) listBranches(ex *exchange) {
	size := 30
	if ex.r.URL.Query().Has("per_page") {
		size = 100
	}
	names := paginate(ex, f.branchNames(), size)
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		sha := f.branches[n]
		out = append(out, map[string]any{
			"name":      n,
			"commit":    map[string]string{"sha": sha, "url": f.apiURL(ex, "commits/"+sha)},
			"protected": n == DefaultBranch,
		})
	}
	writeJSON(ex, http.StatusOK, out)
}
