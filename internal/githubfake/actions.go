package githubfake

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

type workflow struct {
	id           int64
	file         string
	dispatchable bool
	// inputs declared by the workflow; a dispatch with any other is refused.
	inputs     map[string]bool
	conclusion string
	approval   *Environment
}

// Environment is a deployment environment that needs a review.
type Environment struct {
	ID   int64
	Name string
	// Reviewers may approve or reject its deployments (up to six, as on
	// GitHub); none: the user the API token belongs to (APIUser) alone.
	Reviewers []Reviewer
}

type run struct {
	id         int64
	workflow   string
	branch     string
	sha        string
	event      string
	status     string
	conclusion string // set once completed
	final      string // the conclusion it will complete with
	approval   *Environment
	reviewed   bool
	created    time.Time
	updated    time.Time
	reads      int
	number     int
	// actor started the run; trigger started this attempt of it (a re-run's).
	actor, trigger string
}

// Run is a workflow run as the fake holds it.
type Run struct {
	ID         int64
	Workflow   string
	Branch     string // head_branch: the tag for tag pushes and dispatches
	SHA        string
	Event      string
	Status     string
	Conclusion string
	Created    time.Time
	// Actor is who started the run, TriggeringActor who started this
	// attempt of it: GitHub logins.
	Actor, TriggeringActor string
	// URL is the run's page (html_url).
	URL string
}

// RunSpec is a run started outside trainbot: by a push, by a person
// dispatching or re-running the workflow by hand.
type RunSpec struct {
	Workflow string
	// Branch is head_branch: a branch or tag name.
	Branch string
	// SHA is the head commit; a commit the fake holds is sent as the
	// run's head_commit, another leaves head_commit null.
	SHA string
	// Event is "push", "workflow_dispatch", "schedule", …
	Event string
	// Actor is the login of who started the run (default: the token's
	// user, see SetTokenUser); TriggeringActor who started this attempt,
	// as for a re-run (default: Actor). A login ending in [bot] is a Bot.
	Actor, TriggeringActor string
}

// Dispatch is one workflow dispatch the fake accepted.
type Dispatch struct {
	Workflow string
	Ref      string
	Inputs   map[string]string
	At       time.Time
}

// Review is one review of a run's pending deployments.
type Review struct {
	RunID          int64
	EnvironmentIDs []int64
	State          string // approved or rejected
	Comment        string
	// User is the login of who reviewed: APIUser through the API,
	// or whom the test named to ReviewAs.
	User string
}

// AddWorkflow declares a workflow file that can be dispatched with the
// named inputs (none named: any inputs are accepted). Redeclaring one
// replaces its inputs.
func (f *Fake) AddWorkflow(file string, inputs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.workflows[file]
	if !ok {
		f.nextWorkflo++
		w = &workflow{id: f.nextWorkflo, file: file, conclusion: "success"}
		f.workflows[file] = w
	}
	w.dispatchable = true
	w.inputs = nil
	if len(inputs) > 0 {
		w.inputs = map[string]bool{}
		for _, in := range inputs {
			w.inputs[in] = true
		}
	}
}

// SetDispatchable sets whether a workflow has a workflow_dispatch trigger.
func (f *Fake) SetDispatchable(file string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustWorkflow(file).dispatchable = ok
}

// SetConclusion sets the conclusion that new runs of the workflow will
// complete with (default success).
func (f *Fake) SetConclusion(file, conclusion string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustWorkflow(file).conclusion = conclusion
}

// RequireApproval makes new runs of the workflow wait, once in progress,
// for a review of a deployment to env (status "waiting").
func (f *Fake) RequireApproval(file string, env Environment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustWorkflow(file).approval = &env
}

// SetDispatchCreatesRun sets whether an accepted dispatch starts a run
// (default true). With false, dispatches are recorded and no run appears.
func (f *Fake) SetDispatchCreatesRun(ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noRuns = !ok
}

// SetRunSteps makes every run move one state on after each n reads of it
// (through a run list or by id, 304s included); 0, the default, moves
// runs only when the test says so.
func (f *Fake) SetRunSteps(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runSteps = n
}

