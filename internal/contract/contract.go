// Package contract holds the test servers to the vendors' own API
// descriptions: an exchange with internal/githubfake — the request trainbot
// sent and the answer the fake gave — is checked against GitHub's OpenAPI
// description of its REST API (spec/github-rest-subset.json), and one with
// internal/slackfake's Web API against Slack's (spec/slack_web_openapi_v2.json,
// see Slack), with github.com/getkin/kin-openapi.
//
// GitHub loads the description once per test binary; Validator.Check
// routes an exchange to its operation and validates the request
// (parameters and body) and the answer (status, headers and body), leaving
// out what the Quirks list says GitHub's description gets wrong or leaves
// unsaid. Everything else that does not match is an error that names the
// method, the path and each mismatch with its JSON pointer.
package contract

import (
	"bytes"
	"context"
	_ "embed" // the description is embedded so a test needs no file path
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed spec/github-rest-subset.json
var githubSpec []byte

// githubHost is the host the description's one server names; requests
// are rewritten to it before routing.
const githubHost = "api.github.com"

// Exchange is one request and the answer given to it.
type Exchange struct {
	// Method is the request's method, e.g. GET.
	Method string
	// Path is the request's path as sent, escaped (url.URL.EscapedPath),
	// with or without the /api/v3 prefix of GitHub Enterprise.
	Path string
	// Query is the raw query, without "?".
	Query string
	// Header is the request's headers.
	Header http.Header
	// Body is the request's body (nil when there is none).
	Body []byte
	// Status is the answer's status code.
	Status int
	// ResponseHeader is the answer's headers.
	ResponseHeader http.Header
	// ResponseBody is the answer's body.
	ResponseBody []byte
	// Allow lists mismatches the caller knows of and accepts for this one
	// exchange — a deviation of a fake that it documents — each a
	// substring of the problem line (e.g. `at /user/id:`). No fake uses
	// it today.
	Allow []string
}

// Quirk is one known way in which GitHub's description and GitHub itself
// (or trainbot's fake of it, on purpose) differ: exchanges it covers are
// not reported.
type Quirk struct {
	// Name says what the quirk is, in a few words.
	Name string
	// Why says why it is expected rather than a finding.
	Why string
}

// Quirks lists every way an exchange may differ from GitHub's
// description without failing the check. Each is applied in Check; keep
// this list and the code in step (and docs/contracts.md with them).
var Quirks = []Quirk{
	{
		Name: "multi-segment path parameters",
		Why: "ref, branch, commit_sha, basehead and contents path parameters carry '/' (x-multi-segment: " +
			"git/ref/tags/v1.2.0, compare/a...b/c); the '/' in them is escaped before routing",
	},
	{
		Name: "created query parameter",
		Why: "GET actions/workflows/{id}/runs and actions/runs type `created` as a date-time, " +
			"but GitHub takes its search syntax (>=2026-01-02T03:04:05Z, a..b); errors on it are ignored",
	},
	{
		Name: "unlisted error statuses",
		Why: "GitHub answers any operation with 401, 403 and 429 (rate limits), 5xx, and some 404/409/422 " +
			"that the operation does not list; such an answer is checked against basic-error instead",
	},
	{
		Name: "ambiguous error schemas",
		Why: "some operations list an error status (PUT contents' 409) as oneOf two schemas that a " +
			"basic error matches both of; that ambiguity alone is not reported",
	},
	{
		Name: "304 Not Modified",
		Why: "every GET answers a matching If-None-Match with 304 and no body, listed for few operations; " +
			"its (empty) body is not checked",
	},
	{
		Name: "routes not in the subset",
		Why: "GET /repos/{owner}/{repo}/branches (list branches) is served by the fake but not in the " +
			"pruned description; add it to spec/prune_github.py's keep list when refreshing",
	},
	{
		Name: "authentication",
		Why:  "security requirements are not checked: the fake decides about tokens itself (WithToken)",
	},
}

// unlistedRoutes are the method and path templates (below
// /repos/{owner}/{repo}/) of the "routes not in the subset" quirk.
var unlistedRoutes = map[string]bool{
	"GET branches": true,
}

// Validator checks exchanges against one API description.
type Validator struct {
	doc        *openapi3.T
	router     routers.Router
	multi      [][]string // path templates, split, whose last segment is an x-multi-segment parameter
	basicError *openapi3.Schema
}

var (
	githubOnce sync.Once
	githubVal  *Validator
	githubErr  error
)

// GitHub returns the validator for GitHub's REST description, loaded once
// per process (about 0.1 s) and safe for concurrent use.
func GitHub() (*Validator, error) {
	githubOnce.Do(func() { githubVal, githubErr = load(githubSpec) })
	return githubVal, githubErr
}

func load(spec []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("contract: load GitHub description: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: route GitHub description: %w", err)
	}
	v := &Validator{doc: doc, router: router}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
		last := segs[len(segs)-1]
		if !strings.HasPrefix(last, "{") {
			continue
		}
		name := strings.Trim(last, "{}")
		if isMultiSegment(item, name) {
			v.multi = append(v.multi, segs)
		}
	}
	if s := doc.Components.Schemas["basic-error"]; s != nil {
		v.basicError = s.Value
	}
	return v, nil
}

