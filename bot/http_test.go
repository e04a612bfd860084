package bot

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack/socketmode"

	"github.com/trainbot/trainbot/internal/slackfake"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestReadyzFollowsTheSlackConnection(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.NewForTest(t, workspace())
	api := newAPI(fake)
	reg := prometheus.NewRegistry()
	store := redisStore(t)
	b := New(Config{}, Deps{Socket: socketmode.New(api), API: api, Handler: newRecorder(), Store: store,
		Metrics: NewMetrics(reg, "v1.2.3", "abc123"), Logger: testLogger(t)})
	h := NewHTTPHandler(HTTPConfig{Slack: b, Store: store, Gatherer: reg})

	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, h, "/readyz"); code != 503 || body != "slack: not connected to Slack yet\n" {
		t.Errorf("/readyz before connecting = %d %q", code, body)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz when connected = %d %q", code, body)
	}

	code, body := get(t, h, "/metrics")
	for _, want := range []string{`trainbot_build_info{commit="abc123",version="v1.2.3"} 1`, "trainbot_store_errors_total 0"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q:\n%s", code, want, body)
		}
	}
}

func TestReadyzNeedsTheStore(t *testing.T) {
	t.Parallel()
	h := NewHTTPHandler(HTTPConfig{Store: deadStore(t), Gatherer: prometheus.NewRegistry()})
	code, body := get(t, h, "/readyz")
	if code != 503 || !strings.HasPrefix(body, "store: ") || !strings.Contains(body, "state store unavailable") || strings.Count(body, "\n") != 1 {
		t.Errorf("/readyz with Redis down = %d %q", code, body)
	}
}

// TestCommandDurationLabels: each command given to NewMetrics has its own
// series from the start; any other name, and none, is "other".
func TestCommandDurationLabels(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "v1", "c1", "cut", "confirm", "skip")
	_, body := get(t, NewHTTPHandler(HTTPConfig{Gatherer: reg}), "/metrics")
	for _, c := range []string{"cut", "confirm", "skip", OtherCommand} {
		if want := `trainbot_command_duration_seconds_count{command="` + c + `"} 0`; !strings.Contains(body, want) {
			t.Errorf("/metrics before any command lacks %q", want)
		}
	}
	m.ObserveCommand("confirm", 20*time.Millisecond)
	m.ObserveCommand("frobnicate", time.Millisecond)
	m.ObserveCommand("", time.Millisecond)
	var nilMetrics *Metrics
	nilMetrics.ObserveCommand("cut", time.Second) // a nil *Metrics records nothing
	for c, want := range map[string]uint64{"cut": 0, "confirm": 1, "skip": 0, OtherCommand: 2, "frobnicate": 0} {
		if n := histogramCount(t, reg, "trainbot_command_duration_seconds", c); n != want {
			t.Errorf("trainbot_command_duration_seconds{command=%q} has %d samples, want %d", c, n, want)
		}
	}
}

func TestMetricsCounters(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "v1", "c1")
	m.TrainEnded("dev", "deployed")
	m.StoreError()
	m.GitHubRequests.WithLabelValues("200", "get").Inc()
	var nilMetrics *Metrics
	nilMetrics.TrainEnded("dev", "failed") // a nil *Metrics records nothing
	_, body := get(t, NewHTTPHandler(HTTPConfig{Gatherer: reg}), "/metrics")
	for _, want := range []string{
		`trainbot_trains_total{outcome="deployed",track="dev"} 1`,
		"trainbot_store_errors_total 1",
		`trainbot_github_requests_total{code="200",method="get"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