func (f *Fake) mustWorkflow(file string) *workflow {
	w, ok := f.workflows[file]
	if !ok {
		f.t.Fatalf("githubfake: no workflow %s", file)
	}
	return w
}

// StartRun starts a queued run of a workflow on branch (a branch or tag
// name) at commit sha, as a push or a person would, and returns its id.
// The token's user started it.
func (f *Fake) StartRun(file, branch, sha, event string) int64 {
	return f.StartRunAs(RunSpec{Workflow: file, Branch: branch, SHA: sha, Event: event})
}

// StartRunAs starts a queued run as spec says and returns its id.
func (f *Fake) StartRunAs(spec RunSpec) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.startRun(spec.Workflow, spec.Branch, spec.SHA, spec.Event)
	if spec.Actor != "" {
		r.actor, r.trigger = spec.Actor, spec.Actor
	}
	if spec.TriggeringActor != "" {
		r.trigger = spec.TriggeringActor
	}
	return r.id
}

// SetTokenUser sets the login of the token's user (default "octocat"):
// the actor of runs the API's dispatches, tag pushes and StartRun start.
func (f *Fake) SetTokenUser(login string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenUser = login
}

func (f *Fake) startRun(file, branch, sha, event string) *run {
	w, ok := f.workflows[file]
	if !ok {
		f.t.Fatalf("githubfake: no workflow %s", file)
	}
	f.nextRunID++
	now := f.now()
	r := &run{id: f.nextRunID, workflow: file, branch: branch, sha: sha, event: event, status: "queued",
		final: w.conclusion, approval: w.approval, created: now, updated: now, number: len(f.runs) + 1,
		actor: f.callerLogin(), trigger: f.callerLogin()}
	f.runs = append(f.runs, r)
	return r
}

func (f *Fake) findRun(id int64) *run {
	for _, r := range f.runs {
		if r.id == id {
			return r
		}
	}
	return nil
}

func (f *Fake) mustRun(id int64) *run {
	r := f.findRun(id)
	if r == nil {
		f.t.Fatalf("githubfake: no run %d", id)
	}
	return r
}

// advance moves a run one state on.
func (f *Fake) advance(r *run) {
	switch r.status {
	case "queued", "requested", "pending":
		r.status = "in_progress"
	case "in_progress":
		if r.approval != nil && !r.reviewed {
			r.status = "waiting"
		} else {
			r.status, r.conclusion = "completed", r.final
		}
	}
	r.updated = f.now()
}

// AdvanceRun moves a run one state on: queued → in_progress →
// (waiting) → completed. A waiting run moves only when reviewed.
func (f *Fake) AdvanceRun(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance(f.mustRun(id))
}

// CompleteRun completes a run with conclusion.
func (f *Fake) CompleteRun(id int64, conclusion string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.mustRun(id)
	r.status, r.conclusion, r.updated = "completed", conclusion, f.now()
}

// SetRunStatus sets a run's status (and conclusion, for completed).
func (f *Fake) SetRunStatus(id int64, status, conclusion string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.mustRun(id)
	r.status, r.conclusion, r.updated = status, conclusion, f.now()
}

// Runs returns the runs of a workflow (every workflow when file is ""),
// oldest first.
func (f *Fake) Runs(file string) []Run {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Run
	for _, r := range f.runs {
		if file == "" || r.workflow == file {
			out = append(out, Run{ID: r.id, Workflow: r.workflow, Branch: r.branch, SHA: r.sha, Event: r.event,
				Status: r.status, Conclusion: r.conclusion, Created: r.created,
				Actor: r.actor, TriggeringActor: r.trigger, URL: f.runURL(r)})
		}
	}
	return out
}

// Dispatches returns the dispatches accepted so far, in order.
func (f *Fake) Dispatches() []Dispatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Dispatch(nil), f.dispatches...)
}

// Reviews returns the pending-deployment reviews made so far, in order.
func (f *Fake) Reviews() []Review {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Review(nil), f.reviews...)
}

// read notes that a run was read, and moves it on every runSteps reads.
func (f *Fake) read(r *run) {
	r.reads++
	if f.runSteps > 0 && r.reads%f.runSteps == 0 {
		f.advance(r)
	}
}

func (f *Fake) runURL(r *run) string {
	return f.htmlURL("actions/runs/" + strconv.FormatInt(r.id, 10))
}

