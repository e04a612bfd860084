package githubfake

import (
	"container/heap"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

type commit struct {
	sha     string
	message string
	author  string
	date    time.Time
	parents []string
	gen     int // 1 + the highest generation of its parents: a child's is above its parents'
}

type tagObject struct {
	sha     string
	tag     string
	message string
	object  string
	objType string
	tagger  string
	email   string
	date    time.Time
}

// Tag is a tag as the fake holds it.
type Tag struct {
	Name string
	// Commit is the commit the tag points at, through its tag object.
	Commit string
	// Annotated reports whether the ref points at a tag object.
	Annotated bool
	// Message and Date are the tag object's; empty for a lightweight tag.
	Message string
	Date    time.Time
	// Tagger is the tag object's tagger name, e.g. "trainbot[bot]".
	Tagger string
}

func (f *Fake) newSHA(parts ...string) string {
	f.seq++
	h := sha1.New()
	fmt.Fprintf(h, "%d\x00%s", f.seq, strings.Join(parts, "\x00"))
	return hex.EncodeToString(h.Sum(nil))
}

// AddCommit adds a commit on top of branch, creating the branch from the
// repository's first commit when it does not exist (AddOrphanCommit makes
// one with no parent), and returns its sha. A zero date means the clock's
// now.
func (f *Fake) AddCommit(branch, message string, date time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if date.IsZero() {
		date = f.now()
	}
	var parents []string
	if head, ok := f.branches[branch]; ok {
		parents = []string{head}
	} else if f.root != "" {
		parents = []string{f.root} // a new branch starts from the first commit
	}
	sha := f.addCommitLocked(branch, message, date, parents)
	if f.root == "" {
		f.root = sha
	}
	return sha
}

// AddOrphanCommit adds a commit with no parent on a new branch, as an
// orphan branch (gh-pages) begins: its history shares nothing with the
// others, and GitHub compares it with them as "No common ancestor".
func (f *Fake) AddOrphanCommit(branch, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addCommitLocked(branch, message, f.now(), nil)
}

func (f *Fake) addCommitLocked(branch, message string, date time.Time, parents []string) string {
	c := &commit{message: message, author: "octocat", date: date.UTC().Truncate(time.Second), parents: parents, gen: f.generation(parents)}
	c.sha = f.newSHA(append(parents, message, date.String())...)
	f.commits[c.sha] = c
	f.branches[branch] = c.sha
	f.refsGen++
	return c.sha
}

// AddCommits adds n commits to branch, an hour apart ending now, and
// returns their shas, oldest first.
func (f *Fake) AddCommits(branch string, n int) []string {
	shas := make([]string, n)
	now := f.clock.Now()
	for i := range n {
		shas[i] = f.AddCommit(branch, fmt.Sprintf("change %d", i+1), now.Add(time.Duration(i-n+1)*time.Hour))
	}
	return shas
}

// AddBranch makes branch point at sha (a new branch, or a moved one).
func (f *Fake) AddBranch(branch, sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustCommit(sha)
	f.branches[branch] = sha
	f.refsGen++
}

// Head returns the sha branch points at, "" when there is no such branch.
func (f *Fake) Head(branch string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.branches[branch]
}

// generation is the generation of a commit with these parents.
func (f *Fake) generation(parents []string) int {
	g := 0
	for _, p := range parents {
		if c, ok := f.commits[p]; ok {
			g = max(g, c.gen)
		}
	}
	return g + 1
}

func (f *Fake) mustCommit(sha string) {
	if _, ok := f.commits[sha]; !ok {
		f.t.Fatalf("githubfake: no commit %s", sha)
	}
}

// AddTag makes a lightweight tag name on commit sha. It starts no
// publish run: that happens only for tags made through the API.
func (f *Fake) AddTag(name, sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustCommit(sha)
	f.refs["refs/tags/"+name] = sha
	f.refsGen++
}

// AddAnnotatedTag makes an annotated tag name on commit sha, made at date
// (zero: now). It starts no publish run.
func (f *Fake) AddAnnotatedTag(name, sha, message string, date time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustCommit(sha)
	if date.IsZero() {
		date = f.now()
	}
	o := &tagObject{tag: name, message: message, object: sha, objType: "commit", tagger: "trainbot", email: "trainbot@example.com", date: date.UTC().Truncate(time.Second)}
	o.sha = f.newSHA("tag", name, sha)
	f.tagObjects[o.sha] = o
	f.refs["refs/tags/"+name] = o.sha
	f.refsGen++
}

// Tags returns every tag, by name.
func (f *Fake) Tags() []Tag {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Tag
	for ref, sha := range f.refs {
		name, ok := strings.CutPrefix(ref, "refs/tags/")
		if !ok {
			continue
		}
		out = append(out, f.tag(name, sha))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Tag returns the tag called name.
func (f *Fake) Tag(name string) (Tag, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sha, ok := f.refs["refs/tags/"+name]
	if !ok {
		return Tag{}, false
	}
	return f.tag(name, sha), true
}

func (f *Fake) tag(name, sha string) Tag {
	t := Tag{Name: name, Commit: sha}
	if o, ok := f.tagObjects[sha]; ok {
		t.Annotated, t.Message, t.Date, t.Tagger = true, o.message, o.date, o.tagger
		t.Commit = f.peel(sha)
	}
	return t
}

// peel follows tag objects to the commit.
func (f *Fake) peel(sha string) string {
	for range 10 {
		o, ok := f.tagObjects[sha]
		if !ok {
			return sha
		}
		sha = o.object
	}
	return sha
}

// resolve finds the commit a ref names: a sha or unique sha prefix of 7
// or more, a branch, a tag, heads/<b>, tags/<t>, refs/….
func (f *Fake) resolve(ref string) (string, bool) {
	ref = strings.TrimPrefix(ref, "refs/")
	if b, ok := strings.CutPrefix(ref, "heads/"); ok {
		sha, ok := f.branches[b]
		return sha, ok
	}
	if t, ok := strings.CutPrefix(ref, "tags/"); ok {
		sha, ok := f.refs["refs/tags/"+t]
		return f.peel(sha), ok
	}
	if sha, ok := f.branches[ref]; ok {
		return sha, true
	}
	if sha, ok := f.refs["refs/tags/"+ref]; ok {
		return f.peel(sha), true
	}
	if _, ok := f.commits[ref]; ok {
		return ref, true
	}
	if len(ref) >= 7 {
		found := ""
		for sha := range f.commits {
			if strings.HasPrefix(sha, ref) {
				if found != "" {
					return "", false
				}
				found = sha
			}
		}
		return found, found != ""
	}
	return "", false
}

// --- JSON shapes ---

type jsonObject struct {
	Type string `json:"type"`
	SHA  string `json:"sha"`
	URL  string `json:"url"`
}

type jsonRef struct {
	Ref    string     `json:"ref"`
	NodeID string     `json:"node_id"`
	URL    string     `json:"url"`
	Object jsonObject `json:"object"`
}

type jsonPerson struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (f *Fake) refJSON(ex *exchange, ref, sha string) jsonRef {
	typ, kind := "commit", "commits"
	if _, ok := f.tagObjects[sha]; ok {
		typ, kind = "tag", "tags"
	}
	return jsonRef{
		Ref:    ref,
		NodeID: "REF_" + sha[:10],
		URL:    f.apiURL(ex, "git/"+ref),
		Object: jsonObject{Type: typ, SHA: sha, URL: f.apiURL(ex, "git/"+kind+"/"+sha)},
	}
}

func (f *Fake) tagObjectJSON(ex *exchange, o *tagObject) map[string]any {
	return map[string]any{
		"node_id": "TAG_" + o.sha[:10],
		"sha":     o.sha,
		"url":     f.apiURL(ex, "git/tags/"+o.sha),
		"tag":     o.tag,
		"message": o.message,
		"tagger":  jsonPerson{Name: o.tagger, Email: o.email, Date: o.date.Format(time.RFC3339)},
		"object":  jsonObject{Type: o.objType, SHA: o.object, URL: f.apiURL(ex, "git/commits/"+o.object)},
		"verification": map[string]any{
			"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil,
		},
	}
}

func (f *Fake) commitJSON(ex *exchange, c *commit) map[string]any {
	person := jsonPerson{Name: c.author, Email: c.author + "@example.com", Date: c.date.Format(time.RFC3339)}
	parents := make([]map[string]string, 0, len(c.parents))
	for _, p := range c.parents {
		parents = append(parents, map[string]string{"sha": p, "url": f.apiURL(ex, "commits/"+p)})
	}
	return map[string]any{
		"sha":          c.sha,
		"node_id":      "C_" + c.sha[:10],
		"url":          f.apiURL(ex, "commits/"+c.sha),
		"html_url":     f.htmlURL("commit/" + c.sha),
		"comments_url": f.apiURL(ex, "commits/"+c.sha+"/comments"),
		"commit": map[string]any{
			"url":           f.apiURL(ex, "git/commits/"+c.sha),
			"message":       c.message,
			"author":        person,
			"committer":     person,
			"tree":          map[string]string{"sha": c.sha, "url": f.apiURL(ex, "git/trees/"+c.sha)},
			"comment_count": 0,
		},
		"author":    userJSON(c.author),
		"committer": userJSON("web-flow"),
		"parents":   parents,
	}
}

// --- handlers ---

// getMatchingRefs answers GET git/matching-refs/{prefix}: every ref
// starting with refs/{prefix}, by name, in one page (or pages, after
// SetRefsPageSize). Answers are remembered until a ref changes, so that
// listing thousands of tags again costs the test server little.
//
// GitHub API docs: https://docs.github.com/rest/git/refs#list-matching-references
func (f *Fake) getMatchingRefs(ex *exchange, prefix string) {
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%d", ex.prefix, prefix, ex.r.URL.RawQuery, f.refsPage)
	if c, ok := f.refsCache[key]; ok && c.gen == f.refsGen {
		if c.link != "" {
			ex.w.Header().Set("Link", c.link)
		}
		writeBody(ex, http.StatusOK, c.body, c.etag)
		return
	}
	var names []string
	for ref := range f.refs {
		if strings.HasPrefix(ref, "refs/"+prefix) {
			names = append(names, ref)
		}
	}
	for b := range f.branches {
		if ref := "refs/heads/" + b; strings.HasPrefix(ref, "refs/"+prefix) {
			names = append(names, ref)
		}
	}
	sort.Strings(names)
	if f.refsPage > 0 {
		names = paginate(ex, names, f.refsPage)
	}
	out := make([]jsonRef, 0, len(names))
	for _, ref := range names {
		sha, ok := f.refs[ref]
		if !ok {
			sha = f.branches[strings.TrimPrefix(ref, "refs/heads/")]
		}
		out = append(out, f.refJSON(ex, ref, sha))
	}
	body, err := json.Marshal(out)
	if err != nil {
		http.Error(ex.w, err.Error(), http.StatusInternalServerError)
		return
	}
	if f.refsCache == nil {
		f.refsCache = map[string]cachedAnswer{}
	}
	c := cachedAnswer{gen: f.refsGen, body: body, etag: etagOf(body), link: ex.w.Header().Get("Link")}
	f.refsCache[key] = c
	writeBody(ex, http.StatusOK, c.body, c.etag)
}

// cachedAnswer is an answer of the test server kept while its refs are
// unchanged (gen).
type cachedAnswer struct {
	gen        int
	body       []byte
	etag, link string
}

// getRef answers GET git/ref/{ref}; ref is decoded once, as the route is.
func (f *Fake) getRef(ex *exchange, ref string) {
	full := "refs/" + ref
	if b, ok := strings.CutPrefix(ref, "heads/"); ok {
		if sha, ok := f.branches[b]; ok {
			writeJSON(ex, http.StatusOK, f.refJSON(ex, full, sha))
			return
		}
	} else if sha, ok := f.refs[full]; ok {
		writeJSON(ex, http.StatusOK, f.refJSON(ex, full, sha))
		return
	}
	writeError(ex.w, http.StatusNotFound, "Not Found")
}

func (f *Fake) createRef(ex *exchange) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !decode(ex, &req) {
		return
	}
	if !strings.HasPrefix(req.Ref, "refs/") || strings.Count(req.Ref, "/") < 2 {
		writeError(ex.w, http.StatusUnprocessableEntity, "Reference name must start with 'refs/' and have at least two slashes.")
		return
	}
	_, isCommit := f.commits[req.SHA]
	_, isTag := f.tagObjects[req.SHA]
	if !isCommit && !isTag {
		writeError(ex.w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if b, ok := strings.CutPrefix(req.Ref, "refs/heads/"); ok {
		if _, exists := f.branches[b]; exists {
			writeError(ex.w, http.StatusUnprocessableEntity, "Reference already exists")
			return
		}
		f.branches[b] = req.SHA
		f.refsGen++
		writeJSON(ex, http.StatusCreated, f.refJSON(ex, req.Ref, req.SHA))
		return
	}
	if _, exists := f.refs[req.Ref]; exists {
		writeError(ex.w, http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	f.refs[req.Ref] = req.SHA
	f.refsGen++
	if name, ok := strings.CutPrefix(req.Ref, "refs/tags/"); ok && f.publish != "" {
		f.startRun(f.publish, name, f.peel(req.SHA), "push")
	}
	writeJSON(ex, http.StatusCreated, f.refJSON(ex, req.Ref, req.SHA))
}

func (f *Fake) createTagObject(ex *exchange) {
	var req struct {
		Tag     string      `json:"tag"`
		Message string      `json:"message"`
		Object  string      `json:"object"`
		Type    string      `json:"type"`
		Tagger  *jsonPerson `json:"tagger"`
	}
	if !decode(ex, &req) {
		return
	}
	if req.Tag == "" || req.Object == "" || req.Type == "" {
		writeError(ex.w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"tag\", \"message\", \"object\" and \"type\" are required.")
		return
	}
	if _, ok := f.commits[req.Object]; !ok || req.Type != "commit" {
		if _, ok := f.tagObjects[req.Object]; !ok {
			writeError(ex.w, http.StatusUnprocessableEntity, "Object does not exist")
			return
		}
	}
	o := &tagObject{tag: req.Tag, message: req.Message, object: req.Object, objType: req.Type, tagger: "trainbot[bot]", email: "trainbot@users.noreply.github.com", date: f.now()}
	if f.app != nil { // GitHub tags as the app's bot when no tagger is given
		o.tagger, o.email = botLogin(f.app), botEmail(f.app)
	}
	if req.Tagger != nil {
		o.tagger, o.email = req.Tagger.Name, req.Tagger.Email
		if d, err := time.Parse(time.RFC3339, req.Tagger.Date); err == nil {
			o.date = d.UTC()
		}
	}
	o.sha = f.newSHA("tag", req.Tag, req.Object, req.Message)
	f.tagObjects[o.sha] = o
	writeJSON(ex, http.StatusCreated, f.tagObjectJSON(ex, o))
}

func (f *Fake) getTagObject(ex *exchange, sha string) {
	o, ok := f.tagObjects[sha]
	if !ok {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(ex, http.StatusOK, f.tagObjectJSON(ex, o))
}

func (f *Fake) listTags(ex *exchange) {
	var names []string
	for ref := range f.refs {
		if name, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			names = append(names, name)
		}
	}
	// GitHub lists newest-looking names first; reverse order is close enough.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	names = paginate(ex, names, 30)
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		sha := f.peel(f.refs["refs/tags/"+n])
		out = append(out, map[string]any{
			"name":        n,
			"commit":      map[string]string{"sha": sha, "url": f.apiURL(ex, "commits/"+sha)},
			"zipball_url": f.apiURL(ex, "zipball/refs/tags/"+n),
			"tarball_url": f.apiURL(ex, "tarball/refs/tags/"+n),
			"node_id":     "TAGREF_" + n,
		})
	}
	writeJSON(ex, http.StatusOK, out)
}

func (f *Fake) getBranch(ex *exchange, name string) {
	sha, ok := f.branches[name]
	if !ok {
		writeError(ex.w, http.StatusNotFound, "Branch not found")
		return
	}
	self := f.apiURL(ex, "branches/"+url.PathEscape(name))
	protected := f.protectedLocked(name)
	// What a token without admin rights sees of the protection: whether
	// it is on and its status checks (none here).
	protection := map[string]any{"enabled": protected, "required_status_checks": map[string]any{
		"enforcement_level": "off", "contexts": []string{}, "checks": []any{}}}
	writeJSON(ex, http.StatusOK, map[string]any{
		"name":           name,
		"commit":         f.commitJSON(ex, f.commits[sha]),
		"_links":         map[string]string{"self": self, "html": f.htmlURL("tree/" + name)},
		"protected":      protected,
		"protection":     protection,
		"protection_url": self + "/protection",
	})
}

func (f *Fake) getCommit(ex *exchange, ref string) {
	sha, ok := f.resolve(ref)
	if !ok {
		writeError(ex.w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
		return
	}
	writeJSON(ex, http.StatusOK, f.commitJSON(ex, f.commits[sha]))
}

// between walks back from base and head together, newest generation
// first, and stops once every commit still queued is reachable from both:
// the cost is the size of the difference, not of the history. It returns
// the commits only head reaches and those only base reaches, oldest
// first, and the merge base (nil when the histories are unrelated).
func (f *Fake) between(base, head string) (ahead, behind []*commit, mergeBase *commit) {
	const fromHead, fromBase = 1, 2
	flags := map[string]uint8{}
	q := &genQueue{}
	open := 0 // queued commits not yet reached from both sides
	push := func(sha string, fl uint8) {
		c, ok := f.commits[sha]
		if !ok {
			return
		}
		old := flags[sha]
		if old|fl == old {
			return
		}
		flags[sha] = old | fl
		if old == 0 {
			heap.Push(q, c)
			if old|fl != fromHead|fromBase {
				open++
			}
		} else if old|fl == fromHead|fromBase {
			open-- // queued, now reached from both
		}
	}
	push(head, fromHead)
	push(base, fromBase)
	for q.Len() > 0 && open > 0 {
		c := heap.Pop(q).(*commit)
		fl := flags[c.sha]
		switch fl {
		case fromHead:
			ahead = append(ahead, c)
			open--
		case fromBase:
			behind = append(behind, c)
			open--
		default:
			if mergeBase == nil {
				mergeBase = c
			}
		}
		for _, p := range c.parents {
			push(p, fl)
		}
	}
	for q.Len() > 0 && mergeBase == nil {
		if c := heap.Pop(q).(*commit); flags[c.sha] == fromHead|fromBase {
			mergeBase = c
		}
	}
	chrono := func(s []*commit) {
		sort.Slice(s, func(i, j int) bool {
			if !s[i].date.Equal(s[j].date) {
				return s[i].date.Before(s[j].date)
			}
			return s[i].gen < s[j].gen // a parent before its child when dates tie
		})
	}
	chrono(ahead)
	chrono(behind)
	return ahead, behind, mergeBase
}

// genQueue is a max-heap of commits by generation.
type genQueue []*commit

func (q genQueue) Len() int           { return len(q) }
func (q genQueue) Less(i, j int) bool { return q[i].gen > q[j].gen }
func (q genQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *genQueue) Push(x any)        { *q = append(*q, x.(*commit)) }
func (q *genQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// compare answers GET compare/{base}...{head}. Without per_page or page
// the commits are the newest 250, oldest first (the last is the head);
// with either, pages of per_page (default and at most 250) run oldest
// first, with Link headers (GitHub API docs, "Working with large
// comparisons").
//
// GitHub API docs: https://docs.github.com/rest/commits/commits#compare-two-commits
func (f *Fake) compare(ex *exchange, spec string) {
	baseRef, headRef, ok := strings.Cut(spec, "...")
	if !ok {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return
	}
	base, ok1 := f.resolve(baseRef)
	head, ok2 := f.resolve(headRef)
	if !ok1 || !ok2 {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return
	}
	ahead, behind, mergeBase := f.between(base, head)
	if mergeBase == nil {
		// Two unrelated histories (an orphan branch such as gh-pages, a
		// branch a test began with AddCommit): GitHub has nothing to compare.
		writeError(ex.w, http.StatusNotFound, "No common ancestor between "+baseRef+" and "+headRef+".")
		return
	}
	status := "diverged"
	switch {
	case base == head:
		status = "identical"
	case len(behind) == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	total := len(ahead)
	listed := ahead
	if ex.r.URL.Query().Has("per_page") || ex.r.URL.Query().Has("page") {
		listed = paginate(ex, ahead, 250)
	} else if len(listed) > 250 {
		listed = listed[len(listed)-250:]
	}
	commits := make([]map[string]any, 0, len(listed))
	for _, c := range listed {
		commits = append(commits, f.commitJSON(ex, c))
	}
	out := map[string]any{
		"url":           f.apiURL(ex, "compare/"+spec),
		"diff_url":      f.htmlURL("compare/" + spec + ".diff"),
		"patch_url":     f.htmlURL("compare/" + spec + ".patch"),
		"html_url":      f.htmlURL("compare/" + spec),
		"permalink_url": f.htmlURL("compare/" + base[:7] + "..." + head[:7]),
		"base_commit":   f.commitJSON(ex, f.commits[base]),
		"status":        status,
		"ahead_by":      len(ahead),
		"behind_by":     len(behind),
		"total_commits": total,
		"commits":       commits,
		"files":         []any{},
	}
	out["merge_base_commit"] = f.commitJSON(ex, mergeBase)
	writeJSON(ex, http.StatusOK, out)
}
