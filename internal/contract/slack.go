package contract

import (
	"bytes"
	"context"
	_ "embed" // the description is embedded so a test needs no file path
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed spec/slack_web_openapi_v2.json
var slackSpec []byte

// SlackQuirks lists every way an exchange with the Slack Web API may
// differ from Slack's description without failing SlackValidator.Check.
var SlackQuirks = []Quirk{
	{Name: "items lists", Why: "about 30 schemas use items: [...], which Swagger 2.0 does not allow; read as any item"},
	{Name: "users.info's user", Why: "objs_user lists the plain and the enterprise user as items: [...]; rather than any item, a user is checked as the plain one"},
	{Name: "type lists", Why: "type: [..] needs OpenAPI 3.1; such a schema is read as any type"},
	{Name: "token parameter", Why: "listed as required, while slack-go sends Authorization: Bearer; errors on it are ignored"},
	{Name: "POST to GET-only methods", Why: "auth.test, usergroups.users.list and users.info are listed as GET only, though POST works; a POST is checked as that GET with its form as the query"},
	{Name: "apps.connections.open", Why: "Socket Mode's method is missing from the description; not checked"},
	{Name: "errors are HTTP 200 with ok:false", Why: "such an answer is checked against the method's default (error) response"},
	{Name: "closed success schemas", Why: "the 2020 description closes answers with additionalProperties: false; " +
		"Slack has added fields since (a message's app_id, …): an unlisted property is not reported"},
	{Name: "error codes", Why: "each method's enum of error codes is incomplete (unknown_method, missing_scope, " +
		"internal_error, ratelimited — spelled rate_limited here — …): the error answer's shape is checked, its code is not"},
	{Name: "chat.update's message.blocks", Why: "typed as an object, though it is an array of blocks; errors under /message/blocks are ignored"},
}

// SlackValidator checks exchanges against Slack's Web API description.
type SlackValidator struct {
	router routers.Router
	ids    map[string]slackID // by definition name: defs_user_id, defs_channel, …
}

// slackID is one of the description's id definitions.
type slackID struct {
	title string
	re    *regexp.Regexp
}

var (
	slackOnce sync.Once
	slackVal  *SlackValidator
	slackErr  error
)

// Slack returns the validator for Slack's Web API description, loaded and
// converted to OpenAPI 3 once per process (about 0.2 s).
func Slack() (*SlackValidator, error) {
	slackOnce.Do(func() { slackVal, slackErr = loadSlack(slackSpec) })
	return slackVal, slackErr
}

// fixSlack rewrites what Swagger 2.0 (and kin-openapi) cannot read: the
// quirks "items lists" and "type lists".
func fixSlack(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if _, list := e.([]any); list && (k == "items" || k == "type") {
				if k == "items" {
					x[k] = map[string]any{}
				} else {
					delete(x, k)
				}
				continue
			}
			fixSlack(e)
		}
	case []any:
		for _, e := range x {
			fixSlack(e)
		}
	}
}

// plainUser makes objs_user the first of the user objects it lists (the
// plain, not the enterprise, user): the quirk "users.info's user", so that
// users.info's answer is checked rather than read as any item.
func plainUser(raw any) {
	doc, _ := raw.(map[string]any)
	defs, _ := doc["definitions"].(map[string]any)
	user, _ := defs["objs_user"].(map[string]any)
	if variants, ok := user["items"].([]any); ok && len(variants) > 0 {
		defs["objs_user"] = variants[0]
	}
}