// displayTitle is the run's title as GitHub shows it: a push's head
// commit's first line, otherwise the workflow's name.
func (f *Fake) displayTitle(r *run, name string) string {
	if c, ok := f.commits[r.sha]; ok && r.event == "push" {
		title, _, _ := strings.Cut(c.message, "\n")
		return title
	}
	return name
}

// headCommitJSON is a run's head_commit (GitHub's simple-commit), null
// when the fake does not hold the commit.
func (f *Fake) headCommitJSON(sha string) any {
	c, ok := f.commits[sha]
	if !ok {
		return nil
	}
	person := map[string]string{"name": c.author, "email": c.author + "@example.com"}
	return map[string]any{
		"id":        c.sha,
		"tree_id":   c.sha,
		"message":   c.message,
		"timestamp": c.date.Format(time.RFC3339),
		"author":    person,
		"committer": person,
	}
}

// userJSON is GitHub's simple-user for login; a login ending in [bot] is
// a Bot, as GitHub Apps' are.
func userJSON(login string) map[string]any {
	h := fnv.New32a()
	h.Write([]byte(login))
	id := int64(h.Sum32()%100000000) + 1
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	api := "https://api.github.com/users/" + url.PathEscape(login)
	return map[string]any{
		"login":               login,
		"id":                  id,
		"node_id":             "U_" + strconv.FormatInt(id, 10),
		"avatar_url":          "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(id, 10) + "?v=4",
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            "https://github.com/" + url.PathEscape(login),
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                typ,
		"site_admin":          false,
	}
}

func (f *Fake) runJSON(ex *exchange, r *run) map[string]any {
	w := f.workflows[r.workflow]
	var conclusion any
	if r.status == "completed" {
		conclusion = r.conclusion
	}
	name := strings.TrimSuffix(strings.TrimSuffix(r.workflow, ".yaml"), ".yml")
	runURL := f.apiURL(ex, "actions/runs/"+strconv.FormatInt(r.id, 10))
	return map[string]any{
		"id":               r.id,
		"name":             name,
		"node_id":          "WFR_" + strconv.FormatInt(r.id, 10),
		"head_branch":      r.branch,
		"head_sha":         r.sha,
		"path":             ".github/workflows/" + r.workflow,
		"display_title":    f.displayTitle(r, name),
		"run_number":       r.number,
		"run_attempt":      1,
		"event":            r.event,
		"status":           r.status,
		"conclusion":       conclusion,
		"workflow_id":      w.id,
		"url":              runURL,
		"html_url":         f.runURL(r),
		"created_at":       r.created.Format(time.RFC3339),
		"updated_at":       r.updated.Format(time.RFC3339),
		"run_started_at":   r.created.Format(time.RFC3339),
		"head_commit":      f.headCommitJSON(r.sha),
		"actor":            userJSON(r.actor),
		"triggering_actor": userJSON(r.trigger),
		"pull_requests":    []any{},
		"repository":       f.repoJSON(ex),
		"head_repository":  f.repoJSON(ex),
		"jobs_url":         runURL + "/jobs",
		"logs_url":         runURL + "/logs",
		"check_suite_url":  f.apiURL(ex, "check-suites/"+strconv.FormatInt(r.id+1000000, 10)),
		"artifacts_url":    runURL + "/artifacts",
		"cancel_url":       runURL + "/cancel",
		"rerun_url":        runURL + "/rerun",
		"workflow_url":     f.apiURL(ex, "actions/workflows/"+strconv.FormatInt(w.id, 10)),
	}
}

// --- handlers ---

