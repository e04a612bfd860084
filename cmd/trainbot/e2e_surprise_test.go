package main

import (
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
)

// A deploy made by hand outside trainbot — a push to main deploying at
// once — is announced in the validators' channel with the commit (short
// sha and the first line of its message, shown as text however hostile),
// who triggered it, the event and a link to the run (SPEC §2).
func TestE2EUnscheduledDeployNamed(t *testing.T) {
	stores(t, func(t *testing.T, redisURL, prefix string) {
		e := startServe(t, redisURL, prefix, nil)
		sha := e.gh.AddCommit("main", "Hotfix the RPC pool <!channel>\n\n<!here> details below", time.Time{})
		e.gh.StartRunAs(githubfake.RunSpec{Workflow: "deploy-simple.yaml", Branch: "main", SHA: sha, Event: "push", Actor: "dave"})

		m := e.channelMessage("Unscheduled deploy", sha[:7])
		all := m.AllText()
		contains(t, all, "main", "Hotfix the RPC pool &lt;!channel&gt;", "dave", "push", e.gh.Runs("deploy-simple.yaml")[0].URL)
		lacks(t, all, "<!channel>", "<!here>", "&lt;!here&gt;", "details below")
		if m.ThreadTS != "" {
			t.Errorf("the announcement is in a thread (%s), want a top message", m.ThreadTS)
		}
	})
}
