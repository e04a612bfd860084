package githubfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file holds pull requests: list, create, get and update
// (/repos/{o}/{r}/pulls[/{number}]), with the bodies GitHub documents
// (pull-request-simple in lists, pull-request otherwise).

type pull struct {
	number        int
	title, body   string
	head, base    string // branch names of this repository
	state         string // open or closed
	user          string
	created, upd  time.Time
	closed        time.Time
	maintainerMod bool
}

// Pull is a pull request as the fake holds it.
type Pull struct {
	Number      int
	Title, Body string
	// Head and Base are branch names.
	Head, Base string
	// State is open or closed.
	State string
	URL   string
}

// Pulls returns every pull request, oldest first.
func (f *Fake) Pulls() []Pull {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Pull
	if f.files == nil {
		return nil
	}
	for _, p := range f.files.pulls {
		out = append(out, Pull{Number: p.number, Title: p.title, Body: p.body, Head: p.head, Base: p.base, State: p.state,
			URL: f.htmlURL("pull/" + strconv.Itoa(p.number))})
	}
	return out
}

// ClosePull closes pull request number, as a person closing it would.
func (f *Fake) ClosePull(number int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.filesLocked().pulls {
		if p.number == number {
			p.state, p.closed = "closed", f.now()
			return
		}
	}
	f.t.Fatalf("githubfake: no pull request %d", number)
}

// userJSON is a simple-user.
func (f *Fake) userJSON(login string, id int) map[string]any {
	api := "https://api.github.com/users/" + login
	return map[string]any{
		"login": login, "id": id, "node_id": "U_" + strconv.Itoa(id), "type": "User", "site_admin": false,
		"avatar_url": "https://avatars.githubusercontent.com/u/" + strconv.Itoa(id), "gravatar_id": "",
		"url": api, "html_url": "https://github.com/" + login,
		"followers_url": api + "/followers", "following_url": api + "/following{/other_user}",
		"gists_url": api + "/gists{/gist_id}", "starred_url": api + "/starred{/owner}{/repo}",
		"subscriptions_url": api + "/subscriptions", "organizations_url": api + "/orgs",
		"repos_url": api + "/repos", "events_url": api + "/events{/privacy}", "received_events_url": api + "/received_events",
	}
}

// repoJSON is the repository shape a pull request's head and base carry.
func (f *Fake) repoJSON(ex *exchange) map[string]any {
	api := strings.TrimSuffix(f.apiURL(ex, ""), "/")
	full := f.owner + "/" + f.name
	r := map[string]any{
		"id": 1296269, "node_id": "R_1296269", "name": f.name, "full_name": full, "owner": f.userJSON(f.owner, 1),
		"private": false, "html_url": "https://github.com/" + full, "description": nil, "fork": false, "url": api,
		"clone_url": "https://github.com/" + full + ".git", "git_url": "git://github.com/" + full + ".git",
		"ssh_url": "git@github.com:" + full + ".git", "svn_url": "https://github.com/" + full, "mirror_url": nil,
		"homepage": nil, "language": "Go", "license": nil, "default_branch": DefaultBranch,
		"forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0, "size": 1, "stargazers_count": 0,
		"watchers": 0, "watchers_count": 0, "has_downloads": true, "has_issues": true, "has_projects": true,
		"has_wiki": true, "has_pages": false, "archived": false, "disabled": false,
		"pushed_at": f.now().Format(time.RFC3339), "created_at": "2020-01-01T00:00:00Z", "updated_at": f.now().Format(time.RFC3339),
	}
	for _, u := range []struct{ key, tail string }{
		{"archive_url", "/{archive_format}{/ref}"}, {"assignees_url", "/assignees{/user}"}, {"blobs_url", "/git/blobs{/sha}"},
		{"branches_url", "/branches{/branch}"}, {"collaborators_url", "/collaborators{/collaborator}"},
		{"comments_url", "/comments{/number}"}, {"commits_url", "/commits{/sha}"}, {"compare_url", "/compare/{base}...{head}"},
		{"contents_url", "/contents/{+path}"}, {"contributors_url", "/contributors"}, {"deployments_url", "/deployments"},
		{"downloads_url", "/downloads"}, {"events_url", "/events"}, {"forks_url", "/forks"},
		{"git_commits_url", "/git/commits{/sha}"}, {"git_refs_url", "/git/refs{/sha}"}, {"git_tags_url", "/git/tags{/sha}"},
		{"hooks_url", "/hooks"}, {"issue_comment_url", "/issues/comments{/number}"}, {"issue_events_url", "/issues/events{/number}"},
		{"issues_url", "/issues{/number}"}, {"keys_url", "/keys{/key_id}"}, {"labels_url", "/labels{/name}"},
		{"languages_url", "/languages"}, {"merges_url", "/merges"}, {"milestones_url", "/milestones{/number}"},
		{"notifications_url", "/notifications{?since,all,participating}"}, {"pulls_url", "/pulls{/number}"},
		{"releases_url", "/releases{/id}"}, {"stargazers_url", "/stargazers"}, {"statuses_url", "/statuses/{sha}"},
		{"subscribers_url", "/subscribers"}, {"subscription_url", "/subscription"}, {"tags_url", "/tags"},
		{"teams_url", "/teams"}, {"trees_url", "/git/trees{/sha}"},
	} {
		r[u.key] = api + u.tail
	}
	return r
}

