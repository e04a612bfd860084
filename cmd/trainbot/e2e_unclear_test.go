package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
)

// End to end with a Redis whose replies get lost (SPEC §7): REDIS_URL
// points at a redistest.Proxy, which lets a write through to Redis and
// drops its reply, so trainbot's call times out on a write that was
// applied. Two ways of settling are run: go-redis sending the write again
// after its read timeout (its default), and the store itself when go-redis
// does not retry (max_retries=-1).
var unclearVariants = []struct{ name, query string }{
	{"go-redis sends it again", "?read_timeout=300ms"},
	{"the store settles it", "?read_timeout=300ms&max_retries=-1"},
}

// isCutWrite matches the script that records the cut: the train stored
// confirmed, cut by the releaser.
func isCutWrite(prefix string) func([]string) bool {
	return func(cmd []string) bool {
		if len(cmd) == 0 || !strings.HasPrefix(cmd[0], "eval") || !slices.Contains(cmd, prefix+"trains") {
			return false
		}
		return slices.ContainsFunc(cmd, func(a string) bool {
			return strings.Contains(a, `"state":"confirmed"`) && strings.Contains(a, `"cut_by":"`+eRel+`"`)
		})
	}
}

// TestE2ECutWhoseRecordReplyIsLost: the cut's train write is applied and
// its reply lost. The reply to the user is true (the train is cut, not
// "nothing was tagged"), and the train makes exactly one tag and one
// dispatch.
func TestE2ECutWhoseRecordReplyIsLost(t *testing.T) {
	for _, v := range unclearVariants {
		t.Run(v.name, func(t *testing.T) {
			r := redistest.New(t)
			proxy := redistest.NewProxy(t, r.URL)
			e := startServe(t, proxy.URL()+v.query, r.Prefix, nil)
			head := e.gh.AddCommits("main", 2)[1]

			fired := proxy.DropReplyAfter(isCutWrite(r.Prefix))
			reply := e.slash(eRel, "cut dev")
			select {
			case <-fired:
			default:
				t.Fatal("the cut's train write did not go through the proxy's drop: its match is wrong")
			}
			contains(t, reply, "Cutting", "v0.1.0-dev.1")
			for _, lie := range []string{"nothing was tagged", "not recorded", "nothing was changed", "changed while this cut"} {
				if strings.Contains(reply, lie) {
					t.Errorf("the reply says %q:\n%s", lie, reply)
				}
			}
			e.channelMessage("v0.1.0-dev.1", "is deployed to dev")
			if tag, ok := e.gh.Tag("v0.1.0-dev.1"); !ok || tag.Commit != head {
				t.Errorf("tag = %+v, want on HEAD %s", tag, head)
			}
			if n := e.gh.Count("POST", "git/refs"); n != 1 {
				t.Errorf("%d tags created, want exactly 1", n)
			}
			if n := e.gh.Count("POST", "actions/workflows/"); n != 1 || len(e.gh.Dispatches()) != 1 {
				t.Errorf("%d dispatch requests (%d dispatches), want exactly 1", n, len(e.gh.Dispatches()))
			}
		})
	}
}

// TestE2EEnvelopeClaimReplyLost: the envelope's claim is applied and its
// reply lost. The command still runs, once: the user gets its reply, and
// Slack's redelivery of the envelope is ignored as handled.
func TestE2EEnvelopeClaimReplyLost(t *testing.T) {
	for _, v := range unclearVariants {
		t.Run(v.name, func(t *testing.T) {
			r := redistest.New(t)
			proxy := redistest.NewProxy(t, r.URL)
			e := startServe(t, proxy.URL()+v.query, r.Prefix, nil)
			e.gh.AddCommits("main", 1)

			env := e.slack.NewSlashCommand(slackfake.SlashCommand{UserID: eRel, ChannelID: eChan, Text: "cut dev"})
			fired := proxy.DropReplyAfter(func(cmd []string) bool { return slices.Contains(cmd, r.Prefix+"claim:envelope:"+env.ID) })
			contains(t, e.deliver(env), "Cutting", "v0.1.0-dev.1")
			select {
			case <-fired:
			default:
				t.Fatal("the envelope's claim did not go through the proxy's drop: its match is wrong")
			}
			if _, err := e.slack.Deliver(e.ctx(), env.Retry("timeout")); err != nil {
				t.Fatal(err)
			}
			e.channelMessage("v0.1.0-dev.1", "is deployed to dev")
			// A later command has answered: the redelivery ahead of it was dealt with.
			contains(t, e.slash(eRel, "history 1"), "v0.1.0-dev.1")
			if n := len(e.slack.ResponsePosts(env.ResponseURL)); n != 1 {
				t.Errorf("%d replies to the envelope delivered twice, want 1", n)
			}
			if n := e.gh.Count("POST", "git/refs"); n != 1 {
				t.Errorf("%d tags created, want exactly 1", n)
			}
			if n := len(e.gh.Dispatches()); n != 1 {
				t.Errorf("%d dispatches, want exactly 1", n)
			}
		})
	}
}
