package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
)

const deployWorkflow = "deploy-simple.yaml"

// click clicks button action of m as user and returns the reply the user sees.
func (e *e2e) click(user string, m slackfake.Message, action string) string {
	e.t.Helper()
	ack, err := e.slack.Click(e.ctx(), user, m, action)
	if err != nil {
		e.t.Fatalf("click %s: %v", action, err)
	}
	post, err := e.slack.WaitResponse(e.ctx(), ack.Envelope.ResponseURL, func(slackfake.ResponsePost) bool { return true })
	if err != nil {
		e.t.Fatalf("no reply to the click on %s: %v", action, err)
	}
	return post.Text + "\n" + string(post.Blocks)
}

// A failed deploy run's announcement carries Retry deploy and Roll back. A
// click by someone without the role is refused; two quick clicks by a
// releaser make one new dispatch of the same tag — the runs stay where they
// are until the test moves them, so the second click comes while the
// retry is on its way — followed in the same thread to deployed.
func TestE2ERetryButton(t *testing.T) {
	r := redistest.New(t)
	gh := githubfake.New(t) // runs stay queued until the test moves them
	e := startServeOn(t, gh, r.URL, r.Prefix, t.TempDir(), nil)
	gh.AddCommits("main", 1)
	contains(t, e.slash(eRel, "cut dev"), "Cutting", "v0.1.0-dev.1")
	e.channelMessage("Waiting for", "publish-images.yaml")
	gh.CompleteRun(gh.Runs("publish-images.yaml")[0].ID, "success")
	e.channelMessage("Following the deploy run")
	first := gh.Runs(deployWorkflow)[0].ID
	gh.CompleteRun(first, "failure")
	failure := e.channelMessage("Train failed", "the deploy run ended failure")
	top, ok := e.slack.Message(eChan, failure.ThreadTS)
	if !ok {
		t.Fatal("no announcement")
	}
	contains(t, top.AllText(), "Retry deploy", "Roll back", "failed")

	contains(t, e.click(eOther, top, "retry"), "Only releasers or the train's on-call may do that")
	contains(t, e.click(eOther, top, "rollback"), "Only releasers or the on-call may do that")
	// The Roll back button runs /train rollback dev as its clicker: with
	// no earlier tag deployed to dev, it is refused, saying why.
	contains(t, e.click(eRel, top, "rollback"), "v0.1.0-dev.1 is the only train tag deployed to dev", "Nothing was done")
	if n := len(gh.Dispatches()); n != 1 {
		t.Fatalf("%d dispatches after refused clicks, want 1", n)
	}

	replies := make([]string, 2)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack, err := e.slack.Click(e.ctx(), eRel, top, "retry")
			if err != nil {
				t.Errorf("click: %v", err)
				return
			}
			post, err := e.slack.WaitResponse(e.ctx(), ack.Envelope.ResponseURL, func(slackfake.ResponsePost) bool { return true })
			if err != nil {
				t.Errorf("no reply to a click: %v", err)
				return
			}
			replies[i] = post.Text
		}()
	}
	wg.Wait()
	both := strings.Join(replies, "\n")
	contains(t, both, "Retrying dev-", "attempt 2 deploys")
	if !strings.Contains(both, "already retried") && !strings.Contains(both, "already being retried") {
		t.Errorf("the second click was not told it changed nothing:\n%s", both)
	}
	e.channelMessage("retried the deploy: attempt 2")
	if _, err := e.slack.WaitMessage(e.ctx(), func(m slackfake.Message) bool {
		return m.ThreadTS == top.TS && strings.Contains(m.AllText(), "Following the deploy run") && !strings.Contains(m.AllText(), fmt.Sprintf("run %d", first))
	}); err != nil {
		t.Fatalf("the thread does not follow the new run: %v", err)
	}
	runs := gh.Runs(deployWorkflow)
	if len(runs) != 2 {
		t.Fatalf("deploy runs = %+v, want the failed one and one retry", runs)
	}
	gh.CompleteRun(runs[1].ID, "success")
	e.channelMessage("v0.1.0-dev.1", "is deployed to dev")
	ds := gh.Dispatches()
	if len(ds) != 2 || ds[1].Ref != "v0.1.0-dev.1" || ds[1].Inputs["environment"] != "dev" {
		t.Errorf("dispatches = %+v, want the first and one retry of v0.1.0-dev.1", ds)
	}
	var thread []string
	for _, m := range e.slack.Thread(eChan, top.TS) {
		thread = append(thread, m.AllText())
	}
	contains(t, strings.Join(thread, "\n"), "retried the deploy: attempt 2", "Train failed", "is deployed to dev")
	final, _ := e.slack.Message(eChan, top.TS)
	contains(t, final.AllText(), "deployed", "Earlier attempts", fmt.Sprintf("run %d", first))
	if strings.Contains(final.AllText(), "Retry deploy") {
		t.Errorf("the deployed train's announcement keeps its Retry button:\n%s", final.AllText())
	}
	contains(t, e.slash(eRel, "history 1"), "deployed", "2 deploy attempts")
}

