package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// apiError is an error from GitHub told in plain words. It unwraps to the
// go-github error (errors.As finds *github.ErrorResponse,
// *github.RateLimitError, …), for a missing thing to trains.ErrNotFound, and
// for a refusal that retrying will not change (401, 403, 404 on a write,
// 422) to trains.ErrRefused.
type apiError struct {
	msg  string
	errs []error
}

func (e *apiError) Error() string   { return e.msg }
func (e *apiError) Unwrap() []error { return e.errs }

// access says what an operation needs, for messages.
type access struct {
	// write is true for a change (tag, dispatch, review).
	write bool
	// perm is the fine-grained token permission it needs, e.g.
	// "contents:write".
	perm string
}

var (
	readContents  = access{perm: "contents:read"}
	writeContents = access{write: true, perm: "contents:write"}
	readActions   = access{perm: "actions:read"}
	writeActions  = access{write: true, perm: "actions:write"}
	reviewDeploys = access{write: true, perm: "actions:read and deployments:write, and its user must be a required reviewer of the environment"}
)

// status returns the HTTP status of a go-github error, 0 when there is none.
func status(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// message returns GitHub's error message, "" when there is none.
func message(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Message
	}
	return ""
}

// explain tells err in plain words: what failed (op, e.g. "create tag
// v0.5.0-dev.4 on 1a2b3c4"), why, and what to check. repo is owner/name.
func explain(op, repo string, a access, now time.Time, err error) error {
	if err == nil {
		return nil
	}
	wrap := func(format string, args ...any) error {
		return &apiError{msg: fmt.Sprintf(format, args...), errs: []error{err}}
	}
	// refuse is for answers that retrying will not change.
	refuse := func(format string, args ...any) error {
		return &apiError{msg: fmt.Sprintf(format, args...), errs: []error{err, trains.ErrRefused}}
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	var out *outsideRepoError
	var app *AppAuthError
	switch {
	case errors.As(err, &app) && app.Refused():
		return refuse("could not %s: %v", op, app)
	case errors.As(err, &app):
		return wrap("could not %s: %v", op, app)
	case errors.As(err, &out):
		return &apiError{msg: fmt.Sprintf("could not %s: %v", op, out), errs: []error{err}}
	case errors.As(err, &rl):
		reset := rl.Rate.Reset.Time
		return wrap("could not %s: GitHub's API rate limit for this token is spent (%d requests an hour); it resets at %s (in %s)",
			op, rl.Rate.Limit, reset.UTC().Format("15:04:05 UTC"), max(reset.Sub(now), 0).Round(time.Second))
	case errors.As(err, &ab):
		after := "a few minutes"
		if ab.RetryAfter != nil && *ab.RetryAfter > 0 {
			after = ab.RetryAfter.Round(time.Second).String()
		}
		return wrap("could not %s: GitHub's secondary rate limit still applied after waiting and retrying; try again in %s", op, after)
	case errors.Is(err, context.DeadlineExceeded):
		return wrap("could not %s: GitHub did not answer in time; check https://www.githubstatus.com and the network to %s", op, "GitHub")
	case errors.Is(err, context.Canceled):
		return wrap("could not %s: cancelled", op)
	}
	code := status(err)
	msg := message(err)
	switch {
	case code == http.StatusUnauthorized && installationToken(err):
		return refuse("could not %s: GitHub says bad credentials for the GitHub App's installation token: the app may have been uninstalled or suspended, or this machine's clock is far from GitHub's (tokens are renewed by it); check the installation and the clock", op)
	case code == http.StatusUnauthorized:
		return refuse("could not %s: GitHub says bad credentials: GITHUB_TOKEN is wrong, expired or revoked", op)
	case code == http.StatusForbidden && a.write:
		return refuse("GitHub refused to %s: the token lacks %s on %s (HTTP 403: %s)", op, a.perm, repo, msg)
	case code == http.StatusForbidden:
		return refuse("could not %s: the token may not read %s; it needs %s (HTTP 403: %s)", op, repo, a.perm, msg)
	case code == http.StatusNotFound && a.write:
		return refuse("GitHub refused to %s: %s or what it names was not found, or the token lacks %s (GitHub answers 404 then)", op, repo, a.perm)
	case code == http.StatusNotFound:
		return &apiError{msg: fmt.Sprintf("could not %s: not found in %s", op, repo), errs: []error{err, trains.ErrNotFound}}
	case code == http.StatusTooManyRequests:
		return wrap("could not %s: GitHub is rate limiting this token (HTTP 429) even after waiting and retrying; try again in a few minutes", op)
	case code == http.StatusUnprocessableEntity:
		return refuse("GitHub refused to %s: %s", op, msg)
	case code >= 500:
		return wrap("could not %s: GitHub answered HTTP %d even after retrying; check https://www.githubstatus.com and try again", op, code)
	case code != 0:
		return wrap("could not %s: GitHub answered HTTP %d: %s", op, code, msg)
	}
	return wrap("could not %s: %v", op, strings.TrimSpace(err.Error()))
}

// ambiguous reports whether a failed write may still have been carried
// out: a 5xx, a timeout, a network error (PROTOCOLS pitfall 9).
func ambiguous(err error) bool {
	if err == nil {
		return false
	}
	if c := status(err); c != 0 {
		return c >= 500
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) || errors.Is(err, context.Canceled) || errors.Is(err, trains.ErrRefused) {
		return false
	}
	return true // timeout or network error: the request may have arrived
}
