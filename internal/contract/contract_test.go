package contract

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func mustGitHub(t *testing.T) *Validator {
	t.Helper()
	v, err := GitHub()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}}
}

// refAnswer is a git-ref as GitHub sends it, without the fields in drop.
func refAnswer(t *testing.T, drop ...string) []byte {
	t.Helper()
	ref := map[string]any{
		"ref":     "refs/tags/v1.2.0",
		"node_id": "REF_abc",
		"url":     "https://api.github.com/repos/acme/chain/git/refs/tags/v1.2.0",
		"object": map[string]any{
			"type": "commit",
			"sha":  "aa218f56b14c9653891f9e74264a383fa43fefbd",
			"url":  "https://api.github.com/repos/acme/chain/git/commits/aa218f56b14c9653891f9e74264a383fa43fefbd",
		},
	}
	for _, k := range drop {
		delete(ref, k)
	}
	b, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownGoodExchangePasses(t *testing.T) {
	v := mustGitHub(t)
	for _, path := range []string{
		"/repos/acme/chain/git/ref/tags/v1.2.0",        // a ref with '/' (multi-segment quirk)
		"/api/v3/repos/acme/chain/git/ref/tags/v1.2.0", // GitHub Enterprise's prefix
	} {
		err := v.Check(Exchange{
			Method: http.MethodGet, Path: path, Header: http.Header{},
			Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: refAnswer(t),
		})
		if err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestMissingRequiredFieldFails(t *testing.T) {
	v := mustGitHub(t)
	err := v.Check(Exchange{
		Method: http.MethodGet, Path: "/repos/acme/chain/git/ref/tags/v1.2.0", Header: http.Header{},
		Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: refAnswer(t, "node_id"),
	})
	if err == nil {
		t.Fatal("an answer without node_id passed")
	}
	for _, want := range []string{"GET /repos/acme/chain/git/ref/tags/v1.2.0", "/repos/{owner}/{repo}/git/ref/{ref}", `"node_id" is missing`, "answer at /node_id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestBadRequestBodyFails(t *testing.T) {
	v := mustGitHub(t)
	err := v.Check(Exchange{
		Method: http.MethodPost, Path: "/repos/acme/chain/git/refs", Header: jsonHeader(),
		Body:   []byte(`{"ref":"refs/tags/v1"}`), // no sha
		Status: http.StatusCreated, ResponseHeader: jsonHeader(), ResponseBody: refAnswer(t),
	})
	if err == nil || !strings.Contains(err.Error(), `request body at /sha: property "sha" is missing`) {
		t.Errorf("a create-ref request without sha: got %v", err)
	}
}

func TestQuirks(t *testing.T) {
	v := mustGitHub(t)
	runs := []byte(`{"total_count":0,"workflow_runs":[]}`)
	cases := []struct {
		name string
		ex   Exchange
	}{
		{"created in search syntax", Exchange{
			Method: http.MethodGet, Path: "/repos/acme/chain/actions/workflows/deploy.yaml/runs",
			Query: "created=%3E%3D2026-01-02T03%3A04%3A05Z&per_page=10", Header: http.Header{},
			Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: runs,
		}},
		{"unlisted error status", Exchange{
			Method: http.MethodGet, Path: "/repos/acme/chain/git/ref/tags/v1", Header: http.Header{},
			Status: http.StatusTooManyRequests, ResponseHeader: jsonHeader(),
			ResponseBody: []byte(`{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest"}`),
		}},
		{"304", Exchange{
			Method: http.MethodGet, Path: "/repos/acme/chain/git/ref/tags/v1", Header: http.Header{},
			Status: http.StatusNotModified, ResponseHeader: http.Header{},
		}},
		{"list branches, not in the subset", Exchange{
			Method: http.MethodGet, Path: "/repos/acme/chain/branches", Header: http.Header{},
			Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: []byte(`[]`),
		}},
	}
	for _, c := range cases {
		if err := v.Check(c.ex); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestUnknownRouteAndBadErrorBodyFail(t *testing.T) {
	v := mustGitHub(t)
	if err := v.Check(Exchange{Method: http.MethodGet, Path: "/repos/acme/chain/issues", Header: http.Header{},
		Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: []byte(`[]`)}); err == nil ||
		!strings.Contains(err.Error(), "no operation") {
		t.Errorf("an operation not in the description: got %v", err)
	}
	if err := v.Check(Exchange{Method: http.MethodGet, Path: "/repos/acme/chain/git/ref/tags/v1", Header: http.Header{},
		Status: http.StatusBadGateway, ResponseHeader: jsonHeader(), ResponseBody: []byte(`{"message":7}`)}); err == nil ||
		!strings.Contains(err.Error(), "basic-error") {
		t.Errorf("an error body that is no basic-error: got %v", err)
	}
}

func TestNoAlternativeMatchesSaysWhy(t *testing.T) {
	v := mustGitHub(t)
	body := `[{"environment":{"id":1,"node_id":"EN_1","name":"prod","url":"https://api.github.com/x","html_url":"https://github.com/x"},
		"wait_timer":0,"wait_timer_started_at":null,"current_user_can_approve":true,
		"reviewers":[{"type":"User","reviewer":{"login":"octocat","id":1}}]}]`
	err := v.Check(Exchange{
		Method: http.MethodGet, Path: "/repos/acme/chain/actions/runs/9/pending_deployments", Header: http.Header{},
		Status: http.StatusOK, ResponseHeader: jsonHeader(), ResponseBody: []byte(body),
	})
	if err == nil {
		t.Fatal("a reviewer with only login and id passed")
	}
	for _, want := range []string{`at /0/reviewers/0/reviewer: doesn't match any schema from "anyOf"`,
		`answer, as anyOf #0 simple-user at /0/reviewers/0/reviewer/avatar_url: property "avatar_url" is missing`,
		`answer, as anyOf #1 team at /0/reviewers/0/reviewer/slug: property "slug" is missing`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
