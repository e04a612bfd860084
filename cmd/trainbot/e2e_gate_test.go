package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// The GitHub Environments gate end to end (slackfake + githubfake + the
// store): a dev deploy waits on the dev environment's reviewers; the
// thread says so once with who can approve and the run's link, the top
// message shows waiting for approval; bob approves on GitHub; the thread
// names him with his comment, the train is deployed, and /train stats
// shows the wait. trainbot never reviews.
func TestE2EDeployWaitsForEnvironmentApproval(t *testing.T) {
	stores(t, func(t *testing.T, redisURL, prefix string) {
		// A Wednesday, off the dev slot: the cut is off schedule, its train
		// in the stats of the days before now.
		clock := trainstest.NewClock(at("2026-12-02 10:00"))
		gh := githubfake.New(t, githubfake.WithClock(clock))
		gh.SetRunSteps(1)
		gh.RequireApproval("deploy-simple.yaml", githubfake.Environment{ID: 161171787, Name: "dev",
			Reviewers: []githubfake.Reviewer{githubfake.User("ana"), githubfake.Team("Validators", "bob")}})
		gh.AddCommits("main", 2)
		e := startServeWith(t, serveSetup{gh: gh, redisURL: redisURL, prefix: prefix, clock: clock})

		contains(t, e.slash(eRel, "cut dev"), "v0.1.0-dev.1")
		waits := e.channelMessage("waits for approval", "ana or the team Validators", "never approves")
		runs := gh.Runs("deploy-simple.yaml")
		if len(runs) != 1 || runs[0].Status != "waiting" {
			t.Fatalf("deploy runs %+v, want one waiting", runs)
		}
		id := runs[0].ID
		contains(t, waits.AllText(), "https://github.com/acme/chain/actions/runs/"+strconv.FormatInt(id, 10))
		top := e.channelMessage("Dev train v0.1.0-dev.1", "waiting for approval")
		if top.ThreadTS != "" || waits.ThreadTS != top.TS {
			t.Errorf("waiting told in thread %q of top message %q (thread %q)", waits.ThreadTS, top.TS, top.ThreadTS)
		}

		clock.Advance(4 * time.Second) // the validators look at it
		gh.ReviewAs(id, "bob", "approved", "dev looks calm, ship it")
		e.channelMessage("Approved by bob for dev", "dev looks calm, ship it", "after 4s")
		e.channelMessage("v0.1.0-dev.1 is deployed to dev")
		e.channelMessage("Dev train v0.1.0-dev.1", "deployed", "Waited for approval", "4s")
		contains(t, e.slash(eVal, "stats"), "Waiting for approval", "4s (1 train)")
		if n := gh.Count("POST", "actions/runs/"); n != 0 {
			t.Errorf("trainbot sent %d POSTs to runs: it must never review", n)
		}
	})
}

// A rejected deploy end to end: ana rejects it on GitHub with a comment;
// the train fails, and the thread and top message quote her.
func TestE2EDeployRejectedAtTheEnvironmentGate(t *testing.T) {
	stores(t, func(t *testing.T, redisURL, prefix string) {
		clock := trainstest.NewClock(at("2026-12-02 10:00"))
		gh := githubfake.New(t, githubfake.WithClock(clock))
		gh.SetRunSteps(1)
		gh.RequireApproval("deploy-simple.yaml", githubfake.Environment{ID: 161171787, Name: "dev",
			Reviewers: []githubfake.Reviewer{githubfake.User("ana")}})
		gh.AddCommits("main", 2)
		e := startServeWith(t, serveSetup{gh: gh, redisURL: redisURL, prefix: prefix, clock: clock})

		contains(t, e.slash(eRel, "cut dev"), "v0.1.0-dev.1")
		e.channelMessage("waits for approval", "Who can approve: ana.")
		gh.ReviewAs(gh.Runs("deploy-simple.yaml")[0].ID, "ana", "rejected", "mtest-val-01 is re-rolling, not today")
		e.channelMessage("Train failed", "ana rejected the deployment to dev", "not today")
		e.channelMessage("Dev train v0.1.0-dev.1", "failed", "not today")
		if n := gh.Count("POST", "actions/runs/"); n != 0 {
			t.Errorf("trainbot sent %d POSTs to runs: it must never review", n)
		}
	})
}
