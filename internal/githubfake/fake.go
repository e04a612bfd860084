// Package githubfake is an in-memory GitHub REST API for tests: an httptest
// server that speaks the response shapes of the endpoints trainbot uses
// (git refs and tags, branches, commits, compare, Actions workflow dispatch
// and runs, pending deployments), so that tests drive the real go-github client.
//
// A test makes one with New, points a client at it with Client (or
// HTTPClient and URL), arranges the repository with AddCommit, AddTag,
// AddWorkflow and friends, and inspects what the code under test did with
// Dispatches, Reviews, Runs and Requests:
//
//	fake := githubfake.New(t, githubfake.WithClock(clock))
//	sha := fake.AddCommit("main", "feat: fast blocks", time.Time{})
//	gh := fake.Client()
//	// … run the code under test against gh …
//	if got := fake.Dispatches(); len(got) != 1 { … }
//
// Behaviour worth knowing:
//
//   - Every path is served under /repos/{owner}/{repo}/ and, for GitHub
//     Enterprise clients, also under /api/v3/repos/{owner}/{repo}/. A
//     path under /repos/ outside the repository is answered 404 (and
//     recorded, so a test can check none was asked); other unknown paths
//     fail the test.
//   - AddForkCommit makes a commit of the fork network: the commit and
//     compare endpoints answer it, as GitHub does, but no branch of the
//     repository contains it. The clients it hands out refuse (and
//     fail the test on) requests to any other host.
//   - Compare walks only the commits between its two ends (generation
//     numbers, as git's merge-base does), so a history of 50,000 commits
//     costs nothing more than a short one. Without per_page or page it
//     lists the newest 250 commits, oldest first; with either, pages run
//     oldest first with Link headers, as GitHub documents.
//   - Every GET answers with an ETag and answers If-None-Match with a 304
//     and no body when nothing changed. Requests records every request;
//     Counted leaves out the 304s, which GitHub does not count against
//     the rate limit.
//   - Creating a tag ref starts a run of the publish workflow,
//     publish-images.yaml (event push, head_branch = tag); a
//     workflow dispatch records a Dispatch and starts a run (event
//     workflow_dispatch, head_branch = ref) unless SetDispatchCreatesRun
//     (false) was called.
//   - Runs move queued → in_progress → (waiting, when the workflow needs
//     an approval, until reviewed) → completed with the conclusion set by
//     SetConclusion (default success). They move only when the test says
//     so (AdvanceRun, CompleteRun, SetRunStatus) or, after SetRunSteps(n),
//     by one state every n reads of the run (a 304 counts as a read).
//     There are no timers.
//   - Every exchange under /repos/ — the request and the fake's answer —
//     is checked against GitHub's own OpenAPI description
//     (internal/contract); a mismatch beyond contract.Quirks fails the
//     test, naming method, path, operation and field. WithoutContract
//     turns the check off. See docs/contracts.md.
//   - InstallApp registers a GitHub App: POST
//     /app/installations/{id}/access_tokens then issues installation
//     tokens (ghs_…, an hour or SetTokenLifetime) to a JWT signed with the
//     app's key within GitHub's rules; those tokens act as "<slug>[bot]"
//     (tags, commits, runs), may do what the installation's permissions
//     allow, and are refused with 401 Bad credentials once expired on the
//     fake's clock. Once an app is installed, requests without a valid
//     token are refused. See apps.go.
//   - Fail queues fault responses for a route: 5xx, rate limits (primary,
//     secondary, 429) and 422s, returned before the request is processed
//     or, with Fault.AfterApply, after it (a 5xx that still created the
//     ref).
//
// A Fake is safe for concurrent use.
package githubfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/contract"
	"github.com/trainbot/trainbot/trains"
)

