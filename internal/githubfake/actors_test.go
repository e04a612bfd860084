package githubfake_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// rawRun reads a run as JSON, as GitHub sends it.
func rawRun(t *testing.T, fake *githubfake.Fake, id int64) map[string]any {
	t.Helper()
	resp, err := fake.HTTPClient().Get(fake.URL() + "repos/" + fake.Owner() + "/" + fake.Repo() + "/actions/runs/" + strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET run %d: %s", id, resp.Status)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// hasKeys reports the keys of want that obj lacks.
func missingKeys(obj any, want ...string) []string {
	m, _ := obj.(map[string]any)
	var out []string
	for _, k := range want {
		if _, ok := m[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// The required properties of GitHub's simple-user and
// nullable-simple-commit schemas (api.github.com's OpenAPI description).
var (
	simpleUserKeys = []string{"avatar_url", "events_url", "followers_url", "following_url", "gists_url", "gravatar_id",
		"html_url", "id", "node_id", "login", "organizations_url", "received_events_url", "repos_url", "site_admin",
		"starred_url", "subscriptions_url", "type", "url"}
	simpleCommitKeys = []string{"id", "tree_id", "message", "timestamp", "author", "committer"}
)

// A run carries its head commit, its actor and its triggering actor as
// GitHub sends them; a run made by hand says who made it, a re-run who
// re-ran it, and a dispatch through the API names the token's user.
func TestRunActorsAndHeadCommit(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, githubfake.WithClock(trainstest.NewClock(t0)))
	c := fake.Client()
	ctx := t.Context()
	o, r := fake.Owner(), fake.Repo()
	sha := fake.AddCommit("main", "Raise the gas limit\n\nbody", t0)

	byHand := fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha,
		Event: "workflow_dispatch", Actor: "alice", TriggeringActor: "bob"})
	run, _, err := c.Actions.GetWorkflowRunByID(ctx, o, r, byHand)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetActor().GetLogin() != "alice" || run.GetTriggeringActor().GetLogin() != "bob" ||
		run.GetHeadCommit().GetMessage() != "Raise the gas limit\n\nbody" || run.GetHeadCommit().GetID() != sha ||
		run.GetHeadCommit().GetAuthor().GetName() != "octocat" || run.GetEvent() != "workflow_dispatch" ||
		run.GetHeadSHA() != sha || run.GetDisplayTitle() != "deploy-simple" {
		t.Errorf("run made by hand = %v", run)
	}
	raw := rawRun(t, fake, byHand)
	for _, k := range []string{"actor", "triggering_actor"} {
		if miss := missingKeys(raw[k], simpleUserKeys...); len(miss) > 0 {
			t.Errorf("%s lacks %v: %v", k, miss, raw[k])
		}
	}
	if miss := missingKeys(raw["head_commit"], simpleCommitKeys...); len(miss) > 0 {
		t.Errorf("head_commit lacks %v: %v", miss, raw["head_commit"])
	}

	// A push: its title is the commit's first line; nobody re-ran it.
	push := fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha, Event: "push", Actor: "carol"})
	run, _, err = c.Actions.GetWorkflowRunByID(ctx, o, r, push)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetActor().GetLogin() != "carol" || run.GetTriggeringActor().GetLogin() != "carol" || run.GetDisplayTitle() != "Raise the gas limit" {
		t.Errorf("push run = %v", run)
	}
	// A bot's login is typed Bot.
	bot := fake.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha, Event: "push", Actor: "dependabot[bot]"})
	if raw := rawRun(t, fake, bot); raw["actor"].(map[string]any)["type"] != "Bot" {
		t.Errorf("a bot's actor = %v", raw["actor"])
	}

	// StartRun, and a dispatch through the API, are by the token's user.
	plain := fake.StartRun("deploy-simple.yaml", "main", sha, "push")
	fake.SetTokenUser("trainbot-ci")
	if _, err := c.Actions.CreateWorkflowDispatchEventByFileName(ctx, o, r, "deploy-simple.yaml",
		github.CreateWorkflowDispatchEventRequest{Ref: "main", Inputs: map[string]any{"environment": "dev"}}); err != nil {
		t.Fatal(err)
	}
	runs := fake.Runs("deploy-simple.yaml")
	want := map[int64]string{byHand: "bob", push: "carol", plain: "octocat", runs[len(runs)-1].ID: "trainbot-ci"}
	for id, login := range want {
		run, _, err := c.Actions.GetWorkflowRunByID(ctx, o, r, id)
		if err != nil || run.GetTriggeringActor().GetLogin() != login {
			t.Errorf("run %d triggered by %q, want %q (%v)", id, run.GetTriggeringActor().GetLogin(), login, err)
		}
	}
	for _, run := range runs {
		if run.URL != "https://github.com/"+o+"/"+r+"/actions/runs/"+strconv.FormatInt(run.ID, 10) {
			t.Errorf("Runs gives run %d the URL %q", run.ID, run.URL)
		}
	}
}

// A run on a commit the repository does not hold has no head commit.
func TestRunOfUnknownCommit(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t)
	id := fake.StartRun("deploy-simple.yaml", "main", "0123456789abcdef0123456789abcdef01234567", "push")
	if raw := rawRun(t, fake, id); raw["head_commit"] != nil {
		t.Errorf("head_commit = %v, want null", raw["head_commit"])
	}
}
