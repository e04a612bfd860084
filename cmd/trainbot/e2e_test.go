package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
)

func TestE2ECutDev(t *testing.T) {
	stores(t, func(t *testing.T, redisURL, prefix string) {
		e := startServe(t, redisURL, prefix, nil)
		head := e.gh.AddCommits("main", 2)[1]

		env := e.slack.NewSlashCommand(slackfake.SlashCommand{UserID: eRel, ChannelID: eChan, Text: "cut dev"})
		reply := e.deliver(env)
		contains(t, reply, "Cutting", "v0.1.0-dev.1")
		// The same envelope redelivered does nothing.
		if _, err := e.slack.Deliver(e.ctx(), env.Retry("timeout")); err != nil {
			t.Fatal(err)
		}
		last := e.channelMessage("v0.1.0-dev.1", "is deployed to dev") // the thread's last word
		top, _ := e.slack.Message(eChan, last.ThreadTS)
		contains(t, top.AllText(), "Dev train v0.1.0-dev.1", "deployed")
		thread := e.slack.Thread(eChan, top.TS)
		var all []string
		for _, m := range thread {
			all = append(all, m.AllText())
		}
		contains(t, strings.Join(all, "\n"), "Tagged", "publish-images.yaml", "Dispatched", "deployed to dev")
		if tag, ok := e.gh.Tag("v0.1.0-dev.1"); !ok || tag.Commit != head {
			t.Errorf("tag = %+v, want on HEAD %s", tag, head)
		}
		if runs := e.gh.Runs("publish-images.yaml"); len(runs) != 1 || runs[0].Conclusion != "success" {
			t.Errorf("publish runs = %+v", runs)
		}
		ds := e.gh.Dispatches()
		if len(ds) != 1 || ds[0].Ref != "v0.1.0-dev.1" || ds[0].Inputs["environment"] != "dev" || ds[0].Inputs["release_type"] != "dev" {
			t.Errorf("dispatches = %+v", ds)
		}
		if n := len(e.slack.ResponsePosts(env.ResponseURL)); n != 1 {
			t.Errorf("%d replies to one envelope delivered twice, want 1", n)
		}

		// Health, metrics and the calendar.
		if code, body := e.get("/readyz"); code != 200 {
			t.Errorf("/readyz = %d %s", code, body)
		}
		_, metrics := e.get("/metrics")
		contains(t, metrics, "trainbot_build_info{", `trainbot_trains_total{outcome="deployed",track="dev"} 1`,
			"trainbot_github_requests_total", "trainbot_ack_duration_seconds")
		_, ics := e.get("/calendar.ics")
		contains(t, ics, "BEGIN:VCALENDAR", "UID:dev-", "."+e.gh.Owner()+"."+e.gh.Repo()+"@trainbot")
		// Outside Slack, people are named (users.info); in Slack, mentioned.
		contains(t, e.slash(eRel, "oncall rotation <@"+eRel+">"), "<@"+eRel+">")
		_, page := e.get("/calendar")
		contains(t, page, `<span class="oncall">rel</span>`)
	})
}

func TestE2EConcurrentCutsAndRoles(t *testing.T) {
	r := redistest.New(t)
	e := startServe(t, r.URL, r.Prefix, nil)
	e.gh.AddCommits("main", 1)

	reply := e.slash(eOther, "cut dev")
	contains(t, reply, "Only releasers may do that", "Nothing was changed")
	if len(e.gh.Tags()) != 0 {
		t.Fatal("a refused cut made a tag")
	}
	var wg sync.WaitGroup
	replies := make([]string, 2)
	for i := range replies {
		wg.Add(1)
		go func() { defer wg.Done(); replies[i] = e.slash(eRel, "cut dev") }()
	}
	wg.Wait()
	host, _ := os.Hostname()
	for _, r := range replies { // the loser is told, but not which host or process holds the lock
		if strings.Contains(r, fmt.Sprintf("%s/%d", host, os.Getpid())) || strings.Contains(r, "lock held by") {
			t.Errorf("a reply shows where trainbot runs:\n%s", r)
		}
	}
	e.channelMessage("v0.1.0-dev.1", "is deployed to dev")
	if n, d := len(e.gh.Tags()), len(e.gh.Dispatches()); n != 1 || d != 1 {
		t.Errorf("%d tags and %d dispatches from two concurrent cuts, want 1 and 1", n, d)
	}
}