// isMultiSegment reports whether the path parameter name of any of item's
// operations carries x-multi-segment.
func isMultiSegment(item *openapi3.PathItem, name string) bool {
	params := append(openapi3.Parameters(nil), item.Parameters...)
	for _, op := range item.Operations() {
		params = append(params, op.Parameters...)
	}
	for _, p := range params {
		if p.Value == nil || p.Value.In != openapi3.ParameterInPath || p.Value.Name != name {
			continue
		}
		if b, ok := p.Value.Extensions["x-multi-segment"].(bool); ok && b {
			return true
		}
	}
	return false
}

// Check validates ex against the description and returns nil when it
// matches (or differs only as the Quirks allow), or an error naming the
// method, the path and every mismatch.
func (v *Validator) Check(ex Exchange) error {
	path := strings.TrimPrefix(ex.Path, "/api/v3")
	req, route, params, err := v.find(ex, path)
	if err != nil {
		if tmpl := repoRoute(path); tmpl != "" && unlistedRoutes[ex.Method+" "+tmpl] {
			return nil
		}
		return fmt.Errorf("%s %s: no operation in GitHub's description: %v", ex.Method, path, err)
	}
	opts := &openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var problems []string
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		problems = append(problems, describe("request", err)...)
	}
	problems = append(problems, v.checkResponse(in, ex)...)
	problems = slices.DeleteFunc(problems, func(p string) bool {
		return slices.ContainsFunc(ex.Allow, func(a string) bool { return strings.Contains(p, a) })
	})
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s → %d does not match GitHub's description (%s %s):\n\t%s",
		ex.Method, path, ex.Status, route.Method, route.Path, strings.Join(problems, "\n\t"))
}

// find routes the exchange, escaping '/' in a trailing multi-segment path
// parameter when the path as sent matches no operation.
func (v *Validator) find(ex Exchange, path string) (*http.Request, *routers.Route, map[string]string, error) {
	try := func(p string) (*http.Request, *routers.Route, map[string]string, error) {
		u := "https://" + githubHost + p
		if ex.Query != "" {
			u += "?" + ex.Query
		}
		req, err := http.NewRequest(ex.Method, u, bytes.NewReader(ex.Body))
		if err != nil {
			return nil, nil, nil, err
		}
		for k, vs := range ex.Header {
			req.Header[k] = append([]string(nil), vs...)
		}
		route, params, err := v.router.FindRoute(req)
		return req, route, params, err
	}
	req, route, params, err := try(path)
	if err == nil {
		return req, route, params, nil
	}
	if escaped, ok := v.escapeMulti(path); ok {
		if req, route, params, err2 := try(escaped); err2 == nil {
			return req, route, params, nil
		}
	}
	return nil, nil, nil, err
}

// escapeMulti escapes '/' in the part of path that a trailing
// multi-segment parameter of some operation covers.
func (v *Validator) escapeMulti(path string) (string, bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, tmpl := range v.multi {
		n := len(tmpl) - 1
		if len(segs) <= len(tmpl) {
			continue
		}
		match := true
		for i := 0; i < n; i++ {
			if !strings.HasPrefix(tmpl[i], "{") && tmpl[i] != segs[i] {
				match = false
				break
			}
		}
		if match {
			return "/" + strings.Join(segs[:n], "/") + "/" + strings.Join(segs[n:], "%2F"), true
		}
	}
	return "", false
}

// repoRoute returns path below /repos/{owner}/{repo}/, or "".
func repoRoute(path string) string {
	segs := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(segs) < 4 || segs[0] != "repos" {
		return ""
	}
	return segs[3]
}