// Clock tells the fake the time: when commits, tags and runs are made, and
// what the rate-limit reset headers say. trainstest.Clock is one.
type Clock interface {
	Now() time.Time
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock makes the fake read the time from c (default:
// trains.SystemClock).
func WithClock(c Clock) Option { return func(f *Fake) { f.clock = c } }

// WithRepo names the repository the fake serves (default acme/chain).
func WithRepo(owner, name string) Option {
	return func(f *Fake) { f.owner, f.name = owner, name }
}

// WithToken makes the fake answer 401 Bad credentials to any request that
// does not carry "Authorization: Bearer <token>". By default any token,
// or none, is accepted.
func WithToken(token string) Option { return func(f *Fake) { f.token = token } }

// WithoutContract turns off the check of every exchange against GitHub's
// OpenAPI description (see internal/contract), for a test that sends
// requests GitHub's description forbids on purpose.
func WithoutContract() Option { return func(f *Fake) { f.noContract = true } }

// DefaultBranch is the branch New creates with one root commit.
const DefaultBranch = "main"

// Fake is an in-memory GitHub repository behind an httptest server.
type Fake struct {
	t       testing.TB
	srv     *httptest.Server
	clock   Clock
	owner   string
	name    string
	publish string
	token   string

	mu          sync.Mutex
	seq         int
	commits     map[string]*commit
	branches    map[string]string
	refs        map[string]string // "refs/tags/x" → object sha (commit or tag object)
	tagObjects  map[string]*tagObject
	workflows   map[string]*workflow
	files       *files // contents.go and pulls.go; made on first use
	runs        []*run
	dispatches  []Dispatch
	reviews     []Review
	noRuns      bool
	runSteps    int
	refsPage    int
	refsGen     int                     // bumped when a ref or branch changes
	refsCache   map[string]cachedAnswer // matching-refs answers of refsGen
	requests    []Request
	changed     chan struct{} // closed and replaced when a request is recorded
	faults      []*queuedFault
	nextRunID   int64
	nextWorkflo int64
	tokenUser   string // the login runs started through the API are by
	noContract  bool   // WithoutContract: exchanges are not checked
	root        string // the first commit: where AddCommit starts a new branch

	// GitHub Apps (apps.go): the apps and the tokens they were issued, and
	// the app whose installation token the request being answered carries.
	apps *appState
	app  *App
}

// New starts a fake GitHub for the test and closes it when the test ends.
// The repository has one branch, main, with one root commit.
func New(t testing.TB, opts ...Option) *Fake {
	t.Helper()
	f := &Fake{
		t:           t,
		changed:     make(chan struct{}),
		clock:       trains.SystemClock{},
		owner:       "acme",
		name:        "chain",
		publish:     "publish-images.yaml",
		commits:     map[string]*commit{},
		branches:    map[string]string{},
		refs:        map[string]string{},
		tagObjects:  map[string]*tagObject{},
		workflows:   map[string]*workflow{},
		nextRunID:   9000,
		nextWorkflo: 100,
		tokenUser:   "octocat",
	}
	if _, bench := t.(*testing.B); bench {
		// A benchmark measures trainbot, not the checker; tests check the
		// same exchanges.
		f.noContract = true
	}
	for _, o := range opts {
		o(f)
	}
	f.AddCommit(DefaultBranch, "initial commit", time.Time{})
	f.AddWorkflow("deploy-simple.yaml", "environment", "release_type")
	if f.publish != "" {
		f.AddWorkflow(f.publish)
		f.workflows[f.publish].dispatchable = false
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the server's base URL, ending in "/": set a go-github client's
// BaseURL to it (or to it plus "api/v3/", both are served).
func (f *Fake) URL() string { return f.srv.URL + "/" }

// Owner is the owner of the repository the fake serves.
func (f *Fake) Owner() string { return f.owner }

// Repo is the name of the repository the fake serves.
func (f *Fake) Repo() string { return f.name }

// HTTPClient returns an HTTP client that talks only to the fake: a request
// for any other host fails, and fails the test.
func (f *Fake) HTTPClient() *http.Client {
	return &http.Client{Transport: &guard{f: f, base: f.srv.Client().Transport}}
}

// Client returns a go-github client pointed at the fake, with no retries
// or caching of its own.
func (f *Fake) Client() *github.Client {
	c := github.NewClient(f.HTTPClient()).WithAuthToken(clientToken)
	return f.Point(c)
}

// Point sets c's BaseURL and UploadURL to the fake and returns c.
func (f *Fake) Point(c *github.Client) *github.Client {
	u, err := url.Parse(f.URL())
	if err != nil {
		f.t.Fatalf("githubfake: %v", err)
	}
	c.BaseURL, c.UploadURL = u, u
	return c
}

// guard refuses requests that do not go to the fake.
type guard struct {
	f    *Fake
	base http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	want, _ := url.Parse(g.f.srv.URL)
	if req.URL.Host != want.Host {
		g.f.t.Errorf("githubfake: request to %s, which is not the fake (%s)", req.URL.Redacted(), want.Host)
		return nil, fmt.Errorf("githubfake: refusing request to %s: only %s is served", req.URL.Host, want.Host)
	}
	return g.base.RoundTrip(req)
}

// Request is one request the fake answered.
type Request struct {
	Method string
	// Path is the URL path as sent, decoded, e.g. /repos/acme/chain/git/refs
	// or /api/v3/repos/acme/chain/git/refs.
	Path string
	// RawPath is the path as sent, escaped, e.g.
	// /repos/acme/chain/commits/a%3Fb where Path has /repos/acme/chain/commits/a?b.
	RawPath string
	// Route is the path below /repos/{owner}/{repo}/, e.g. git/refs.
	Route  string
	Query  string
	Status int
}

// String formats the request as "GET git/refs?x=y → 200".
func (r Request) String() string {
	q := ""
	if r.Query != "" {
		q = "?" + r.Query
	}
	return fmt.Sprintf("%s %s%s → %d", r.Method, r.Route, q, r.Status)
}

// Requests returns every request answered so far, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Counted returns how many requests GitHub would count against the rate
// limit: all but the 304 Not Modified answers.
func (f *Fake) Counted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Status != http.StatusNotModified {
			n++
		}
	}
	return n
}

// NotModified returns how many requests were answered 304 Not Modified.
func (f *Fake) NotModified() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Status == http.StatusNotModified {
			n++
		}
	}
	return n
}

