package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry settings of the transport.
const (
	// maxRetries is how many times one request is sent again.
	maxRetries = 5
	// backoffBase and backoffMax bound the exponential backoff.
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
	// secondaryWait is the least wait after a secondary rate limit that
	// names no time (GitHub's docs: "wait at least one minute").
	secondaryWait = time.Minute
	// maxWait is the longest single wait the transport accepts; when
	// GitHub asks for more, the answer is returned as it is and the caller
	// reports when to try again.
	maxWait = 2 * time.Minute
)

// retryTransport sends a request again after answers that say "try
// later": 429 and secondary rate limits for any method (GitHub did not
// carry the request out), and 5xx and network errors for requests that are
// safe to repeat (GET, HEAD). It waits Retry-After when GitHub names it,
// else until X-RateLimit-Reset when the limit is spent, else an
// exponential backoff with jitter. A POST that got a 5xx may have been
// carried out: it is returned as it is, for the caller to check.
//
// It does not retry a spent primary rate limit (403 or 429 with
// X-RateLimit-Remaining: 0 and no secondary-limit message): go-github
// turns that into *github.RateLimitError, which names the reset time.
type retryTransport struct {
	base http.RoundTripper
	o    options
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.base.RoundTrip(r)
		wait, why, retry := t.decide(req, resp, err, attempt)
		if !retry || attempt >= maxRetries || wait > maxWait || !fits(ctx, wait) {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
		t.o.logger.LogAttrs(ctx, slog.LevelWarn, "GitHub request will be retried",
			slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.String("reason", why),
			slog.String("wait", wait.String()), slog.String("attempt", strconv.Itoa(attempt+1)))
		if err := t.o.sleeper(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// fits reports whether a wait of d ends before ctx's deadline.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// rewind makes a copy of req to send again, with a fresh body.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("cannot send the request again: its body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// decide says whether and how long to wait before sending req again.
func (t *retryTransport) decide(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, string, bool) {
	if err != nil {
		if req.Context().Err() != nil || !idempotent(req.Method) {
			return 0, "", false
		}
		return t.backoff(attempt), "network error: " + err.Error(), true
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusForbidden:
		secondary := isSecondary(resp)
		spent := resp.Header.Get("X-RateLimit-Remaining") == "0"
		if !secondary && (code == http.StatusForbidden || spent) {
			return 0, "", false // permission problem or primary limit: not ours to wait out
		}
		if d, ok := retryAfter(resp, t.o.clock.Now()); ok {
			return d + t.jitterUpTo(time.Second), "rate limited (Retry-After)", true
		}
		if d, ok := untilReset(resp, t.o.clock.Now()); ok && spent {
			return d + t.jitterUpTo(time.Second), "rate limited (X-RateLimit-Reset)", true
		}
		if secondary {
			return max(secondaryWait, t.backoff(attempt)), "secondary rate limit", true
		}
		return t.backoff(attempt), "429 Too Many Requests", true
	case code >= 500 && code <= 599 && code != http.StatusNotImplemented:
		if !idempotent(req.Method) {
			return 0, "", false
		}
		if d, ok := retryAfter(resp, t.o.clock.Now()); ok {
			return d, resp.Status, true
		}
		return t.backoff(attempt), resp.Status, true
	}
	return 0, "", false
}

// backoff is the exponential backoff for an attempt, with jitter: between
// half and all of base·2^attempt, at most backoffMax.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 10)
	d = min(d, backoffMax)
	return d/2 + time.Duration(t.o.jitter()*float64(d/2))
}

func (t *retryTransport) jitterUpTo(d time.Duration) time.Duration {
	return time.Duration(t.o.jitter() * float64(d))
}

// isSecondary reports whether a 403 or 429 is a secondary rate limit: by
// the documentation URL (which has changed twice, go-github#2229) or by
// GitHub's message text, which has no other type. The body is left
// readable.
func isSecondary(resp *http.Response) bool {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return false
	}
	var e struct {
		Message string `json:"message"`
		DocURL  string `json:"documentation_url"`
	}
	_ = json.Unmarshal(data, &e)
	return strings.HasSuffix(e.DocURL, "secondary-rate-limits") ||
		strings.HasSuffix(e.DocURL, "#abuse-rate-limits") ||
		strings.Contains(strings.ToLower(e.Message), "secondary rate limit")
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// untilReset reads X-RateLimit-Reset (epoch seconds) as a wait from now.
func untilReset(resp *http.Response, now time.Time) (time.Duration, bool) {
	s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return 0, false
	}
	return max(time.Unix(s, 0).Sub(now), 0) + time.Second, true
}
