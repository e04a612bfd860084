package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/githubfake"
	"github.com/trainbot/trainbot/internal/redistest"
)

// The metrics the alert rules (docs/prometheus-rules.yaml) read, through
// two real `trainbot serve` replicas on one Redis: the first takes the
// scheduler's lease (trainbot_scheduler_leader 1), the second does not (0)
// until the first stops and gives the lease back; each shows its Socket
// Mode connection, and GitHub's rate limit from the responses' headers.
func TestE2EOperationsMetrics(t *testing.T) {
	r := redistest.New(t)
	gh := githubfake.New(t)
	gh.SetRunSteps(1) // runs finish as they are polled
	fast := map[string]string{"TRAINBOT_SCHEDULER_TICK": "50ms"}
	first := startServeOn(t, gh, r.URL, r.Prefix, "", fast)
	first.waitMetrics("trainbot_scheduler_leader 1")

	gh.AddCommits("main", 1)
	contains(t, first.slash(eRel, "cut dev"), "Cutting", "v0.1.0-dev.1")
	first.channelMessage("v0.1.0-dev.1", "is deployed to dev")
	m := first.waitMetrics(`trainbot_github_rate_limit{resource="core"} 5000`, "trainbot_slack_socket_connected 1")
	remaining := regexp.MustCompile(`(?m)^trainbot_github_rate_limit_remaining\{resource="core"\} (\d+)$`).FindStringSubmatch(m)
	if remaining == nil || remaining[1] == "5000" || len(remaining[1]) != 4 {
		t.Errorf("trainbot_github_rate_limit_remaining after a train = %q, want below 5000", remaining)
	}
	contains(t, m, `trainbot_github_rate_limit_reset_timestamp_seconds{resource="core"} `)

	second := startServeOn(t, gh, r.URL, r.Prefix, "", fast)
	second.waitMetrics("trainbot_slack_socket_connected 1")
	contains(t, metricsLines(second), "trainbot_scheduler_leader 0")
	contains(t, metricsLines(first), "trainbot_scheduler_leader 1")

	if err := first.stop(); err != nil {
		t.Fatalf("stop the first replica: %v", err)
	}
	second.waitMetrics("trainbot_scheduler_leader 1")
}

// waitMetrics waits until /metrics has every line of wants, and returns it.
func (e *e2e) waitMetrics(wants ...string) string {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := metricsLines(e)
		missing := ""
		for _, w := range wants {
			if !strings.Contains(m, "\n"+w+"\n") {
				missing = w
				break
			}
		}
		if missing == "" {
			return m
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("/metrics never had %q:\n%s", missing, m)
		}
		time.Sleep(20 * time.Millisecond) // polling /metrics, as Prometheus would
	}
}

// metricsLines is /metrics, starting with a newline, so that "\n"+line+"\n"
// finds a whole line.
func metricsLines(e *e2e) string {
	_, m := e.get("/metrics")
	return "\n" + m
}
