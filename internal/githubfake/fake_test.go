package githubfake_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

var t0 = time.Date(2026, 5, 12, 14, 0, 0, 0, time.UTC)

func TestRefsAndTags(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	sha := fake.AddCommit("main", "feat: x", t0)

	ref := "refs/tags/v0.1.0-dev.1"
	if _, _, err := c.Git.CreateRef(ctx, o, r, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &sha}}); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Git.CreateRef(ctx, o, r, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &sha}})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 || er.Message != "Reference already exists" {
		t.Errorf("second CreateRef: %v", err)
	}
	got, _, err := c.Git.GetRef(ctx, o, r, "tags/v0.1.0-dev.1")
	if err != nil || got.GetObject().GetSHA() != sha || got.GetObject().GetType() != "commit" {
		t.Errorf("GetRef = %v, %v", got, err)
	}
	if _, _, err := c.Git.GetRef(ctx, o, r, "tags/nope"); !errors.As(err, &er) || er.Response.StatusCode != 404 {
		t.Errorf("GetRef(missing) = %v", err)
	}

	typ, name, msg := "commit", "v0.1.0-dev.2", "train"
	tag, _, err := c.Git.CreateTag(ctx, o, r, &github.Tag{Tag: &name, Message: &msg, Object: &github.GitObject{SHA: &sha, Type: &typ}})
	if err != nil {
		t.Fatal(err)
	}
	read, _, err := c.Git.GetTag(ctx, o, r, tag.GetSHA())
	if err != nil || read.GetObject().GetSHA() != sha || read.GetTag() != name || !read.GetTagger().GetDate().Time.Equal(t0) {
		t.Errorf("GetTag = %v, %v", read, err)
	}

	for i := range 40 {
		fake.AddTag(fmt.Sprintf("v0.2.0-dev.%d", i+1), sha)
	}
	tags, resp, err := c.Repositories.ListTags(ctx, o, r, &github.ListOptions{PerPage: 30})
	if err != nil || len(tags) != 30 || resp.NextPage != 2 || resp.LastPage != 2 {
		t.Errorf("ListTags page 1: %d tags, next %d, last %d, %v", len(tags), resp.NextPage, resp.LastPage, err)
	}
	tags, resp, err = c.Repositories.ListTags(ctx, o, r, &github.ListOptions{PerPage: 30, Page: 2})
	if err != nil || len(tags) != 11 || resp.NextPage != 0 {
		t.Errorf("ListTags page 2: %d tags, next %d, %v", len(tags), resp.NextPage, err)
	}

	fake.SetRefsPageSize(25)
	refs, resp, err := c.Git.ListMatchingRefs(ctx, o, r, &github.ReferenceListOptions{Ref: "tags/v"})
	if err != nil || len(refs) != 25 || resp.NextPage != 2 {
		t.Errorf("ListMatchingRefs: %d refs, next %d, %v", len(refs), resp.NextPage, err)
	}
	if tg, ok := fake.Tag("v0.1.0-dev.2"); ok {
		t.Errorf("a tag object alone made a tag: %+v", tg)
	}
	if runs := fake.Runs("publish-images.yaml"); len(runs) != 1 || runs[0].Branch != "v0.1.0-dev.1" || runs[0].Event != "push" {
		t.Errorf("publish runs %+v, want one for the tag made through the API", runs)
	}
}

