package deploy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// onFake is a GitHub Repo on fake, with cfg's workflows.
func onFake(t *testing.T, fake *githubfake.Fake, cfg Config) *GitHub {
	t.Helper()
	clock := trainstest.NewClock(start)
	opts := []Option{WithClock(clock), WithSleeper((&recSleeper{clock: clock}).Sleep)}
	client, err := NewClient("test-token", "", fake.HTTPClient(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Owner, cfg.Repo = fake.Owner(), fake.Repo()
	g, err := New(fake.Point(client), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// lastRaw is the escaped path of the last request the fake answered.
func lastRaw(t *testing.T, fake *githubfake.Fake) string {
	t.Helper()
	reqs := fake.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request was made")
	}
	return reqs[len(reqs)-1].RawPath
}

func TestPathParametersEscaped(t *testing.T) {
	t.Parallel()
	const odd = "a?b#c%d e"
	fake := githubfake.New(t, githubfake.WithRepo("ac me", "ch?ain#1"))
	fake.AddWorkflow("de ploy?#%.yaml", "environment", "release_type")
	g := onFake(t, fake, Config{DeployWorkflow: "de ploy?#%.yaml"})
	ctx := t.Context()
	repo := "/repos/ac%20me/ch%3Fain%231/"

	// The repository's owner and name.
	head, err := g.Head(ctx)
	if err != nil || head.SHA != fake.Head("main") {
		t.Fatalf("Head on an odd repository name = %+v, %v", head, err)
	}
	if got := lastRaw(t, fake); got != repo+"commits/"+head.SHA {
		t.Errorf("Head's commit went to %s", got)
	}
	// A commit ref: GetCommit does not escape it; Commit does.
	if _, err := g.Commit(ctx, odd); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Commit(%q) = %v, want not found", odd, err)
	}
	if got, want := lastRaw(t, fake), repo+"commits/a%3Fb%23c%25d%20e"; got != want {
		t.Errorf("Commit(%q) went to %s, want %s", odd, got, want)
	}
	if r := fake.Requests(); r[len(r)-1].Route != "commits/"+odd || r[len(r)-1].Query != "per_page=1" {
		t.Errorf("Commit(%q) was read as %s", odd, r[len(r)-1])
	}
	// A branch with "/" keeps its slashes as path separators.
	fix := fake.AddCommit("fix/x", "fix", start)
	if c, err := g.Commit(ctx, "fix/x"); err != nil || c.SHA != fix {
		t.Errorf("Commit(fix/x) = %+v, %v", c, err)
	}
	// A tag name: GetRef escapes each segment itself, once.
	fake.AddTag("v1"+odd, head.SHA)
	if _, err := g.TagDate(ctx, "v1"+odd); err != nil {
		t.Errorf("TagDate(%q) = %v", "v1"+odd, err)
	}
	fake.ResetRequests()
	_, _ = g.TagDate(ctx, "v1"+odd)
	if got, want := fake.Requests()[0].RawPath, repo+"git/ref/tags/v1a%3Fb%23c%25d%20e"; got != want {
		t.Errorf("TagDate went to %s, want %s", got, want)
	}
	// A branch name, through GetRef.
	fake.AddCommit("x%y", "odd branch", start)
	if _, err := g.Branch(ctx, "x%y"); err != nil {
		t.Errorf("Branch(x%%y) = %v", err)
	}
	// The workflow file, in the dispatch and the runs listing.
	fake.AddTag("v0.1.0-dev.1", head.SHA)
	if err := g.Dispatch(ctx, "v0.1.0-dev.1", trains.Dev.WorkflowInputs()); err != nil {
		t.Fatalf("Dispatch with an odd workflow file name: %v", err)
	}
	if got, want := lastRaw(t, fake), repo+"actions/workflows/de%20ploy%3F%23%25.yaml/dispatches"; got != want {
		t.Errorf("Dispatch went to %s, want %s", got, want)
	}
	if runs, err := g.DeployRuns(ctx, start.Add(-1)); err != nil || len(runs) != 1 {
		t.Errorf("DeployRuns = %+v, %v", runs, err)
	}
	if got, want := lastRaw(t, fake), repo+"actions/workflows/de%20ploy%3F%23%25.yaml/runs"; got != want {
		t.Errorf("DeployRuns went to %s, want %s", got, want)
	}
	// The hand-built pending-deployments request.
	_ = g.ReviewDeployment(ctx, 424242, true, "ok")
	if got, want := lastRaw(t, fake), repo+"actions/runs/424242/pending_deployments"; got != want {
		t.Errorf("ReviewDeployment went to %s, want %s", got, want)
	}
	// The hand-built reads of the Environments gate.
	_, _ = g.PendingDeployments(ctx, 424242)
	if got, want := lastRaw(t, fake), repo+"actions/runs/424242/pending_deployments"; got != want {
		t.Errorf("PendingDeployments went to %s, want %s", got, want)
	}
	_, _ = g.DeploymentReviews(ctx, 424242)
	if got, want := lastRaw(t, fake), repo+"actions/runs/424242/approvals"; got != want {
		t.Errorf("DeploymentReviews went to %s, want %s", got, want)
	}
	for _, r := range fake.Requests() {
		if !strings.HasPrefix(r.RawPath, repo) {
			t.Errorf("a request left the repository: %s %s", r.Method, r.RawPath)
		}
	}
}

func TestNothingLeavesTheRepository(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	for _, ref := range []string{"..", "../../../victim/private/commits/main", "main/../../user", "a/./b", "./x", "a//b", "x/"} {
		if _, err := e.gh.Commit(ctx, ref); !errors.Is(err, trains.ErrRefused) || !strings.Contains(err.Error(), "outside") {
			t.Errorf("Commit(%q) = %v, want refused as outside the repository", ref, err)
		}
		if _, err := e.gh.TagDate(ctx, ref); !errors.Is(err, trains.ErrRefused) {
			t.Errorf("TagDate(%q) = %v, want refused", ref, err)
		}
		if _, err := e.gh.Branch(ctx, ref); !errors.Is(err, trains.ErrRefused) {
			t.Errorf("Branch(%q) = %v, want refused", ref, err)
		}
	}
	if reqs := e.fake.Requests(); len(reqs) != 0 {
		t.Errorf("refused requests were sent: %v", reqs)
	}
	if w := e.sleep.Waits(); len(w) != 0 {
		t.Errorf("a refused request was retried: waits %v", w)
	}
	// Encoded dots are a name, sent escaped, and stay in the repository.
	if _, err := e.gh.Commit(ctx, "%2e%2e%2fvictim"); !errors.Is(err, trains.ErrNotFound) {
		t.Errorf("Commit(%%2e%%2e%%2fvictim) = %v, want not found", err)
	}
	if got, want := lastRaw(t, e.fake), "/repos/acme/chain/commits/%252e%252e%252fvictim"; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
	// A write is refused the same way, and not tried again.
	if err := e.gh.CreateTag(ctx, "v0.1.0-dev.1", "../../x", ""); !errors.Is(err, trains.ErrRefused) {
		t.Errorf("CreateTag on ../../x = %v", err)
	}
	for _, r := range e.fake.Requests() {
		if r.Route == "" {
			t.Errorf("a request left the repository: %s %s", r.Method, r.Path)
		}
	}
}

// GitHub redirects the API of a renamed repository; trainbot does not
// follow a redirect out of the repository it was told to release.
func TestRedirectOutOfTheRepositoryRefused(t *testing.T) {
	t.Parallel()
	var outside atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/repos/acme/chain/") {
			http.Redirect(w, r, "/repositories/1/"+strings.TrimPrefix(r.URL.Path, "/repos/acme/chain/"), http.StatusMovedPermanently)
			return
		}
		outside.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sha":"0123456789012345678901234567890123456789"}`))
	}))
	t.Cleanup(srv.Close)
	client := github.NewClient(srv.Client()).WithAuthToken("secret")
	client.BaseURL, _ = url.Parse(srv.URL + "/")
	g, err := New(client, Config{Owner: "acme", Repo: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Commit(t.Context(), "main")
	if !errors.Is(err, trains.ErrRefused) || !strings.Contains(err.Error(), "set TRAINBOT_REPO to its new name") {
		t.Errorf("Commit through a redirect = %v", err)
	}
	if n := outside.Load(); n != 0 {
		t.Errorf("%d requests outside the repository reached the server", n)
	}
}

func TestNewRefusesPathSteps(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t)
	for _, cfg := range []Config{
		{Owner: "..", Repo: "chain"},
		{Owner: "acme", Repo: "."},
		{Owner: "acme", Repo: "a/b"},
		{Owner: "acme", Repo: "chain", DeployWorkflow: "../x.yaml"},
		{Owner: "acme", Repo: "chain", PublishWorkflow: ".."},
	} {
		if _, err := New(fake.Client(), cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestEscapePath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abc":            "abc",
		"fix/x":          "fix/x",
		"a?b#c%d e":      "a%3Fb%23c%25d%20e",
		"..":             "%2E%2E",
		"a/./b":          "a/%2E/b",
		"../../v/p":      "%2E%2E/%2E%2E/v/p",
		"a\x01b":         "a%01b",
		"caf\u00e9/\x7f": "caf%C3%A9/%7F",
	} {
		if got := escapePath(in); got != want {
			t.Errorf("escapePath(%q) = %q, want %q", in, got, want)
		}
	}
}
