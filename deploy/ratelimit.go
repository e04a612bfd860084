package deploy

import (
	"net/http"
	"strconv"
	"time"
)

// RateLimitObserver is told GitHub's rate limit after each response that
// states it: the resource it applies to ("core", "graphql", "search" …;
// "core" when the response does not say), the requests remaining in the
// window, the window's limit, and when the window resets (zero when the
// response does not say). bot.Metrics.GitHubRateLimit is one.
type RateLimitObserver func(resource string, remaining, limit int, reset time.Time)

// WatchRateLimit returns a RoundTripper that passes each request to base
// (http.DefaultTransport when nil) and tells observe the rate limit of
// each response that carries X-RateLimit-Remaining and X-RateLimit-Limit,
// with X-RateLimit-Reset when given (see
// https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#checking-the-status-of-your-rate-limit).
// Put it below NewTransport's conditional requests and retries, so that it
// sees every response GitHub sends, 304s and rate-limit refusals included.
func WatchRateLimit(base http.RoundTripper, observe RateLimitObserver) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return rateLimitTransport{base: base, observe: observe}
}

type rateLimitTransport struct {
	base    http.RoundTripper
	observe RateLimitObserver
}

func (t rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || t.observe == nil {
		return resp, err
	}
	remaining, err1 := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	limit, err2 := strconv.Atoi(resp.Header.Get("X-RateLimit-Limit"))
	if err1 != nil || err2 != nil || remaining < 0 || limit <= 0 {
		return resp, nil // not stated, or not as GitHub states it
	}
	resource := resp.Header.Get("X-RateLimit-Resource")
	if resource == "" {
		resource = "core"
	}
	var reset time.Time
	if sec, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && sec > 0 {
		reset = time.Unix(sec, 0)
	}
	t.observe(resource, remaining, limit, reset)
	return resp, nil
}
