package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/trainstack"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// End to end: a train keeps its id, an approval signs one candidate, and
// what a refusal names is data. Each test runs trainbot serve on a clock
// the test moves, so the scheduler meets slots and quiet windows on cue.

var at = trainstack.At

// startOnClock runs trainbot serve on Redis with a GitHub fake, both on clock.
func startOnClock(t *testing.T, clock *trainstest.Clock, extra map[string]string) *e2e {
	t.Helper()
	r := redistest.New(t)
	gh := githubfake.New(t, githubfake.WithClock(clock))
	gh.SetRunSteps(1)
	return startServeWith(t, serveSetup{gh: gh, redisURL: r.URL, prefix: r.Prefix, clock: clock, extra: extra})
}

// schedulerTicks waits until the scheduler has run n more whole ticks: each
// tick ends by listing the deploy workflow's runs.
func (e *e2e) schedulerTicks(n int) {
	e.t.Helper()
	const route = "actions/workflows/deploy-simple.yaml/runs"
	k := e.gh.Count("GET", route)
	if _, err := e.gh.WaitRequests(e.ctx(), func(rs []githubfake.Request) bool {
		return githubfake.CountIn(rs, "GET", route) >= k+n+1 // +1: the tick under way may have listed already
	}); err != nil {
		e.t.Fatalf("the scheduler did not tick: %v", err)
	}
}

func lacks(t *testing.T, got string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Errorf("has %q in:\n%s", b, got)
		}
	}
}

// A dev train postponed past midnight is still dev-2026-12-01: skipping it
// by that id after midnight skips it, makes no dev-2026-12-02, and it does
// not leave when the window ends.
func TestE2EPostponedPastMidnightSkip(t *testing.T) {
	clock := trainstest.NewClock(at("2026-12-01 10:00"))
	e := startOnClock(t, clock, nil)
	e.gh.AddCommits("main", 2)

	contains(t, e.slash(eOps, "pause from 2026-12-01 13:30 until 2026-12-02 06:00 chain upgrade"), "Quiet window declared")
	contains(t, e.slash(eRel, "confirm dev-2026-12-01"), "You confirmed dev-2026-12-01")
	clock.Set(at("2026-12-01 14:00").Add(5 * time.Second))
	e.channelMessage("dev-2026-12-01 postponed", "chain upgrade")

	clock.Set(at("2026-12-02 00:30"))
	reply := e.slash(eRel, "skip dev-2026-12-01 the upgrade ran long")
	contains(t, reply, "dev-2026-12-01 is skipped")
	lacks(t, reply, "dev-2026-12-02")
	e.channelMessage("dev-2026-12-01 is skipped by", "the upgrade ran long")
	hist := e.slash(eRel, "history")
	contains(t, hist, "dev-2026-12-01", "skipped by <@UREL>: the upgrade ran long")
	lacks(t, hist, "dev-2026-12-02", "&lt;@")

	clock.Set(at("2026-12-02 06:00").Add(5 * time.Second))
	e.schedulerTicks(2)
	if tags, ds := e.gh.Tags(), e.gh.Dispatches(); len(tags) != 0 || len(ds) != 0 {
		t.Errorf("the skipped train left at the window's end: tags %+v, dispatches %+v", tags, ds)
	}
}

// A staging train postponed past midnight is confirmed and approved by its
// own id after midnight, and leaves at the window's end with them.
func TestE2EPostponedPastMidnightConfirmApprove(t *testing.T) {
	clock := trainstest.NewClock(at("2026-12-09 10:00"))
	e := startOnClock(t, clock, nil)
	soaked := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.4", soaked, "dev", at("2026-12-01 14:00"))

	contains(t, e.slash(eOps, "pause from 2026-12-09 13:00 until 2026-12-10 06:00 validator re-roll"), "Quiet window declared")
	clock.Set(at("2026-12-09 14:00").Add(5 * time.Second))
	e.channelMessage("staging-2026-12-09 postponed", "validator re-roll")

	clock.Set(at("2026-12-10 00:30"))
	contains(t, e.slash(eRel, "confirm next-staging"), "You confirmed staging-2026-12-09")
	reply := e.slash(eVal, "approve staging-2026-12-09")
	contains(t, reply, "You approved", "v0.5.0-dev.4", "for staging-2026-12-09", "1 of 1")
	lacks(t, reply, "staging-2026-12-10")
	lacks(t, e.slash(eRel, "history"), "staging-2026-12-10")

	clock.Set(at("2026-12-10 06:00").Add(5 * time.Second))
	e.channelMessage("Staging train v0.5.0-staging.1", "deployed")
	if tag, ok := e.gh.Tag("v0.5.0-staging.1"); !ok || tag.Commit != soaked {
		t.Errorf("staging tag = %+v, want on the approved candidate %s", tag, soaked)
	}
	contains(t, e.slash(eRel, "history"), "staging-2026-12-09", "deployed")
}

