package deploy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/trains"
)

// go-github v62 puts most path parameters into URLs as they are
// (Repositories.GetCommit formats "repos/%v/%v/commits/%v") and then
// resolves the path against BaseURL, dot segments included: a ref of
// "../../../victim/private/commits/main" would read another repository
// with trainbot's token. So every path parameter deploy/ passes to go-github
// goes through escapePath, except those go-github escapes itself
// (Git.GetRef and Git.ListMatchingRefs escape each segment;
// Repositories.CompareCommits query-escapes base and head), and every
// request goes through a repoGuard, which refuses whatever would leave the
// repository.

// escapePath escapes a path parameter: each "/"-separated segment through
// url.PathEscape, so that "?", "#", "%", spaces and control characters
// stay in the segment, and a "." or ".." segment as %2E or %2E%2E, so that
// go-github's URL resolution does not collapse it and the guard refuses
// the request instead.
func escapePath(s string) string {
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		switch seg {
		case ".":
			segs[i] = "%2E"
		case "..":
			segs[i] = "%2E%2E"
		default:
			segs[i] = url.PathEscape(seg)
		}
	}
	return strings.Join(segs, "/")
}

// checkSegments refuses a path parameter that go-github escapes itself
// but whose empty, "." or ".." segments it would still let a URL resolver
// collapse (Git.GetRef's ref). what names it for the message.
func checkSegments(what, s string) error {
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%s %q has an empty, \".\" or \"..\" part, so it cannot name anything in the repository; nothing was sent to GitHub: %w",
				what, s, trains.ErrRefused)
		}
	}
	return nil
}

// repoGuard is the RoundTripper New puts above a client's transport: it
// refuses, before anything is sent (and before the token is added), a
// request that is not for the API host or whose path is not under
// /repos/<owner>/<name>/ of the released repository, or has an empty,
// "." or ".." segment once decoded. A redirect is checked too: GitHub
// redirects the API of a renamed repository to /repositories/<id>/.
type repoGuard struct {
	base   http.RoundTripper
	scheme string
	host   string
	prefix string // escaped, e.g. /api/v3/repos/acme/chain/
	repo   string // owner/name, for messages
}

// outsideRepoError is returned for a request that would have left the
// released repository; nothing was sent. It wraps trains.ErrRefused.
type outsideRepoError struct {
	// Method and URL are the refused request's.
	Method, URL string
	// Repo is the released repository, owner/name.
	Repo string
}

// Error says what was refused and what to check.
func (e *outsideRepoError) Error() string {
	return fmt.Sprintf("refused to send %s %s: trainbot only calls GitHub under the repository %s, and this is outside it "+
		"(a ref with a bad part, or a redirect: if %s was renamed or moved, set TRAINBOT_REPO to its new name)", e.Method, e.URL, e.Repo, e.Repo)
}

// Unwrap is trains.ErrRefused: sending it again will not change it.
func (e *outsideRepoError) Unwrap() error { return trains.ErrRefused }

// RoundTrip sends req through the base transport when it is for the
// repository and refuses it otherwise.
func (g *repoGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !g.inside(req.URL) {
		if req.Body != nil {
			req.Body.Close()
		}
		u := *req.URL
		u.RawQuery, u.User = "", nil
		return nil, &outsideRepoError{Method: req.Method, URL: u.String(), Repo: g.repo}
	}
	return g.base.RoundTrip(req)
}

func (g *repoGuard) inside(u *url.URL) bool {
	if u.Scheme != g.scheme || u.Host != g.host || u.User != nil || !strings.HasPrefix(u.EscapedPath(), g.prefix) {
		return false
	}
	for seg := range strings.SplitSeq(strings.TrimPrefix(u.Path, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// guarded returns a copy of client whose requests go through a repoGuard
// for owner/name (the same client otherwise: transport, token, base URLs,
// user agent). owner and name must be single path segments.
func guarded(client *github.Client, owner, name string) *github.Client {
	hc := client.Client() // a copy
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	api := client.BaseURL
	hc.Transport = &repoGuard{
		base:   base,
		scheme: api.Scheme,
		host:   api.Host,
		prefix: api.EscapedPath() + "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/",
		repo:   owner + "/" + name,
	}
	c := github.NewClient(hc)
	c.BaseURL, c.UploadURL, c.UserAgent = client.BaseURL, client.UploadURL, client.UserAgent
	return c
}
