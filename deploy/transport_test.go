package deploy

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains"
)

func TestTwo500sThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail("GET", "commits/*", githubfake.ServerError(), githubfake.BadGateway())
	c, err := e.gh.Commit(t.Context(), "main")
	if err != nil || c.SHA != e.fake.Head("main") {
		t.Fatalf("Commit = %+v, %v", c, err)
	}
	if n := e.fake.Count("GET", "commits/"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	waits := e.sleep.Waits()
	if len(waits) != 2 || waits[1] <= waits[0] {
		t.Errorf("waits %v, want two growing backoffs", waits)
	}
}

func TestSecondaryRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail("GET", "git/matching-refs/*", githubfake.SecondaryRateLimit(7*time.Second))
	// A POST refused by the secondary limit was not carried out: it is sent again.
	e.fake.Fail("POST", "git/refs", githubfake.SecondaryRateLimit(11*time.Second))
	if _, err := e.gh.Tags(t.Context()); err != nil {
		t.Fatal(err)
	}
	head := e.fake.Head("main")
	if err := e.gh.CreateTag(t.Context(), "v0.1.0-dev.1", head, ""); err != nil {
		t.Fatal(err)
	}
	waits := e.sleep.Waits()
	if len(waits) != 2 || waits[0] < 7*time.Second || waits[1] < 11*time.Second {
		t.Errorf("waits %v, want ≥7s then ≥11s (Retry-After)", waits)
	}
	if got, ok := e.fake.Tag("v0.1.0-dev.1"); !ok || got.Commit != head {
		t.Errorf("tag %+v", got)
	}
	// go-github never saw the limit, so it does not block the next call.
	if _, err := e.gh.Head(t.Context()); err != nil {
		t.Errorf("after the limit: %v", err)
	}
}

func Test429RetryAfterOnDispatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AddTag("v0.1.0-dev.1", e.fake.Head("main"))
	e.fake.Fail("POST", "actions/workflows/deploy-simple.yaml/dispatches", githubfake.TooManyRequests(3*time.Second))
	if err := e.gh.Dispatch(t.Context(), "v0.1.0-dev.1", trains.Dev.WorkflowInputs()); err != nil {
		t.Fatal(err)
	}
	if d := e.fake.Dispatches(); len(d) != 1 {
		t.Errorf("dispatches %+v, want exactly one", d)
	}
	if w := e.sleep.Waits(); len(w) != 1 || w[0] < 3*time.Second {
		t.Errorf("waits %v, want one ≥3s", w)
	}
}

func TestSecondaryRateLimitWithoutRetryAfterWaitsAMinute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail("GET", "commits/*", githubfake.SecondaryRateLimit(0))
	if _, err := e.gh.Commit(t.Context(), "main"); err != nil {
		t.Fatal(err)
	}
	if w := e.sleep.Waits(); len(w) != 1 || w[0] < time.Minute {
		t.Errorf("waits %v, want one ≥1m", w)
	}
}

func TestPrimaryRateLimitSaysWhenItResets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reset := start.Add(40 * time.Minute)
	e.fake.Fail("GET", "commits/*", githubfake.PrimaryRateLimit(reset))
	_, err := e.gh.Commit(t.Context(), "main")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("got %v, want a *github.RateLimitError", err)
	}
	if !strings.Contains(err.Error(), "rate limit") || !strings.Contains(err.Error(), "resets at 14:40:00 UTC (in 40m0s)") {
		t.Errorf("message %q does not say when the limit resets", err)
	}
	if n := e.fake.Count("GET", "commits/"); n != 1 || len(e.sleep.Waits()) != 0 {
		t.Errorf("%d requests and waits %v; a spent primary limit is not waited out", n, e.sleep.Waits())
	}
}

func TestRetriesGiveUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 10 {
		e.fake.Fail("GET", "commits/*", githubfake.ServerError())
	}
	_, err := e.gh.Commit(t.Context(), "main")
	if err == nil || !strings.Contains(err.Error(), "HTTP 500 even after retrying") {
		t.Errorf("got %v", err)
	}
	if n := e.fake.Count("GET", "commits/"); n != maxRetries+1 {
		t.Errorf("%d requests, want %d", n, maxRetries+1)
	}
}

func TestRetryAfterTooLongIsNotWaited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail("GET", "commits/*", githubfake.TooManyRequests(time.Hour))
	_, err := e.gh.Commit(t.Context(), "main")
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("got %v", err)
	}
	if len(e.sleep.Waits()) != 0 {
		t.Errorf("waited %v", e.sleep.Waits())
	}
}

func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 3 {
		c, err := e.gh.Commit(t.Context(), "main")
		if err != nil || c.SHA != e.fake.Head("main") {
			t.Fatalf("Commit = %+v, %v", c, err)
		}
	}
	if c, n := e.fake.Counted(), e.fake.NotModified(); c != 1 || n != 2 {
		t.Errorf("%d counted, %d not modified; want 1 and 2", c, n)
	}
	e.fake.AddCommit("main", "new", time.Time{})
	if h, err := e.gh.Head(t.Context()); err != nil || h.Title() != "new" {
		t.Errorf("a change is seen: %+v, %v", h, err)
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithToken("s3cret"))
	for _, apiURL := range []string{fake.URL(), strings.TrimSuffix(fake.URL(), "/") + "/api/v3"} {
		c, err := NewClient("s3cret", apiURL, fake.HTTPClient())
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(fake.URL(), "/") + "/api/v3/"; c.BaseURL.String() != want {
			t.Errorf("NewClient(%q).BaseURL = %s, want %s", apiURL, c.BaseURL, want)
		}
		gh, err := New(c, Config{Owner: fake.Owner(), Repo: fake.Repo()})
		if err != nil {
			t.Fatal(err)
		}
		if h, err := gh.Head(t.Context()); err != nil || h.SHA != fake.Head("main") {
			t.Errorf("Head through %s: %+v, %v", apiURL, h, err)
		}
	}
	for _, r := range fake.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/repos/") || r.Status != http.StatusOK && r.Status != http.StatusNotModified {
			t.Errorf("request %s %s → %d", r.Method, r.Path, r.Status)
		}
	}

	c, err := NewClient("wrong", fake.URL(), fake.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	gh, _ := New(c, Config{Owner: fake.Owner(), Repo: fake.Repo()})
	if _, err := gh.Head(t.Context()); err == nil || !strings.Contains(err.Error(), "bad credentials") {
		t.Errorf("wrong token: %v", err)
	}

	def, err := NewClient("t", "", nil)
	if err != nil || def.BaseURL.String() != DefaultAPIURL {
		t.Errorf("default: %v, %v", def.BaseURL, err)
	}
	if _, err := NewClient("t", "://bad", nil); err == nil {
		t.Error("a bad GITHUB_API_URL was accepted")
	}
}