// Count returns how many requests with method (any when "") had a route
// starting with routePrefix.
func (f *Fake) Count(method, routePrefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return CountIn(f.requests, method, routePrefix)
}

// ResetRequests forgets the requests recorded so far.
func (f *Fake) ResetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

// SetRefsPageSize makes git/matching-refs paginate with Link headers, n
// refs a page at most (0, the default, lists every ref at once as GitHub
// does today).
func (f *Fake) SetRefsPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refsPage = n
}

// exchange is one request being answered, under f.mu.
type exchange struct {
	w      http.ResponseWriter
	r      *http.Request
	route  string
	prefix string // scheme://host[/api/v3]/repos/o/r/
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &contract.Recorder{ResponseWriter: w}
	reqBody, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path
	route := ""
	defer func() {
		f.requests = append(f.requests, Request{Method: r.Method, Path: path, RawPath: r.URL.EscapedPath(), Route: route, Query: r.URL.RawQuery, Status: rec.Status})
		f.checkContract(r, reqBody, rec)
		close(f.changed)
		f.changed = make(chan struct{})
	}()
	f.rateHeaders(rec.Header())
	rest := strings.TrimPrefix(path, "/api/v3")
	if inst, ok := installationTokenPath(rest); ok && r.Method == http.MethodPost {
		route = strings.TrimPrefix(rest, "/")
		if fault := f.takeFault(r.Method, route); fault != nil {
			fault.write(rec)
			return
		}
		f.createInstallationToken(rec, r, reqBody, inst)
		return
	}
	cred, app := f.authenticate(r)
	if f.refused(cred) {
		writeError(rec, http.StatusUnauthorized, "Bad credentials")
		return
	}
	f.app = app
	defer func() { f.app = nil }()
	base := "/repos/" + f.owner + "/" + f.name + "/"
	if !strings.HasPrefix(rest, base) {
		if strings.HasPrefix(rest, "/repos/") {
			writeError(rec, http.StatusNotFound, "Not Found")
			return
		}
		f.t.Errorf("githubfake: no route for %s %s", r.Method, path)
		writeError(rec, http.StatusNotFound, "Not Found")
		return
	}
	route = strings.TrimPrefix(rest, base)
	if app != nil && !permitted(app, r.Method, route) {
		// GitHub's answer when the installation lacks the permission.
		writeError(rec, http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	ex := &exchange{w: rec, r: r, route: route, prefix: "http://" + r.Host + strings.TrimSuffix(path, route)}
	fault := f.takeFault(r.Method, route)
	if fault != nil && !fault.AfterApply {
		fault.write(rec)
		return
	}
	if fault != nil {
		// Process the request, discard its answer, answer with the fault.
		ex.w = &discard{h: http.Header{}}
		f.route(ex)
		fault.write(rec)
		return
	}
	f.route(ex)
}

// checkContract fails the test when the exchange — r, with body reqBody,
// and the answer rec recorded — does not match GitHub's OpenAPI
// description, beyond contract.Quirks. Off with WithoutContract.
func (f *Fake) checkContract(r *http.Request, reqBody []byte, rec *contract.Recorder) {
	if p := strings.TrimPrefix(r.URL.Path, "/api/v3"); f.noContract || !strings.HasPrefix(p, "/repos/") && !strings.HasPrefix(p, "/app/") {
		return // off, or a path the fake does not serve and has failed the test for already
	}
	v, err := contract.GitHub()
	if err != nil {
		f.t.Errorf("githubfake: %v", err)
		return
	}
	status := rec.Status
	if status == 0 {
		status = http.StatusOK
	}
	err = v.Check(contract.Exchange{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header, Body: reqBody,
		Status: status, ResponseHeader: rec.Header(), ResponseBody: rec.Body.Bytes(),
	})
	if err != nil {
		f.t.Errorf("githubfake: contract: %v", err)
	}
}

// discard swallows a response.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func (f *Fake) rateHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(5000-len(f.requests)-1, 1)))
	h.Set("X-RateLimit-Used", strconv.Itoa(len(f.requests)+1))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(f.clock.Now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (f *Fake) route(ex *exchange) {
	m, p := ex.r.Method, ex.route
	seg := strings.Split(p, "/")
	switch {
	case m == http.MethodGet && strings.HasPrefix(p, "git/matching-refs/"):
		f.getMatchingRefs(ex, strings.TrimPrefix(p, "git/matching-refs/"))
	case m == http.MethodGet && strings.HasPrefix(p, "git/ref/"):
		f.getRef(ex, strings.TrimPrefix(p, "git/ref/"))
	case m == http.MethodPost && p == "git/refs":
		f.createRef(ex)
	case m == http.MethodPost && p == "git/tags":
		f.createTagObject(ex)
	case m == http.MethodGet && len(seg) == 3 && seg[0] == "git" && seg[1] == "tags":
		f.getTagObject(ex, seg[2])
	case m == http.MethodGet && p == "tags":
		f.listTags(ex)
	case m == http.MethodGet && p == "branches":
		f.listBranches(ex)
	case m == http.MethodGet && strings.HasPrefix(p, "branches/"):
		f.getBranch(ex, strings.TrimPrefix(p, "branches/"))
	case m == http.MethodGet && p == "commits":
		f.listCommits(ex)
	case m == http.MethodGet && strings.HasPrefix(p, "commits/"):
		f.getCommit(ex, strings.TrimPrefix(p, "commits/"))
	case m == http.MethodGet && strings.HasPrefix(p, "compare/"):
		f.compare(ex, strings.TrimPrefix(p, "compare/"))
	case m == http.MethodPost && len(seg) == 4 && seg[0] == "actions" && seg[1] == "workflows" && seg[3] == "dispatches":
		f.dispatch(ex, seg[2])
	case m == http.MethodGet && len(seg) == 4 && seg[0] == "actions" && seg[1] == "workflows" && seg[3] == "runs":
		f.listRuns(ex, seg[2])
	case m == http.MethodGet && len(seg) == 3 && seg[0] == "actions" && seg[1] == "runs":
		f.getRun(ex, seg[2])
	case len(seg) == 4 && seg[0] == "actions" && seg[1] == "runs" && seg[3] == "pending_deployments":
		if m == http.MethodGet {
			f.getPending(ex, seg[2])
		} else if m == http.MethodPost {
			f.reviewPending(ex, seg[2])
		} else {
			writeError(ex.w, http.StatusNotFound, "Not Found")
		}
	case m == http.MethodGet && len(seg) == 4 && seg[0] == "actions" && seg[1] == "runs" && seg[3] == "approvals":
		f.getApprovals(ex, seg[2])
	case f.routeFiles(ex): // contents, ref updates, pull requests: answered
	default:
		f.t.Errorf("githubfake: no route for %s %s", m, ex.r.URL.Path)
		writeError(ex.w, http.StatusNotFound, "Not Found")
	}
}

// writeJSON answers with v as JSON. A GET gets an ETag and, when the
// client already has that version, a 304 with no body.
func writeJSON(ex *exchange, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(ex.w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(ex, status, body, etagOf(body))
}

// etagOf is the (weak) ETag of a body.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(sum[:16]) + `"`
}

// writeBody answers with a JSON body whose ETag is etag: a GET gets the
// ETag and, when the client already has that version, a 304 with no body.
func writeBody(ex *exchange, status int, body []byte, etag string) {
	h := ex.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if ex.r.Method == http.MethodGet {
		h.Set("ETag", etag)
		if inm := ex.r.Header.Get("If-None-Match"); inm != "" && strings.TrimPrefix(inm, "W/") == strings.TrimPrefix(etag, "W/") {
			ex.w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	ex.w.WriteHeader(status)
	_, _ = ex.w.Write(body)
}

// writeError answers with GitHub's error shape.
func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"message":           message,
		"documentation_url": "https://docs.github.com/rest",
		"status":            strconv.Itoa(status),
	})
}

// decode reads a JSON request body into v, answering 400 on failure.
func decode(ex *exchange, v any) bool {
	if err := json.NewDecoder(ex.r.Body).Decode(v); err != nil {
		writeError(ex.w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// paginate cuts items to the page the request asks for and sets a Link
// header when there are more pages. size is the page size when the
// request names none.
func paginate[T any](ex *exchange, items []T, size int) []T {
	q := ex.r.URL.Query()
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		size = min(n, size)
	}
	if size <= 0 {
		return items
	}
	page := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	last := max((len(items)+size-1)/size, 1)
	link := func(p int, rel string) string {
		q := ex.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(size))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, ex.prefix, ex.route, q.Encode(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(page-1, "prev"), link(1, "first"))
	}
	if len(links) > 0 {
		ex.w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*size, len(items))
	hi := min(lo+size, len(items))
	return items[lo:hi]
}

// now returns the fake's time, in UTC to the second as GitHub reports it.
func (f *Fake) now() time.Time { return f.clock.Now().UTC().Truncate(time.Second) }

func (f *Fake) htmlURL(path string) string {
	return "https://github.com/" + f.owner + "/" + f.name + "/" + path
}

func (f *Fake) apiURL(ex *exchange, path string) string {
	if ex == nil {
		return "https://api.github.com/repos/" + f.owner + "/" + f.name + "/" + path
	}
	return ex.prefix + path
}
