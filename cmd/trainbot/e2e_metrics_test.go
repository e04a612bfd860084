package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/commands"
	"github.com/trainbot/trainbot/internal/slackfake"
)

// TestE2ECommandsAreCountedOnceByName: trainbot serve counts each command
// once in trainbot_command_duration_seconds, under its name; a click on a
// reminder's button under the command the button runs (confirm, skip), and
// text that names no command under "other". Every command of the table has
// its series in /metrics from the start.
func TestE2ECommandsAreCountedOnceByName(t *testing.T) {
	e := startServe(t, "", "", map[string]string{"TRAINBOT_REMINDERS": "336h"})
	e.gh.AddCommits("main", 1)

	_, metrics := e.get("/metrics")
	for _, name := range append(commands.Names(), "other") {
		contains(t, metrics, fmt.Sprintf(`trainbot_command_duration_seconds_count{command=%q} 0`, name))
	}

	// The scheduler posts the coming dev train's reminder (the lead is two weeks).
	rem := e.channelMessage("Dev train dev-", "I'm on it")
	for _, click := range []struct{ action, reply string }{{"confirm", "You confirmed"}, {"skip", "is skipped"}} {
		ack, err := e.slack.Click(e.ctx(), eRel, rem, click.action)
		if err != nil {
			t.Fatal(err)
		}
		// The command is counted before its reply is sent.
		if _, err := e.slack.WaitResponse(e.ctx(), ack.Envelope.ResponseURL, func(p slackfake.ResponsePost) bool {
			return strings.Contains(p.Text, click.reply)
		}); err != nil {
			t.Fatalf("no reply %q to the %s click: %v", click.reply, click.action, err)
		}
	}
	contains(t, e.slash(eRel, "calendar"), "dev-")
	contains(t, e.slash(eRel, "frobnicate"), "I don't know the command")

	_, metrics = e.get("/metrics")
	want := map[string]int{"confirm": 1, "skip": 1, "calendar": 1, "other": 1}
	for _, name := range append(commands.Names(), "other") {
		contains(t, metrics, fmt.Sprintf(`trainbot_command_duration_seconds_count{command=%q} %d`, name, want[name]))
	}
}
