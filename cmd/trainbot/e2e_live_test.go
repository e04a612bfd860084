package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/promtest"
	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/slackfake"
)

// TestE2ETrainVerifiedLive: trainbot serve (Redis, slackfake, githubfake)
// with TRAINBOT_PROMETHEUS_URL on a real Prometheus scraping the
// services' build_info: a dev train deploys, the instances begin to
// report its tag, and the thread says it is live, the top message shows
// it, and /metrics counts it.
func TestE2ETrainVerifiedLive(t *testing.T) {
	svc := promtest.NewExporter(t, "v0.0.9-dev.1", 2)
	prom := promtest.Start(t, svc.Target())
	svc.WaitScraped(t, 1, 30*time.Second)
	r := redistest.New(t)
	e := startServe(t, r.URL, r.Prefix, map[string]string{
		"TRAINBOT_PROMETHEUS_URL": prom.URL, "TRAINBOT_VERIFY_POLL": "100ms", "TRAINBOT_SHUTDOWN_GRACE": "1s",
	})
	e.gh.AddCommits("main", 1)

	contains(t, e.slash(eRel, "cut dev"), "Cutting", "v0.1.0-dev.1")
	done := e.channelMessage("v0.1.0-dev.1", "is deployed to dev")
	top := e.topMessage(done.ThreadTS, "verifying — waiting for an instance to report v0.1.0-dev.1")
	svc.SetVersion("v0.1.0-dev.1") // the deploy reaches the instances
	e.channelMessage("🟢 live: 2 instances report", "v0.1.0-dev.1")
	e.topMessage(top.TS, "verified — 2 instances report v0.1.0-dev.1")
	_, metrics := e.get("/metrics")
	contains(t, metrics, `trainbot_train_verifications_total{result="verified",track="dev"} 1`)
	contains(t, e.slash(eRel, "history 1"), "deployed", "v0.1.0-dev.1", "(verified)")
}

// TestE2ETrainUnverifiedCounted: no instance reports the tag before
// TRAINBOT_VERIFY_TIMEOUT; the thread says so, the train is counted as
// unverified in /train stats and in /metrics.
func TestE2ETrainUnverifiedCounted(t *testing.T) {
	svc := promtest.NewExporter(t, "v0.0.9-dev.1", 1)
	prom := promtest.Start(t, svc.Target())
	e := startServe(t, "", "", map[string]string{
		"TRAINBOT_PROMETHEUS_URL": prom.URL, "TRAINBOT_VERIFY_POLL": "100ms", "TRAINBOT_VERIFY_TIMEOUT": "2s", "TRAINBOT_SHUTDOWN_GRACE": "1s",
	})
	e.gh.AddCommits("main", 1)

	contains(t, e.slash(eRel, "cut dev"), "Cutting", "v0.1.0-dev.1")
	m := e.channelMessage("The deploy run succeeded but no instance reports", "v0.1.0-dev.1", "after 2s")
	e.topMessage(m.ThreadTS, "unverified — no instance reported v0.1.0-dev.1 within 2s")
	contains(t, e.slash(eRel, "stats"), "1 unverified")
	contains(t, e.slash(eRel, "history 1"), "v0.1.0-dev.1", "(unverified)")
	_, metrics := e.get("/metrics")
	contains(t, metrics, `trainbot_train_verifications_total{result="unverified",track="dev"} 1`)
}

// topMessage waits until the channel's message ts (a train's top message,
// edited as the train moves) has all of wants.
func (e *e2e) topMessage(ts string, wants ...string) slackfake.Message {
	e.t.Helper()
	m, err := e.slack.WaitMessage(e.ctx(), func(m slackfake.Message) bool {
		if m.Channel != eChan || m.TS != ts {
			return false
		}
		for _, w := range wants {
			if !strings.Contains(m.AllText(), w) {
				return false
			}
		}
		return true
	})
	if err != nil {
		cur, _ := e.slack.Message(eChan, ts)
		e.t.Fatalf("the top message never had %q: %v; it is:\n%s", wants, err, cur.AllText())
	}
	return m
}