func TestCompareAndCommits(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	base := fake.AddCommit("main", "a", t0.Add(-3*time.Hour))
	fake.AddBranch("side", base)
	side := fake.AddCommit("side", "s", t0.Add(-2*time.Hour))
	head := fake.AddCommit("main", "b", t0.Add(-time.Hour))

	for _, tc := range []struct {
		base, head, status string
		ahead, behind      int
	}{
		{base, head, "ahead", 1, 0},
		{head, base, "behind", 0, 1},
		{head, head, "identical", 0, 0},
		{side, head, "diverged", 1, 1},
		{"side", "main", "diverged", 1, 1},
	} {
		cmp, _, err := c.Repositories.CompareCommits(ctx, o, r, tc.base, tc.head, nil)
		if err != nil || cmp.GetStatus() != tc.status || cmp.GetAheadBy() != tc.ahead || cmp.GetBehindBy() != tc.behind || len(cmp.Commits) != tc.ahead {
			t.Errorf("compare %.7s...%.7s = %v, %v", tc.base, tc.head, cmp, err)
		}
	}
	if _, _, err := c.Repositories.GetCommit(ctx, o, r, "nope", nil); err == nil || !strings.Contains(err.Error(), "No commit found for SHA: nope") {
		t.Errorf("GetCommit(nope) = %v", err)
	}
	b, _, err := c.Repositories.GetBranch(ctx, o, r, "side", 0)
	if err != nil || b.GetCommit().GetSHA() != side {
		t.Errorf("GetBranch = %v, %v", b, err)
	}
}

func TestETagAndCounting(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t)
	hc := fake.HTTPClient()
	url := fake.URL() + "repos/acme/chain/commits/main"
	get := func(etag string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := get("")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" {
		t.Fatalf("first GET: %d, ETag %q", first.StatusCode, etag)
	}
	if second := get(etag); second.StatusCode != http.StatusNotModified {
		t.Errorf("second GET: %d, want 304", second.StatusCode)
	}
	fake.AddCommit("main", "new", time.Time{})
	if third := get(etag); third.StatusCode != 200 {
		t.Errorf("after a change: %d, want 200", third.StatusCode)
	}
	if fake.Counted() != 2 || fake.NotModified() != 1 || fake.Count("GET", "commits/") != 3 {
		t.Errorf("counted %d, not modified %d: %v", fake.Counted(), fake.NotModified(), fake.Requests())
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	clock := trainstest.NewClock(t0)
	fake := githubfake.New(t, githubfake.WithClock(clock))
	c := fake.Client()
	ctx := t.Context()
	fake.Fail("GET", "commits/*",
		githubfake.ServerError(),
		githubfake.SecondaryRateLimit(5*time.Second),
		githubfake.PrimaryRateLimit(t0.Add(time.Hour)),
		githubfake.TooManyRequests(3*time.Second),
		githubfake.Unprocessable("nope"),
	)
	check := func(want string, match func(error) bool) {
		t.Helper()
		// A fresh client each time: go-github remembers rate limits.
		_, _, err := fake.Point(github.NewClient(fake.HTTPClient())).Repositories.GetCommit(ctx, "acme", "chain", "main", nil)
		if !match(err) {
			t.Errorf("got %v, want %s", err, want)
		}
	}
	status := func(code int) func(error) bool {
		return func(err error) bool {
			var er *github.ErrorResponse
			return errors.As(err, &er) && er.Response.StatusCode == code
		}
	}
	check("500", status(500))
	check("secondary", func(err error) bool {
		var ab *github.AbuseRateLimitError
		return errors.As(err, &ab) && ab.RetryAfter != nil && *ab.RetryAfter == 5*time.Second
	})
	check("primary", func(err error) bool {
		var rl *github.RateLimitError
		return errors.As(err, &rl) && rl.Rate.Remaining == 0 && rl.Rate.Reset.Time.Equal(t0.Add(time.Hour))
	})
	check("429", status(429))
	check("422", status(422))
	check("success", func(err error) bool { return err == nil })
	if fake.PendingFaults() != 0 {
		t.Errorf("%d faults left", fake.PendingFaults())
	}

	// A fault after the request was carried out.
	fake.AddTag("v0.1.0-dev.1", fake.Head("main"))
	fake.Fail("POST", "actions/workflows/deploy-simple.yaml/dispatches", githubfake.BadGateway().Applied())
	_, err := c.Actions.CreateWorkflowDispatchEventByFileName(ctx, "acme", "chain", "deploy-simple.yaml",
		github.CreateWorkflowDispatchEventRequest{Ref: "v0.1.0-dev.1", Inputs: map[string]any{"environment": "dev"}})
	if !status(502)(err) || len(fake.Dispatches()) != 1 || len(fake.Runs("deploy-simple.yaml")) != 1 {
		t.Errorf("applied fault: %v, dispatches %v", err, fake.Dispatches())
	}
}

