package deploy

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
)

// rateRecorder keeps the last rate limit WatchRateLimit reported.
type rateRecorder struct {
	mu               sync.Mutex
	calls            int
	resource         string
	remaining, limit int
	reset            time.Time
}

func (r *rateRecorder) observe(resource string, remaining, limit int, reset time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.resource, r.remaining, r.limit, r.reset = resource, remaining, limit, reset
}

func (r *rateRecorder) last() (calls int, resource string, remaining, limit int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, r.resource, r.remaining, r.limit
}

// WatchRateLimit, below trainbot's own transport (as serve wires it),
// reports the X-RateLimit headers of each response GitHub sends: the fake
// counts its requests down from 5000.
func TestWatchRateLimitReportsTheHeaders(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t)
	gh.AddCommits("main", 1)
	rec := &rateRecorder{}
	c, err := NewClient("test-token", gh.URL(), &http.Client{Transport: WatchRateLimit(gh.HTTPClient().Transport, rec.observe)})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := c.Git.GetRef(t.Context(), gh.Owner(), gh.Repo(), "heads/main"); err != nil {
			t.Fatal(err)
		}
	}
	calls, resource, remaining, limit := rec.last()
	sent := len(gh.Requests())
	if calls != sent || resource != "core" || limit != 5000 || remaining != 5000-sent {
		t.Errorf("after %d requests: %d reports, last %s %d of %d; want %d reports, core %d of 5000",
			sent, calls, resource, remaining, limit, sent, 5000-sent)
	}
}

// A primary rate limit refusal is reported too: remaining 0. A response
// without the headers reports nothing.
func TestWatchRateLimitReportsExhaustion(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t)
	gh.AddCommits("main", 1)
	rec := &rateRecorder{}
	c := gh.Point(github.NewClient(&http.Client{Transport: WatchRateLimit(gh.HTTPClient().Transport, rec.observe)}))
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	gh.Fail(http.MethodGet, "git/ref/*", githubfake.PrimaryRateLimit(reset))
	_, _, err := c.Git.GetRef(t.Context(), gh.Owner(), gh.Repo(), "heads/main")
	if _, ok := errors.AsType[*github.RateLimitError](err); !ok {
		t.Fatalf("err = %v, want a *github.RateLimitError", err)
	}
	if calls, resource, remaining, limit := rec.last(); calls != 1 || resource != "core" || remaining != 0 || limit != 5000 {
		t.Errorf("after a rate limit refusal: %d reports, last %s %d of %d; want 1 report, core 0 of 5000", calls, resource, remaining, limit)
	}
	if rec.reset != reset {
		t.Errorf("reset = %s, want %s", rec.reset, reset)
	}

	bare := &rateRecorder{}
	rt := WatchRateLimit(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Remaining": {"x"}}, Body: http.NoBody}, nil
	}), bare.observe)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://example.invalid/", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if calls, _, _, _ := bare.last(); calls != 0 {
		t.Errorf("a response without a readable rate limit was reported %d times", calls)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