func TestE2EPauseHotfixResume(t *testing.T) {
	e := startServe(t, "", "", nil)
	e.gh.AddTag("v0.5.0-staging.1", e.gh.Head("main"))
	fix := e.gh.AddCommits("main", 1)[0]

	contains(t, e.slash(eOps, "pause 2h mtest-val-01 re-roll"), "Quiet window declared")
	contains(t, e.slash(eRel, "cut dev"), "Trains are paused until", "mtest-val-01 re-roll", "Nothing was cut")
	contains(t, e.slash(eVal, "hotfix "+fix+" validators paged"), "v0.5.0-hotfix.1", "Trains are paused")
	e.channelMessage("Hotfix v0.5.0-hotfix.1", "Made during a quiet window", "mtest-val-01 re-roll", "deployed")
	contains(t, e.slash(eOps, "resume"), "Ended 1 quiet window")
	contains(t, e.slash(eRel, "cut dev"), "Cutting", "v0.5.0-dev.1")
	e.channelMessage("Dev train v0.5.0-dev.1", "deployed")
}

func TestE2EBadInput(t *testing.T) {
	e := startServe(t, "", "", nil)
	contains(t, e.slash(eRel, "frobnicate"), "I don't know the command")
	contains(t, e.slash(eOps, "pause 6x re-roll"), "is not a duration", "/train pause")
	contains(t, e.slash(eRel, ""), "/train cut dev|staging")
	contains(t, e.slash(eRel, strings.Repeat("x", 20*1024)), "too long for a command")
	contains(t, e.slash(eRel, "cut dev --"+strings.Repeat("&lt;", 500)), "unknown flag", "/train cut")
	// "@channel" and a link as Slack sends them (tokens), and the same typed
	// literally (entities): neither may ping or link in the channel.
	contains(t, e.slash(eOps, "pause 1h <!channel> see <https://evil.example|this> &amp; more"), "Quiet window declared")
	contains(t, e.slash(eOps, "pause 1h typed "+slackfake.EscapeText("<!here> <https://x.example|y>")), "Quiet window declared")
	for _, want := range []string{"evil.example", "typed"} {
		m := e.channelMessage("Quiet window", want)
		for _, bad := range []string{"<!channel>", "<!here>", "<https://evil.example|this>", "<https://x.example|y>"} {
			if strings.Contains(m.AllText(), bad) {
				t.Errorf("unescaped %q reached the channel:\n%s", bad, m.AllText())
			}
		}
	}
	contains(t, e.channelMessage("Quiet window", "evil.example").AllText(), "@channel see this (https://evil.example) &amp; more")
	contains(t, e.channelMessage("Quiet window", "typed").AllText(), "&lt;!here&gt; &lt;https://x.example|y&gt;")
	contains(t, e.slash(eRel, "help"), "/train stats") // still answering
}

func TestE2EStoreDownAndBack(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	e := startServe(t, srv.URL(), "{e2e}:", nil)
	contains(t, e.slash(eRel, "oncall rotation <@UREL> <@UVAL>"), "Rotation set")
	srv.Kill()
	contains(t, e.slash(eRel, "oncall rotation <@UVAL> <@UREL>"), "tate store unavailable — nothing was changed")
	if code, _ := e.get("/readyz"); code != 503 {
		t.Errorf("/readyz with Redis down = %d", code)
	}
	if _, m := e.get("/metrics"); strings.Contains(m, "trainbot_store_errors_total 0") || !strings.Contains(m, "trainbot_store_errors_total") {
		t.Error("the store errors were not counted in /metrics")
	}
	srv.Restart()
	contains(t, e.slash(eRel, "oncall"), "Rotation: <@UREL>, <@UVAL>")
	if st := e.slack.Stats(); st.ConnectionsOpened != 1 {
		t.Errorf("the Socket Mode connection was reopened %d times", st.ConnectionsOpened)
	}
}