func loadSlack(spec []byte) (*SlackValidator, error) {
	var raw any
	if err := json.Unmarshal(spec, &raw); err != nil {
		return nil, fmt.Errorf("contract: read Slack description: %w", err)
	}
	plainUser(raw)
	fixSlack(raw)
	fixed, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var d2 openapi2.T
	if err := json.Unmarshal(fixed, &d2); err != nil {
		return nil, fmt.Errorf("contract: read Slack description: %w", err)
	}
	doc, err := openapi2conv.ToV3(&d2)
	if err != nil {
		return nil, fmt.Errorf("contract: convert Slack description: %w", err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("contract: resolve Slack description: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: route Slack description: %w", err)
	}
	ids := map[string]slackID{}
	for name, ref := range doc.Components.Schemas {
		if !strings.HasPrefix(name, "defs_") || ref.Value == nil || ref.Value.Pattern == "" {
			continue
		}
		re, err := regexp.Compile(ref.Value.Pattern)
		if err != nil {
			return nil, fmt.Errorf("contract: Slack description's %s: %w", name, err)
		}
		ids[name] = slackID{title: ref.Value.Title, re: re}
	}
	return &SlackValidator{router: router, ids: ids}, nil
}

// CheckID checks id against the pattern Slack's description gives the id
// definition def (defs_user_id, defs_channel, defs_subteam_id, …), for ids
// that reach trainbot by no checked answer (Socket Mode payloads, users.info's
// user, whose schema is one of the "items lists"). The error names the id,
// the definition and its pattern.
func (v *SlackValidator) CheckID(def, id string) error {
	d, ok := v.ids[def]
	if !ok {
		return fmt.Errorf("contract: Slack's description has no id definition %q (one with a pattern, named defs_…)", def)
	}
	if !d.re.MatchString(id) {
		return fmt.Errorf("%q is no %s: Slack's description (%s) wants %q", id, d.title, def, d.re.String())
	}
	return nil
}

// Check validates ex (a Web API call, path /api/{method}) against Slack's
// description and returns nil when it matches or differs only as
// SlackQuirks allow, or an error naming the method and every mismatch.
func (v *SlackValidator) Check(ex Exchange) error {
	method := strings.TrimPrefix(ex.Path, "/api/")
	if method == "apps.connections.open" {
		return nil // quirk "apps.connections.open"
	}
	build := func(httpMethod, query string, body []byte) (*http.Request, error) {
		u := "https://slack.com/api/" + method
		if query != "" {
			u += "?" + query
		}
		req, err := http.NewRequest(httpMethod, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range ex.Header {
			req.Header[k] = append([]string(nil), vs...)
		}
		return req, nil
	}
	req, err := build(ex.Method, ex.Query, ex.Body)
	if err != nil {
		return err
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil && ex.Method == http.MethodPost {
		// Quirk "POST to GET-only methods": the form becomes the query.
		form, _ := url.ParseQuery(string(ex.Body))
		if req, err = build(http.MethodGet, form.Encode(), nil); err != nil {
			return err
		}
		req.Header.Del("Content-Type")
		route, params, err = v.router.FindRoute(req)
	}
	if err != nil {
		return fmt.Errorf("%s %s: no method in Slack's description: %v", ex.Method, ex.Path, err)
	}
	opts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var problems []string
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		for _, p := range describe("request", err) {
			if !strings.Contains(p, `parameter "token"`) && !strings.Contains(p, "body at /token:") { // quirk "token parameter"
				problems = append(problems, p)
			}
		}
	}
	problems = append(problems, v.checkResponse(in, ex, method)...)
	problems = slices.DeleteFunc(problems, func(p string) bool {
		return slices.ContainsFunc(ex.Allow, func(a string) bool { return strings.Contains(p, a) })
	})
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s → %d does not match Slack's description:\n\t%s",
		ex.Method, ex.Path, ex.Status, strings.Join(problems, "\n\t"))
}

func (v *SlackValidator) checkResponse(in *openapi3filter.RequestValidationInput, ex Exchange, method string) []string {
	var body struct {
		OK *bool `json:"ok"`
	}
	_ = json.Unmarshal(ex.ResponseBody, &body)
	var problems []string
	if ex.Status == http.StatusOK && body.OK != nil && !*body.OK {
		// Quirk "errors are HTTP 200 with ok:false".
		def := in.Route.Operation.Responses.Default()
		if def == nil || def.Value == nil || def.Value.Content.Get("application/json") == nil {
			return nil
		}
		var value any
		if err := json.Unmarshal(ex.ResponseBody, &value); err != nil {
			return []string{"answer: not JSON: " + err.Error()}
		}
		if err := def.Value.Content.Get("application/json").Schema.Value.VisitJSON(value, openapi3.MultiErrors()); err != nil {
			problems = describe("answer (as the error response)", err)
		}
		// Quirk "error codes".
		problems = slices.DeleteFunc(problems, func(p string) bool {
			return strings.Contains(p, "at /error: value is not one of the allowed values")
		})
	} else if ex.Status == http.StatusOK {
		rin := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: ex.Status, Header: ex.ResponseHeader,
			Body: io.NopCloser(bytes.NewReader(ex.ResponseBody)), Options: in.Options,
		}
		if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
			problems = describe("answer", err)
		}
	}
	// Quirk "closed success schemas".
	problems = slices.DeleteFunc(problems, func(p string) bool { return strings.HasSuffix(p, "is unsupported") })
	if method == "chat.update" { // quirk "chat.update's message.blocks"
		problems = slices.DeleteFunc(problems, func(p string) bool { return strings.Contains(p, " at /message/blocks") })
	}
	return problems
}
