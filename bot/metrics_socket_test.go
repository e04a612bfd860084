package bot

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trainbot/trainbot/internal/slackfake"
)

// trainbot_slack_socket_connected follows the real Socket Mode connection:
// 1 once slack-go has connected to the fake, 0 while the socket is gone
// and Slack refuses a new one, 1 again once it reconnects.
func TestSocketConnectedGauge(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	r := startBot(t, Config{}, newRecorder(), redisStore(t))
	if v := gaugeValue(t, r.reg, "trainbot_slack_socket_connected"); v != 1 {
		t.Fatalf("connected: trainbot_slack_socket_connected = %v, want 1", v)
	}

	r.fake.FailNext("apps.connections.open", -1, slackfake.HTTPStatus(http.StatusServiceUnavailable))
	if !r.fake.DropSocket() {
		t.Fatal("no socket to drop")
	}
	waitStatus(t, ctx, r.bot, false)
	if v := gaugeValue(t, r.reg, "trainbot_slack_socket_connected"); v != 0 {
		t.Errorf("disconnected: trainbot_slack_socket_connected = %v, want 0", v)
	}

	r.fake.ClearFaults("apps.connections.open")
	waitStatus(t, ctx, r.bot, true)
	if v := gaugeValue(t, r.reg, "trainbot_slack_socket_connected"); v != 1 {
		t.Errorf("reconnected: trainbot_slack_socket_connected = %v, want 1", v)
	}
}

// A nil *Metrics records nothing and does not panic.
func TestNilMetricsNewMethods(t *testing.T) {
	var m *Metrics
	m.SchedulerLeader(true)
	m.socketConnected(true)
	m.GitHubRateLimit("core", 1, 2, time.Now())
}

// gaugeValue is the value of the unlabelled gauge name in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s in the registry", name)
	return 0
}