func TestRunsAndDispatch(t *testing.T) {
	t.Parallel()
	clock := trainstest.NewClock(t0)
	fake := githubfake.New(t, githubfake.WithClock(clock))
	c := fake.Client()
	ctx := t.Context()
	fake.AddTag("v0.1.0-dev.1", fake.Head("main"))
	_, err := c.Actions.CreateWorkflowDispatchEventByFileName(ctx, "acme", "chain", "deploy-simple.yaml",
		github.CreateWorkflowDispatchEventRequest{Ref: "v0.1.0-dev.1", Inputs: map[string]any{"environment": "dev", "x": "1", "y": "2"}})
	if err == nil || !strings.Contains(err.Error(), `Unexpected inputs provided: ["x", "y"]`) {
		t.Errorf("unexpected inputs: %v", err)
	}
	clock.Advance(time.Minute)
	_, err = c.Actions.CreateWorkflowDispatchEventByFileName(ctx, "acme", "chain", "deploy-simple.yaml",
		github.CreateWorkflowDispatchEventRequest{Ref: "v0.1.0-dev.1", Inputs: map[string]any{"environment": "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	fake.SetRunSteps(1)
	list := func(created string) []*github.WorkflowRun {
		runs, _, err := c.Actions.ListWorkflowRunsByFileName(ctx, "acme", "chain", "deploy-simple.yaml", &github.ListWorkflowRunsOptions{
			Branch: "v0.1.0-dev.1", Event: "workflow_dispatch", Created: created})
		if err != nil {
			t.Fatal(err)
		}
		return runs.WorkflowRuns
	}
	if runs := list(">=" + t0.Add(2*time.Minute).Format(time.RFC3339)); len(runs) != 0 {
		t.Errorf("created filter let %d runs through", len(runs))
	}
	var statuses []string
	for range 3 {
		runs := list(">=" + t0.Format(time.RFC3339))
		statuses = append(statuses, runs[0].GetStatus()+"/"+runs[0].GetConclusion())
	}
	if got := strings.Join(statuses, " "); got != "queued/ in_progress/ completed/success" {
		t.Errorf("statuses %s", got)
	}
	id := fake.Runs("deploy-simple.yaml")[0].ID
	run, _, err := c.Actions.GetWorkflowRunByID(ctx, "acme", "chain", id)
	if err != nil || run.GetHeadBranch() != "v0.1.0-dev.1" || run.GetEvent() != "workflow_dispatch" || run.GetHTMLURL() == "" {
		t.Errorf("run %v, %v", run, err)
	}
	if d := fake.Dispatches(); len(d) != 1 || d[0].Inputs["environment"] != "dev" || !d[0].At.Equal(t0.Add(time.Minute)) {
		t.Errorf("dispatches %+v", d)
	}
}

// captureTB records the failures the fake reports.
type captureTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (c *captureTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func TestRefusesOtherHostsAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	tb := &captureTB{TB: t}
	fake := githubfake.New(tb)
	c := fake.Client()
	if _, err := c.Client().Get("https://api.github.com/repos/acme/chain"); err == nil {
		t.Error("a request to api.github.com went out")
	}
	resp, err := fake.HTTPClient().Get(fake.URL() + "user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.errs) != 2 || !strings.Contains(tb.errs[0], "not the fake") || !strings.Contains(tb.errs[1], "no route for GET /user") {
		t.Errorf("reported %q", tb.errs)
	}
}