// pullJSON is a pull-request-simple, or with full a pull-request.
func (f *Fake) pullJSON(ex *exchange, p *pull, full bool) map[string]any {
	n := strconv.Itoa(p.number)
	api := f.apiURL(ex, "pulls/"+n)
	html := f.htmlURL("pull/" + n)
	issue := f.apiURL(ex, "issues/"+n)
	headSHA := f.branches[p.head]
	side := func(branch string) map[string]any {
		return map[string]any{"label": f.owner + ":" + branch, "ref": branch, "sha": f.branches[branch],
			"user": f.userJSON(f.owner, 1), "repo": f.repoJSON(ex)}
	}
	var closedAt any
	if !p.closed.IsZero() {
		closedAt = p.closed.Format(time.RFC3339)
	}
	out := map[string]any{
		"id": 1000000 + p.number, "node_id": "PR_" + n, "number": p.number, "state": p.state, "locked": false,
		"title": p.title, "body": p.body, "user": f.userJSON(p.user, 2),
		"url": api, "html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"commits_url": api + "/commits", "review_comments_url": api + "/comments",
		"review_comment_url": f.apiURL(ex, "pulls/comments{/number}"), "comments_url": issue + "/comments",
		"statuses_url": f.apiURL(ex, "statuses/"+headSHA),
		"created_at":   p.created.Format(time.RFC3339), "updated_at": p.upd.Format(time.RFC3339),
		"closed_at": closedAt, "merged_at": nil, "merge_commit_sha": nil,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"labels": []any{}, "milestone": nil, "draft": false, "author_association": "NONE", "auto_merge": nil,
		"head": side(p.head), "base": side(p.base),
		"_links": map[string]any{
			"self": map[string]string{"href": api}, "html": map[string]string{"href": html},
			"issue": map[string]string{"href": issue}, "comments": map[string]string{"href": issue + "/comments"},
			"review_comments": map[string]string{"href": api + "/comments"},
			"review_comment":  map[string]string{"href": f.apiURL(ex, "pulls/comments{/number}")},
			"commits":         map[string]string{"href": api + "/commits"},
			"statuses":        map[string]string{"href": f.apiURL(ex, "statuses/"+headSHA)},
		},
	}
	if full {
		ahead, _, _ := f.between(f.branches[p.base], headSHA)
		out["merged"], out["mergeable"], out["mergeable_state"], out["merged_by"] = false, true, "clean", nil
		out["comments"], out["review_comments"], out["commits"] = 0, 0, len(ahead)
		out["additions"], out["deletions"], out["changed_files"] = 1, 0, 1
		out["maintainer_can_modify"] = p.maintainerMod
	}
	return out
}

// headBranch reads a head filter or field: "owner:branch" or "branch".
// ok is false for another owner's branch.
func (f *Fake) headBranch(head string) (string, bool) {
	if owner, branch, found := strings.Cut(head, ":"); found {
		return branch, owner == f.owner
	}
	return head, true
}

// listPulls answers GET pulls?state=&head=&base=: open ones by default,
// newest first, 30 a page.
//
// GitHub API docs: https://docs.github.com/rest/pulls/pulls#list-pull-requests
func (f *Fake) listPulls(ex *exchange) {
	q := ex.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		writeValidation(ex.w, "Validation Failed", []map[string]any{{"resource": "PullRequest", "field": "state", "code": "invalid"}})
		return
	}
	out := []map[string]any{}
	pulls := f.filesLocked().pulls
	for i := len(pulls) - 1; i >= 0; i-- {
		p := pulls[i]
		if state != "all" && p.state != state {
			continue
		}
		if h := q.Get("head"); h != "" {
			if b, ok := f.headBranch(h); !ok || b != p.head {
				continue
			}
		}
		if b := q.Get("base"); b != "" && b != p.base {
			continue
		}
		out = append(out, f.pullJSON(ex, p, false))
	}
	writeJSON(ex, http.StatusOK, paginate(ex, out, 30))
}

