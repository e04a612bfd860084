package slackfake

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Fault is an injected failure of a Web API method (or of "response_url"
// posts, or "apps.connections.open").
type Fault struct {
	// Status is the HTTP status; zero means 200. With 429 the fake sets
	// Retry-After from RetryAfter, which slack-go turns into
	// *slack.RateLimitedError.
	Status int
	// RetryAfter is sent as whole seconds, rounded up, on a 429.
	RetryAfter time.Duration
	// Error is the ok:false error code sent with a 200, e.g. "ratelimited",
	// "channel_not_found", "invalid_auth".
	Error string
}

// RateLimited is a 429 with Retry-After.
func RateLimited(retryAfter time.Duration) Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
}

// APIError is an HTTP 200 {"ok":false,"error":code}.
func APIError(code string) Fault { return Fault{Error: code} }

// HTTPStatus is a bare HTTP status with an HTML body, such as 500 or 503.
func HTTPStatus(code int) Fault { return Fault{Status: code} }

type faultRule struct {
	left  int // < 0: forever
	fault Fault
}

// FailNext makes the next n calls of method answer f. A negative n fails
// every call until ClearFaults. Rules queue: after n calls the next rule
// for the method applies.
func (s *Server) FailNext(method string, n int, f Fault) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], &faultRule{left: n, fault: f})
}

// ClearFaults removes every pending fault of method.
func (s *Server) ClearFaults(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, method)
}

// countCall counts a call of method, keeps it waiting while a Hold is in
// force (or until ctx, the request's, ends), then returns the fault to
// answer, if any.
func (s *Server) countCall(ctx context.Context, method string) (Fault, bool) {
	s.mu.Lock()
	s.stats.Calls[method]++
	s.notify()
	s.mu.Unlock()
	s.waitHold(ctx, method)
	s.mu.Lock()
	defer s.mu.Unlock()
	rules := s.faults[method]
	if len(rules) == 0 {
		return Fault{}, false
	}
	r := rules[0]
	if r.left > 0 {
		r.left--
		if r.left == 0 {
			s.faults[method] = rules[1:]
		}
	}
	return r.fault, true
}

// writeFault answers a request with f.
func writeFault(w http.ResponseWriter, f Fault) {
	switch {
	case f.Status == http.StatusTooManyRequests:
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeAPIErrorStatus(w, http.StatusTooManyRequests, "ratelimited")
	case f.Status != 0 && f.Status != http.StatusOK:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><body>" + http.StatusText(f.Status) + "</body></html>"))
	default:
		code := f.Error
		if code == "" {
			code = "fatal_error"
		}
		writeAPIError(w, code, nil)
	}
}
