package deploy

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-github/v62/github"
)

// DefaultAPIURL is GitHub.com's REST base URL.
const DefaultAPIURL = "https://api.github.com/"

// NewTransport returns the RoundTripper trainbot puts below go-github, on
// top of base (http.DefaultTransport when nil):
//
//   - conditional requests: every GET with an ETag is remembered (per URL
//     and token, the newest 256) and asked again with If-None-Match,
//     except for objects that never change (tag objects, commits by
//     full sha), which the Repo remembers itself; a 304
//     Not Modified, which GitHub does not count against the rate limit, is
//     answered from the remembered body;
//   - retries with exponential backoff and jitter on 429 and secondary
//     rate limits (any method: GitHub did not carry them out), and on 5xx
//     and network errors for GET and HEAD only, honouring Retry-After and
//     X-RateLimit-Reset. A POST that got a 5xx is returned as it is: it may
//     have been carried out, and only the caller knows how to check.
//
// Because the retries happen below go-github, go-github never sees a
// secondary rate limit that was waited out, and so never blocks later
// calls on its own wall-clock state.
func NewTransport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	o := buildOptions(opts)
	return &etagTransport{
		base:    &retryTransport{base: base, o: o},
		entries: map[string]*list.Element{},
		lru:     list.New(),
		max:     256,
	}
}

// NewClient builds the go-github client trainbot uses: httpClient (a new
// one when nil) with NewTransport below it, authenticated with token, and
// pointed at apiURL when that is not GitHub.com (GITHUB_API_URL). For
// GitHub Enterprise Server, go-github's WithEnterpriseURLs adds "api/v3/"
// to the URL unless it already ends so or its host starts with "api."
// (GHE.com): so both https://ghe.example.com/ and
// https://ghe.example.com/api/v3 work.
func NewClient(token, apiURL string, httpClient *http.Client, opts ...Option) (*github.Client, error) {
	hc := &http.Client{}
	if httpClient != nil {
		c := *httpClient
		hc = &c
	}
	hc.Transport = NewTransport(hc.Transport, opts...)
	c := github.NewClient(hc)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	return pointAt(c, apiURL)
}

// pointAt points c at apiURL (GITHUB_API_URL) when that is not GitHub.com.
func pointAt(c *github.Client, apiURL string) (*github.Client, error) {
	if apiURL == "" || strings.TrimSuffix(apiURL, "/") == strings.TrimSuffix(DefaultAPIURL, "/") {
		return c, nil
	}
	c, err := c.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		// Neither the value nor err (url.Parse quotes its input) is shown:
		// a URL given by mistake may hold a token.
		return nil, errors.New("GITHUB_API_URL does not parse as a URL (not shown, as it may hold a token): write it as https://HOST/api/v3/")
	}
	return c, nil
}

// etagTransport makes GETs conditional and answers 304s from memory.
type etagTransport struct {
	base http.RoundTripper

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List
	max     int
}

type etagEntry struct {
	key    string
	etag   string
	header http.Header
	body   []byte
}

// maxCachedBody is the largest body remembered.
const maxCachedBody = 4 << 20

// cacheKey is the URL plus a hash of what makes the answer differ: the
// token (ETags are per token, github/docs#34689) and the media type.
func cacheKey(req *http.Request) string {
	h := sha256.Sum256([]byte(req.Header.Get("Authorization") + "\x00" + req.Header.Get("Accept")))
	return req.URL.String() + "#" + hex.EncodeToString(h[:8])
}

// immutable reports whether a GET asks for an object that never changes:
// a tag object (git/tags/{sha}) or a commit named by its full sha
// (commits/{sha}, git/commits/{sha}). The Repo remembers what it needs of
// those itself; kept here they would push out the listings and polls
// whose 304s are what the cache is for.
func immutable(path string) bool {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return false
	}
	dir, last := path[:i], path[i+1:]
	if strings.HasSuffix(dir, "/git/tags") {
		return true
	}
	if !strings.HasSuffix(dir, "/commits") || len(last) != 40 {
		return false
	}
	for _, c := range last {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (t *etagTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" || req.Header.Get("Range") != "" || immutable(req.URL.Path) {
		return t.base.RoundTrip(req)
	}
	key := cacheKey(req)
	cached := t.get(key)
	r := req
	if cached != nil {
		r = req.Clone(req.Context())
		r.Header.Set("If-None-Match", cached.etag)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h := cached.header.Clone()
		// Fresh rate-limit headers tell go-github the current quota.
		for k, v := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-ratelimit-") {
				h[k] = v
			}
		}
		return &http.Response{
			Status:        "200 OK",
			StatusCode:    http.StatusOK,
			Proto:         resp.Proto,
			ProtoMajor:    resp.ProtoMajor,
			ProtoMinor:    resp.ProtoMinor,
			Header:        h,
			Body:          io.NopCloser(bytes.NewReader(cached.body)),
			ContentLength: int64(len(cached.body)),
			Request:       req,
		}, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
		rest := resp.Body
		if err != nil || len(body) > maxCachedBody {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), rest), rest}
			return resp, nil
		}
		rest.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		t.put(&etagEntry{key: key, etag: resp.Header.Get("ETag"), header: resp.Header.Clone(), body: body})
	}
	return resp, nil
}

func (t *etagTransport) get(key string) *etagEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.entries[key]
	if !ok {
		return nil
	}
	t.lru.MoveToFront(el)
	return el.Value.(*etagEntry)
}

func (t *etagTransport) put(e *etagEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[e.key]; ok {
		el.Value = e
		t.lru.MoveToFront(el)
		return
	}
	t.entries[e.key] = t.lru.PushFront(e)
	for t.lru.Len() > t.max {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.entries, old.Value.(*etagEntry).key)
	}
}

// itoa is strconv.Itoa for int64 ids in messages.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