func (f *Fake) dispatch(ex *exchange, file string) {
	w, ok := f.workflows[file]
	if !ok {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return
	}
	var req struct {
		Ref    string         `json:"ref"`
		Inputs map[string]any `json:"inputs"`
	}
	if !decode(ex, &req) {
		return
	}
	if !w.dispatchable {
		writeError(ex.w, http.StatusUnprocessableEntity, "Workflow does not have 'workflow_dispatch' trigger")
		return
	}
	sha, ok := f.resolve(req.Ref)
	if req.Ref == "" || !ok {
		writeError(ex.w, http.StatusUnprocessableEntity, "No ref found for: "+req.Ref)
		return
	}
	inputs := map[string]string{}
	var unexpected []string
	for k, v := range req.Inputs {
		s, isString := v.(string)
		if !isString {
			writeError(ex.w, http.StatusUnprocessableEntity, fmt.Sprintf("For 'properties/%s', %v is not a string.", k, v))
			return
		}
		inputs[k] = s
		if w.inputs != nil && !w.inputs[k] {
			unexpected = append(unexpected, strconv.Quote(k))
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		writeError(ex.w, http.StatusUnprocessableEntity, "Unexpected inputs provided: ["+strings.Join(unexpected, ", ")+"]")
		return
	}
	f.dispatches = append(f.dispatches, Dispatch{Workflow: file, Ref: req.Ref, Inputs: inputs, At: f.now()})
	if !f.noRuns {
		f.startRun(file, strings.TrimPrefix(strings.TrimPrefix(req.Ref, "refs/tags/"), "refs/heads/"), sha, "workflow_dispatch")
	}
	ex.w.WriteHeader(http.StatusNoContent)
}

// matchCreated applies GitHub's created filter: >=t, >t, <=t, <t, a..b or
// a date.
func matchCreated(filter string, t time.Time) (bool, error) {
	parse := func(s string) (time.Time, error) {
		if d, err := time.Parse(time.RFC3339, s); err == nil {
			return d, nil
		}
		return time.Parse("2006-01-02", s)
	}
	switch {
	case filter == "":
		return true, nil
	case strings.Contains(filter, ".."):
		a, b, _ := strings.Cut(filter, "..")
		from, err1 := parse(a)
		to, err2 := parse(b)
		if err1 != nil || err2 != nil {
			return false, fmt.Errorf("bad created range %q", filter)
		}
		return !t.Before(from) && !t.After(to), nil
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(filter, op); ok {
			d, err := parse(rest)
			if err != nil {
				return false, err
			}
			switch op {
			case ">=":
				return !t.Before(d), nil
			case "<=":
				return !t.After(d), nil
			case ">":
				return t.After(d), nil
			default:
				return t.Before(d), nil
			}
		}
	}
	d, err := parse(filter)
	if err != nil {
		return false, err
	}
	return t.Format("2006-01-02") == d.Format("2006-01-02"), nil
}

func (f *Fake) listRuns(ex *exchange, file string) {
	if _, ok := f.workflows[file]; !ok {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return
	}
	q := ex.r.URL.Query()
	var matched []*run
	for i := len(f.runs) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		r := f.runs[i]
		if r.workflow != file ||
			q.Get("branch") != "" && r.branch != q.Get("branch") ||
			q.Get("event") != "" && r.event != q.Get("event") ||
			q.Get("head_sha") != "" && r.sha != q.Get("head_sha") ||
			q.Get("status") != "" && r.status != q.Get("status") && r.conclusion != q.Get("status") {
			continue
		}
		ok, err := matchCreated(q.Get("created"), r.created)
		if err != nil {
			writeError(ex.w, http.StatusUnprocessableEntity, "Validation Failed: "+err.Error())
			return
		}
		if ok {
			matched = append(matched, r)
		}
	}
	total := len(matched)
	// GitHub lists 30 runs a page unless per_page asks for up to 100.
	size := 30
	if q.Get("per_page") != "" {
		size = 100
	}
	page := paginate(ex, matched, size)
	list := make([]map[string]any, 0, len(page))
	for _, r := range page {
		list = append(list, f.runJSON(ex, r))
	}
	writeJSON(ex, http.StatusOK, map[string]any{"total_count": total, "workflow_runs": list})
	for _, r := range page {
		f.read(r)
	}
}

func (f *Fake) runByPath(ex *exchange, id string) *run {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		writeError(ex.w, http.StatusNotFound, "Not Found")
		return nil
	}
	r := f.findRun(n)
	if r == nil {
		writeError(ex.w, http.StatusNotFound, "Not Found")
	}
	return r
}

func (f *Fake) getRun(ex *exchange, id string) {
	r := f.runByPath(ex, id)
	if r == nil {
		return
	}
	writeJSON(ex, http.StatusOK, f.runJSON(ex, r))
	f.read(r)
}