// createPull answers POST pulls {"title","head","base","body"}: 201 with
// the pull request and a Location header; 422 "Validation Failed" when
// head or base is missing or unknown, when there are no commits between
// them, or when an open pull request from head to base exists.
//
// GitHub API docs: https://docs.github.com/rest/pulls/pulls#create-a-pull-request
func (f *Fake) createPull(ex *exchange) {
	var req struct {
		Title, Head, Base, Body string
		MaintainerCanModify     *bool `json:"maintainer_can_modify"`
	}
	if !decode(ex, &req) {
		return
	}
	invalid := func(field string) {
		writeValidation(ex.w, "Validation Failed", []map[string]any{{"resource": "PullRequest", "field": field, "code": "invalid"}})
	}
	custom := func(msg string) {
		writeValidation(ex.w, "Validation Failed", []map[string]any{{"resource": "PullRequest", "code": "custom", "message": msg}})
	}
	head, ok := f.headBranch(req.Head)
	switch {
	case req.Title == "":
		writeValidation(ex.w, "Validation Failed", []map[string]any{{"resource": "PullRequest", "field": "title", "code": "missing_field"}})
		return
	case !ok || f.branches[head] == "":
		invalid("head")
		return
	case f.branches[req.Base] == "":
		invalid("base")
		return
	}
	for _, p := range f.filesLocked().pulls {
		if p.state == "open" && p.head == head && p.base == req.Base {
			custom("A pull request already exists for " + f.owner + ":" + head + ".")
			return
		}
	}
	if ahead, _, _ := f.between(f.branches[req.Base], f.branches[head]); len(ahead) == 0 {
		custom("No commits between " + req.Base + " and " + head)
		return
	}
	fs := f.filesLocked()
	fs.nextPull++
	p := &pull{number: fs.nextPull, title: req.Title, body: req.Body, head: head, base: req.Base, state: "open",
		user: f.callerOr("trainbot[bot]"), created: f.now(), upd: f.now(), maintainerMod: req.MaintainerCanModify != nil && *req.MaintainerCanModify}
	fs.pulls = append(fs.pulls, p)
	ex.w.Header().Set("Location", f.apiURL(ex, "pulls/"+strconv.Itoa(p.number)))
	writeJSON(ex, http.StatusCreated, f.pullJSON(ex, p, true))
}

// findPull returns pull request number n, answering 404 when there is none.
func (f *Fake) findPull(ex *exchange, n string) *pull {
	for _, p := range f.filesLocked().pulls {
		if strconv.Itoa(p.number) == n {
			return p
		}
	}
	writeError(ex.w, http.StatusNotFound, "Not Found")
	return nil
}

// getPull answers GET pulls/{number}.
//
// GitHub API docs: https://docs.github.com/rest/pulls/pulls#get-a-pull-request
func (f *Fake) getPull(ex *exchange, n string) {
	if p := f.findPull(ex, n); p != nil {
		writeJSON(ex, http.StatusOK, f.pullJSON(ex, p, true))
	}
}

// updatePull answers PATCH pulls/{number} {"title","body","state","base"}:
// 200 with the pull request; 422 for a state other than open or closed or
// an unknown base.
//
// GitHub API docs: https://docs.github.com/rest/pulls/pulls#update-a-pull-request
func (f *Fake) updatePull(ex *exchange, n string) {
	p := f.findPull(ex, n)
	if p == nil {
		return
	}
	var req struct {
		Title, Body, State, Base *string
	}
	if !decode(ex, &req) {
		return
	}
	if req.State != nil && *req.State != "open" && *req.State != "closed" {
		writeValidation(ex.w, "Validation Failed", []map[string]any{{"resource": "PullRequest", "field": "state", "code": "invalid"}})
		return
	}
	if req.Base != nil && f.branches[*req.Base] == "" {
		writeValidation(ex.w, "Validation Failed", []map[string]any{{"resource": "PullRequest", "field": "base", "code": "invalid"}})
		return
	}
	if req.Title != nil {
		p.title = *req.Title
	}
	if req.Body != nil {
		p.body = *req.Body
	}
	if req.Base != nil {
		p.base = *req.Base
	}
	if req.State != nil && *req.State != p.state {
		p.state = *req.State
		p.closed = time.Time{}
		if p.state == "closed" {
			p.closed = f.now()
		}
	}
	p.upd = f.now()
	writeJSON(ex, http.StatusOK, f.pullJSON(ex, p, true))
}

// routeFiles answers the routes of contents.go and pulls.go, and reports
// whether ex was one of them.
func (f *Fake) routeFiles(ex *exchange) bool {
	m, p := ex.r.Method, ex.route
	seg := strings.Split(p, "/")
	switch {
	case strings.HasPrefix(p, "contents/") && m == http.MethodGet:
		f.getContents(ex, strings.TrimPrefix(p, "contents/"))
	case strings.HasPrefix(p, "contents/") && m == http.MethodPut:
		f.putContents(ex, strings.TrimPrefix(p, "contents/"))
	case strings.HasPrefix(p, "git/refs/") && m == http.MethodPatch:
		f.updateRef(ex, strings.TrimPrefix(p, "git/refs/"))
	case p == "pulls" && m == http.MethodGet:
		f.listPulls(ex)
	case p == "pulls" && m == http.MethodPost:
		f.createPull(ex)
	case len(seg) == 2 && seg[0] == "pulls" && m == http.MethodGet:
		f.getPull(ex, seg[1])
	case len(seg) == 2 && seg[0] == "pulls" && m == http.MethodPatch:
		f.updatePull(ex, seg[1])
	default:
		return false
	}
	return true
}
