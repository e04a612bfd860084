package githubfake

import (
	"container/heap"
	"fmt"
	"net/http"
	"strconv"
)

// listCommits answers GET commits?sha=<ref>: the commits reachable from
// ref (the default branch when none), newest first, per_page a page (30
// when not given, 100 at most), with a Link to the next page when there
// is one. It walks only as far as the page asked for, so that a history
// of 50,000 commits costs a page, not the history.
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#list-commits
func (f *Fake) listCommits(ex *exchange) {
	q := ex.r.URL.Query()
	ref := q.Get("sha")
	if ref == "" {
		ref = DefaultBranch
	}
	sha, ok := f.resolve(ref)
	if !ok {
		writeError(ex.w, http.StatusNotFound, "No commit found for SHA: "+ref)
		return
	}
	size := 30
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		size = min(n, 100)
	}
	page := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	want := page*size + 1 // one more tells whether a next page exists
	var walked []*commit
	seen := map[string]bool{sha: true}
	h := &byGeneration{f.commits[sha]}
	for h.Len() > 0 && len(walked) < want {
		c := heap.Pop(h).(*commit)
		walked = append(walked, c)
		for _, p := range c.parents {
			if !seen[p] {
				seen[p] = true
				heap.Push(h, f.commits[p])
			}
		}
	}
	lo := min((page-1)*size, len(walked))
	hi := min(lo+size, len(walked))
	if len(walked) > page*size {
		nq := ex.r.URL.Query()
		nq.Set("page", strconv.Itoa(page+1))
		nq.Set("per_page", strconv.Itoa(size))
		ex.w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, ex.prefix, ex.route, nq.Encode()))
	}
	out := make([]map[string]any, 0, hi-lo)
	for _, c := range walked[lo:hi] {
		out = append(out, f.commitJSON(ex, c))
	}
	writeJSON(ex, http.StatusOK, out)
}

// byGeneration is a max-heap of commits by generation, then date: newest
// first, as git log orders a history.
type byGeneration []*commit

func (h byGeneration) Len() int { return len(h) }
func (h byGeneration) Less(i, j int) bool {
	if h[i].gen != h[j].gen {
		return h[i].gen > h[j].gen
	}
	return h[i].date.After(h[j].date)
}
func (h byGeneration) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byGeneration) Push(x any)   { *h = append(*h, x.(*commit)) }
func (h *byGeneration) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