func (v *Validator) checkResponse(in *openapi3filter.RequestValidationInput, ex Exchange) []string {
	if ex.Status == http.StatusNotModified {
		return nil // quirk "304 Not Modified"
	}
	op := in.Route.Operation
	listed := op.Responses.Status(ex.Status) != nil
	if !listed && ex.Status >= 400 {
		return v.checkError(ex) // quirk "unlisted error statuses"
	}
	if !listed && op.Responses.Default() == nil {
		return []string{fmt.Sprintf("answer: status %d is not listed (listed: %s)", ex.Status, listedStatuses(op))}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 ex.Status,
		Header:                 ex.ResponseHeader,
		Body:                   io.NopCloser(bytes.NewReader(ex.ResponseBody)),
		Options:                in.Options,
	}
	err := openapi3filter.ValidateResponse(context.Background(), rin)
	if err == nil {
		return nil
	}
	problems := describe("answer", err)
	if ex.Status >= 400 {
		// Quirk "ambiguous error schemas": several operations list an
		// error status as oneOf two schemas that a basic error matches
		// both of.
		kept := problems[:0]
		for _, p := range problems {
			if !strings.Contains(p, `matches more than one schema from "oneOf"`) {
				kept = append(kept, p)
			}
		}
		problems = kept
	}
	return problems
}

// checkError checks an error answer whose status the operation does not
// list against GitHub's basic-error schema.
func (v *Validator) checkError(ex Exchange) []string {
	if v.basicError == nil || len(ex.ResponseBody) == 0 {
		return nil
	}
	var body any
	if err := json.Unmarshal(ex.ResponseBody, &body); err != nil {
		return []string{fmt.Sprintf("answer: error body is not JSON: %v", err)}
	}
	if err := v.basicError.VisitJSON(body, openapi3.MultiErrors()); err != nil {
		return describe("answer (as basic-error)", err)
	}
	return nil
}

func listedStatuses(op *openapi3.Operation) string {
	var s []string
	for code := range op.Responses.Map() {
		s = append(s, code)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// describe flattens a validation error into one line per mismatch, each
// naming where (JSON pointer, parameter) and why, leaving out the quirks.
func describe(what string, err error) []string {
	var out []string
	var walk func(prefix string, err error)
	walk = func(prefix string, err error) {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, e := range e {
				walk(prefix, e)
			}
		case *openapi3filter.RequestError:
			p := e.Parameter
			if p != nil && p.In == openapi3.ParameterInQuery && p.Name == "created" {
				return // quirk "created query parameter"
			}
			where := prefix
			switch {
			case p != nil:
				where += fmt.Sprintf(" %s parameter %q", p.In, p.Name)
			case e.RequestBody != nil:
				where += " body"
			}
			if e.Err == nil {
				out = append(out, where+": "+e.Reason)
				return
			}
			walk(where, e.Err)
		case *openapi3filter.ResponseError:
			if e.Err == nil {
				out = append(out, prefix+": "+e.Reason)
				return
			}
			switch e.Err.(type) {
			case *openapi3.SchemaError, openapi3.MultiError:
				walk(prefix, e.Err)
			default:
				out = append(out, prefix+": "+e.Reason+": "+e.Err.Error())
			}
		case *openapi3.SchemaError:
			ptr := "/" + strings.Join(e.JSONPointer(), "/")
			out = append(out, fmt.Sprintf("%s at %s: %s", prefix, ptr, e.Reason))
			// For a value that matches no alternative, say why it fails
			// each: kin-openapi does not for anyOf.
			if e.Schema == nil || !strings.Contains(e.Reason, "doesn't match any schema") {
				return
			}
			alts, kind := e.Schema.OneOf, "oneOf"
			if strings.Contains(e.Reason, "anyOf") {
				alts, kind = e.Schema.AnyOf, "anyOf"
			}
			for i, alt := range alts {
				if alt.Value == nil {
					continue
				}
				name := alt.Ref[strings.LastIndex(alt.Ref, "/")+1:]
				if sub := alt.Value.VisitJSON(e.Value, openapi3.MultiErrors()); sub != nil {
					before := len(out)
					walk(fmt.Sprintf("%s, as %s #%d %s,", prefix, kind, i, name), sub)
					// The alternative's pointers are relative to the value.
					for j := before; j < len(out); j++ {
						out[j] = strings.Replace(out[j], ", at /", " at "+strings.TrimSuffix(ptr, "/")+"/", 1)
					}
				}
			}
		default:
			if inner := errors.Unwrap(err); inner != nil && prefix != what {
				walk(prefix, inner)
				return
			}
			out = append(out, prefix+": "+err.Error())
		}
	}
	walk(what, err)
	return out
}
