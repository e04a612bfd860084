package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/slackfake"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// TestE2ERolesFailClosed: releasers are a user group. When Slack stops
// answering for it, its cached members serve for an hour after the last
// good read, then the role is refused (SPEC §6: fail closed), and nothing
// is changed; once Slack answers again, a member removed meanwhile has lost
// the role.
func TestE2ERolesFailClosed(t *testing.T) {
	stores(t, func(t *testing.T, redisURL, prefix string) {
		// A Thursday night: no slot or reminder is due within the test's two hours.
		clock := trainstest.NewClock(time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC))
		gh := githubfake.New(t)
		gh.SetRunSteps(1)
		e := startServeWith(t, serveSetup{
			gh: gh, redisURL: redisURL, prefix: prefix, clock: clock,
			extra:  map[string]string{"TRAINBOT_RELEASERS": "SREL"},
			groups: map[string][]string{"SREL": {eRel}, "SVALIDATORS": {eVal}},
		})
		const method = "usergroups.users.list"

		// A member of the releasers' group is a releaser. The group is read now.
		contains(t, e.slash(eRel, "oncall rotation <@UVAL>"), "Rotation set")

		// Slack stops answering for user groups, and eRel leaves SREL.
		e.slack.FailNext(method, -1, slackfake.APIError("fatal_error"))
		e.slack.SetUserGroup("SREL")

		// Within the hour, the members read before serve.
		clock.Advance(30 * time.Minute)
		contains(t, e.slash(eRel, "oncall rotation <@UVAL>"), "Rotation set")

		// Past an hour after the last good read, the role is refused.
		clock.Advance(31 * time.Minute)
		reply := e.slash(eRel, "oncall rotation <@UOPS>")
		contains(t, reply, "Nothing was changed", "SREL")
		if strings.Contains(reply, "Rotation set") || strings.Contains(reply, "Something went wrong") {
			t.Errorf("a releasers' group unread for 61 minutes: reply %q, want a refusal naming the group", reply)
		}
		shown := e.slash(eOther, "oncall")
		contains(t, shown, "<@UVAL>")
		if strings.Contains(shown, "UOPS") {
			t.Errorf("the refused rotation was set:\n%s", shown)
		}

		// Slack answers again: eRel, removed from SREL, is no releaser.
		e.slack.ClearFaults(method)
		calls := e.slack.Calls(method)
		contains(t, e.slash(eRel, "oncall rotation <@UVAL>"), "Only releasers may do that", "Nothing was changed")
		if n := e.slack.Calls(method) - calls; n != 1 {
			t.Errorf("%d reads of the group after recovery, want 1", n)
		}
	})
}