func TestE2EButtonsAndStaging(t *testing.T) {
	e := startServe(t, "", "", map[string]string{"TRAINBOT_REMINDERS": "336h"})
	soaked := e.gh.AddCommits("main", 1)[0]
	e.gh.AddAnnotatedTag("v0.5.0-dev.4", soaked, "dev", time.Now().Add(-8*24*time.Hour))
	e.gh.AddCommits("main", 1)

	contains(t, e.slash(eRel, "cut staging"), "needs 1 validator approval", "<@UVAL>")
	contains(t, e.slash(eRel, "approve next-staging"), "Only validators may do that")

	// The scheduler posts the staging reminder (the lead is two weeks) with its buttons.
	rem := e.channelMessage("Staging train staging-", "Approve")
	ack, err := e.slack.Click(e.ctx(), eOther, rem, "approve")
	if err != nil {
		t.Fatal(err)
	}
	post, err := e.slack.WaitResponse(e.ctx(), ack.Envelope.ResponseURL, func(slackfake.ResponsePost) bool { return true })
	if err != nil || !strings.Contains(post.Text, "Only validators may do that") {
		t.Errorf("a stranger's click: %+v, %v", post, err)
	}
	if _, err := e.slack.Click(e.ctx(), eVal, rem, "approve"); err != nil {
		t.Fatal(err)
	}
	edited, err := e.slack.WaitMessage(e.ctx(), func(m slackfake.Message) bool {
		return m.TS == rem.TS && strings.Contains(m.AllText(), "1 of 1: <@UVAL>")
	})
	if err != nil {
		t.Fatalf("the reminder was not updated after the approval: %v", err)
	}
	_ = edited
	contains(t, e.slash(eRel, "cut staging"), "Cutting", "v0.5.0-staging.1")
	e.channelMessage("Staging train v0.5.0-staging.1", "deployed")
	if tag, _ := e.gh.Tag("v0.5.0-staging.1"); tag.Commit != soaked {
		t.Errorf("staging tag on %s, want the soaked dev commit %s", tag.Commit, soaked)
	}
}

// A trainbot stopped while a train waits for its publish run leaves the
// train where it is; the next trainbot takes it up and deploys it, once.
func TestE2ERestartResumesTrain(t *testing.T) {
	r := redistest.New(t)
	gh := githubfake.New(t) // runs stay queued until the test moves them
	data := t.TempDir()
	grace := map[string]string{"TRAINBOT_SHUTDOWN_GRACE": "100ms"}
	first := startServeOn(t, gh, r.URL, r.Prefix, data, grace)
	gh.AddCommits("main", 1)
	contains(t, first.slash(eRel, "cut dev"), "Cutting", "v0.1.0-dev.1")
	first.channelMessage("Waiting for", "publish-images.yaml")
	if err := first.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if n := len(gh.Dispatches()); n != 0 {
		t.Fatalf("%d dispatches before the publish run finished", n)
	}
	runs := gh.Runs("publish-images.yaml")
	if len(runs) != 1 {
		t.Fatalf("publish runs = %+v", runs)
	}
	gh.CompleteRun(runs[0].ID, "success")
	gh.SetRunSteps(1)

	second := startServeOn(t, gh, r.URL, r.Prefix, data, grace)
	second.channelMessage("v0.1.0-dev.1", "is deployed to dev")
	if n := len(gh.Dispatches()); n != 1 {
		t.Errorf("%d dispatches after the restart, want 1", n)
	}
	contains(t, second.slash(eRel, "history 1"), "deployed", "v0.1.0-dev.1")
}