// One approval ships one candidate: a second staging cut with a newer
// soaked dev tag is refused until a validator approves that one.
func TestE2EApprovalSignsOneCandidate(t *testing.T) {
	clock := trainstest.NewClock(at("2026-12-09 10:00"))
	e := startOnClock(t, clock, nil)
	first := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.4", first, "dev", at("2026-12-01 14:00"))

	contains(t, e.slash(eVal, "approve next-staging"), "You approved", "v0.5.0-dev.4", first[:7])
	contains(t, e.slash(eRel, "cut staging"), "Cutting", "v0.5.0-staging.1")
	contains(t, e.channelMessage("Staging train v0.5.0-staging.1", "deployed").AllText(), "Approved by", "<@UVAL>")

	second := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.5", second, "dev", at("2026-12-02 09:00"))
	reply := e.slash(eRel, "cut staging")
	contains(t, reply, "needs 1 validator approval", "it has 0")
	lacks(t, reply, "Cutting")
	if _, ok := e.gh.Tag("v0.5.0-staging.2"); ok {
		t.Fatal("a used approval cut a second candidate")
	}

	contains(t, e.slash(eVal, "approve next-staging"), "You approved", "v0.5.0-dev.5", second[:7])
	contains(t, e.slash(eRel, "cut staging"), "Cutting", "v0.5.0-staging.2")
	e.channelMessage("Staging train v0.5.0-staging.2", "deployed")
	if tag, _ := e.gh.Tag("v0.5.0-staging.2"); tag.Commit != second {
		t.Errorf("v0.5.0-staging.2 on %s, want the newly approved candidate %s", tag.Commit, second)
	}
}

// Ids that were never trains, or are too far ahead, are refused; refusals
// that name people mention them, never show markup as text.
func TestE2ETrainIDsAndMentions(t *testing.T) {
	clock := trainstest.NewClock(at("2026-12-01 10:00"))
	e := startOnClock(t, clock, nil)
	for _, tc := range []struct{ user, text, want string }{
		{eVal, "approve staging-0001-01-03", "has passed and was never a train"},
		{eRel, "oncall set dev-2099-01-06 <@UVAL>", "more than 90 days ahead"},
		{eRel, "confirm dev-2026-12-02", "there is no dev train on 2026-12-02"},
		{eRel, "skip dev-2026-11-24", "has passed and was never a train"},
		{eRel, "confirm hotfix-2026-12-01", "there is no train hotfix-2026-12-01"},
	} {
		reply := e.slash(tc.user, tc.text)
		contains(t, reply, tc.want)
		lacks(t, reply, "You ")
	}
	lacks(t, e.slash(eRel, "history"), "staging-0001", "dev-2099", "dev-2026-12-02", "hotfix-")

	reply := e.slash(eRel, "oncall rotation <@UVAL> <@UREL> <@UVAL>")
	contains(t, reply, "<@UVAL> is named twice")
	lacks(t, reply, "&lt;@", "Rotation set")
	contains(t, e.slash(eRel, "oncall swap <@UVAL> <@UREL>"), "no on-call rotation is set")
	contains(t, e.slash(eRel, "oncall rotation <@UVAL> <@UREL>"), "Rotation set")
	reply = e.slash(eRel, "oncall swap <@UVAL> <@UVAL>")
	contains(t, reply, "cannot swap <@UVAL> with themselves")
	lacks(t, reply, "&lt;@")
}
