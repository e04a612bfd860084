package githubfake_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// getRaw reads a route of the fake's repository as JSON.
func getRaw(t *testing.T, fake *githubfake.Fake, route string, out any) int {
	t.Helper()
	c := fake.Client()
	req, err := c.NewRequest(http.MethodGet, "repos/"+fake.Owner()+"/"+fake.Repo()+"/"+route, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(t.Context(), req, out)
	if resp == nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// The gate as GitHub documents it: a waiting run lists its environment
// and reviewers (full user and team objects); a reviewer approves as a
// person would; the review history names them; the API token's user, not
// a reviewer, can approve nothing.
func TestEnvironmentReview(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	fake.RequireApproval("deploy-simple.yaml", githubfake.Environment{ID: 7, Name: "staging",
		Reviewers: []githubfake.Reviewer{githubfake.User("ana"), githubfake.Team("Chain Validators", "bob")}})
	id := fake.StartRun("deploy-simple.yaml", "v0.1.0-staging.1", fake.Head("main"), "workflow_dispatch")
	fake.AdvanceRun(id)
	fake.AdvanceRun(id)
	if r := fake.Runs("deploy-simple.yaml")[0]; r.Status != "waiting" {
		t.Fatalf("run is %s, want waiting", r.Status)
	}

	var pending []map[string]any
	if code := getRaw(t, fake, "actions/runs/"+itoa(id)+"/pending_deployments", &pending); code != 200 || len(pending) != 1 {
		t.Fatalf("pending deployments: %d %v", code, pending)
	}
	p := pending[0]
	for _, k := range []string{"environment", "wait_timer", "wait_timer_started_at", "current_user_can_approve", "reviewers"} {
		if _, ok := p[k]; !ok {
			t.Errorf("pending deployment lacks %s", k)
		}
	}
	if p["current_user_can_approve"] != false {
		t.Errorf("current_user_can_approve = %v; the token's user is no reviewer", p["current_user_can_approve"])
	}
	revs := p["reviewers"].([]any)
	user := revs[0].(map[string]any)
	team := revs[1].(map[string]any)
	if user["type"] != "User" || user["reviewer"].(map[string]any)["login"] != "ana" ||
		team["type"] != "Team" || team["reviewer"].(map[string]any)["slug"] != "chain-validators" {
		t.Errorf("reviewers = %v", revs)
	}
	for _, k := range []string{"avatar_url", "events_url", "followers_url", "following_url", "gists_url", "gravatar_id", "html_url", "id",
		"node_id", "login", "organizations_url", "received_events_url", "repos_url", "site_admin", "starred_url", "subscriptions_url", "type", "url"} {
		if _, ok := user["reviewer"].(map[string]any)[k]; !ok {
			t.Errorf("user reviewer lacks %s", k)
		}
	}
	for _, k := range []string{"id", "node_id", "url", "members_url", "name", "description", "permission", "html_url", "repositories_url", "slug", "parent", "type"} {
		if _, ok := team["reviewer"].(map[string]any)[k]; !ok {
			t.Errorf("team reviewer lacks %s", k)
		}
	}

	// The token's user may not review: GitHub has nothing for it to review.
	c := fake.Client()
	body := map[string]any{"environment_ids": []int64{7}, "state": "approved", "comment": "self-approve"}
	req, _ := c.NewRequest(http.MethodPost, "repos/acme/chain/actions/runs/"+itoa(id)+"/pending_deployments", body)
	if resp, err := c.Do(t.Context(), req, nil); err == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the token's user approved: %v", err)
	}

	fake.ReviewAs(id, "bob", "approved", "ship it")
	if r := fake.Runs("deploy-simple.yaml")[0]; r.Status != "in_progress" {
		t.Errorf("approved run is %s, want in_progress", r.Status)
	}
	var history []map[string]any
	if code := getRaw(t, fake, "actions/runs/"+itoa(id)+"/approvals", &history); code != 200 || len(history) != 1 {
		t.Fatalf("approvals: %d %v", code, history)
	}
	h := history[0]
	envs := h["environments"].([]any)
	if h["state"] != "approved" || h["comment"] != "ship it" || h["user"].(map[string]any)["login"] != "bob" ||
		envs[0].(map[string]any)["name"] != "staging" {
		t.Errorf("approval = %v", h)
	}
	if !slices.ContainsFunc(fake.Reviews(), func(r githubfake.Review) bool { return r.User == "bob" && r.State == "approved" }) {
		t.Errorf("reviews = %+v", fake.Reviews())
	}
	raw, _ := json.Marshal(history)
	t.Logf("approvals: %s", raw)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