// `/train rollback staging <reason>` deploys the staging tag deployed
// before the current one — both deployed by runs GitHub lists, from before
// trainbot — with staging's inputs, as a train of its own: announced,
// counted in stats, shown in history. With no earlier tag it is refused;
// so is a user without the role.
func TestE2ERollback(t *testing.T) {
	r := redistest.New(t)
	gh := githubfake.New(t)
	gh.SetRunSteps(1)
	e := startServeOn(t, gh, r.URL, r.Prefix, t.TempDir(), nil)
	c1 := gh.AddCommit("main", "the good one", time.Time{})
	gh.AddTag("v0.5.0-staging.1", c1)
	c3 := gh.AddCommits("main", 2)[1]
	gh.AddTag("v0.5.0-staging.2", c3)

	contains(t, e.slash(eRel, "rollback staging the migration broke"), "no run of", "nothing to roll back to")
	for _, d := range []struct{ tag, sha string }{{"v0.5.0-staging.1", c1}, {"v0.5.0-staging.2", c3}} {
		gh.CompleteRun(gh.StartRunAs(githubfake.RunSpec{Workflow: deployWorkflow, Branch: d.tag, SHA: d.sha, Event: "workflow_dispatch"}), "success")
	}

	contains(t, e.slash(eOther, "rollback staging the migration broke"), "Only releasers or the on-call may do that")
	contains(t, e.slash(eOther, "rollback staging the migration broke --dry-run"), "Dry run", "v0.5.0-staging.1", c1[:7], "in place of", "v0.5.0-staging.2",
		"taking back out 2 commits", "Nothing was changed")
	if n := len(gh.Dispatches()); n != 0 {
		t.Fatalf("%d dispatches before the rollback", n)
	}

	contains(t, e.slash(eRel, "rollback staging the migration broke"), "Rollback rollback-", "v0.5.0-staging.1", "in place of", "v0.5.0-staging.2")
	ann := e.channelMessage("Rollback of staging to v0.5.0-staging.1")
	contains(t, ann.AllText(), "Takes back out", "the migration broke")
	e.channelMessage("v0.5.0-staging.1", "is deployed to staging")
	ds := gh.Dispatches()
	if len(ds) != 1 || ds[0].Ref != "v0.5.0-staging.1" || ds[0].Inputs["environment"] != "staging" || ds[0].Inputs["release_type"] != "staging" {
		t.Errorf("dispatches = %+v, want one of v0.5.0-staging.1 with staging's inputs", ds)
	}
	contains(t, e.slash(eOther, "stats"), "Rollbacks")
	if s := e.slash(eOther, "stats"); !strings.Contains(s, `"text":"*Rollbacks*\n1"`) {
		t.Errorf("stats do not count one rollback:\n%s", s)
	}
	contains(t, e.slash(eOther, "history 1"), "rollback-", "rolled back from", "v0.5.0-staging.2")

	// Back on staging.1, there is no earlier tag: refused, saying why.
	contains(t, e.slash(eRel, "rollback staging again"), "v0.5.0-staging.1 is the only train tag deployed to staging", "Nothing was done")
	if n := len(gh.Dispatches()); n != 1 {
		t.Errorf("%d dispatches, want 1", n)
	}
}
