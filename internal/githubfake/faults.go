package githubfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecondaryRateLimitDoc is the documentation URL GitHub sends with a
// secondary rate limit, which go-github recognises by its suffix.
const SecondaryRateLimitDoc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// Fault is an error answer Fail queues for a route.
type Fault struct {
	Status  int
	Message string
	// DocURL is the documentation_url of the error body.
	DocURL string
	// RetryAfter, when above zero, is sent as a Retry-After header in
	// whole seconds.
	RetryAfter time.Duration
	// RateLimitReset, when not zero, is sent as X-RateLimit-Reset with
	// X-RateLimit-Remaining: 0 (the primary rate limit is spent).
	RateLimitReset time.Time
	// AfterApply makes the fake carry the request out before answering
	// with the fault: a 5xx that still created the ref.
	AfterApply bool
}

// Applied returns a copy of the fault that is answered after the request
// was carried out.
func (f Fault) Applied() Fault { f.AfterApply = true; return f }

// ServerError is a 500 Internal Server Error.
func ServerError() Fault {
	return Fault{Status: http.StatusInternalServerError, Message: "Server Error"}
}

// BadGateway is a 502, as GitHub's front end answers when a backend is slow.
func BadGateway() Fault { return Fault{Status: http.StatusBadGateway, Message: "Server Error"} }

// SecondaryRateLimit is a 403 secondary rate limit with a Retry-After of
// retryAfter (none when zero).
func SecondaryRateLimit(retryAfter time.Duration) Fault {
	return Fault{
		Status:     http.StatusForbidden,
		Message:    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
		DocURL:     SecondaryRateLimitDoc,
		RetryAfter: retryAfter,
	}
}

// TooManyRequests is a 429 with a Retry-After of retryAfter (none when zero).
func TooManyRequests(retryAfter time.Duration) Fault {
	return Fault{Status: http.StatusTooManyRequests, Message: "Too Many Requests", RetryAfter: retryAfter}
}

// PrimaryRateLimit is a 403 with X-RateLimit-Remaining: 0 resetting at reset.
func PrimaryRateLimit(reset time.Time) Fault {
	return Fault{
		Status:         http.StatusForbidden,
		Message:        "API rate limit exceeded for user ID 1.",
		DocURL:         "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
		RateLimitReset: reset,
	}
}

// Unprocessable is a 422 with message, e.g. "Reference already exists".
func Unprocessable(message string) Fault {
	return Fault{Status: http.StatusUnprocessableEntity, Message: message}
}

// Forbidden is a 403 as a token without the needed permission gets it.
func Forbidden() Fault {
	return Fault{Status: http.StatusForbidden, Message: "Resource not accessible by integration"}
}

// Unauthorized is a 401 Bad credentials.
func Unauthorized() Fault { return Fault{Status: http.StatusUnauthorized, Message: "Bad credentials"} }

type queuedFault struct {
	method string
	route  string
	fault  Fault
}

// Fail queues faults for requests with method (any when "") whose route —
// the path below /repos/{owner}/{repo}/, or for an installation token
// app/installations/{installation_id}/access_tokens — is route, or starts
// with it when route ends in "*". Each matching request takes the next fault;
// once they are used up the route behaves normally again.
func (f *Fake) Fail(method, route string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fl := range faults {
		f.faults = append(f.faults, &queuedFault{method: method, route: route, fault: fl})
	}
}

// PendingFaults returns how many queued faults were not used yet.
func (f *Fake) PendingFaults() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.faults)
}

func (f *Fake) takeFault(method, route string) *Fault {
	for i, q := range f.faults {
		if q.method != "" && q.method != method {
			continue
		}
		if p, ok := strings.CutSuffix(q.route, "*"); ok && !strings.HasPrefix(route, p) || !ok && q.route != route {
			continue
		}
		f.faults = append(f.faults[:i], f.faults[i+1:]...)
		return &q.fault
	}
	return nil
}

func (fl *Fault) write(w http.ResponseWriter) {
	h := w.Header()
	if fl.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((fl.RetryAfter+time.Second-1)/time.Second)))
	}
	if !fl.RateLimitReset.IsZero() {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", h.Get("X-RateLimit-Limit"))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(fl.RateLimitReset.Unix(), 10))
	}
	doc := fl.DocURL
	if doc == "" {
		doc = "https://docs.github.com/rest"
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(fl.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"message":           fl.Message,
		"documentation_url": doc,
		"status":            strconv.Itoa(fl.Status),
	})
}
