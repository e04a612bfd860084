package bot

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultPingTimeout bounds the store ping of /readyz.
const DefaultPingTimeout = time.Second

// SlackStatuser reports the Slack connection's state; *Bot is one.
type SlackStatuser interface {
	SlackStatus() SlackStatus
}

// Pinger checks a store answers; a trains.Store is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// HTTPConfig is what NewHTTPHandler serves.
type HTTPConfig struct {
	// Slack reports the connection for /readyz; nil means Slack is not
	// needed (e.g. a tool without it) and counts as connected.
	Slack SlackStatuser
	// Store is pinged by /readyz; nil skips the check.
	Store Pinger
	// Gatherer is served at /metrics (prometheus.DefaultGatherer when nil).
	Gatherer prometheus.Gatherer
	// PingTimeout bounds the store ping (DefaultPingTimeout when zero).
	PingTimeout time.Duration
}

// NewHTTPHandler returns a mux serving /healthz (200 "ok" while the
// process runs), /readyz (200 "ready" when Slack is connected and the
// store answers within PingTimeout; else 503 with a one-line reason) and
// /metrics. Add more routes to the returned mux.
func NewHTTPHandler(cfg HTTPConfig) *http.ServeMux {
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.DefaultGatherer
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if reason := notReady(r.Context(), cfg); reason != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintln(w, reason)
			return
		}
		_, _ = fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	return mux
}

// notReady returns why the process is not ready, or "".
func notReady(ctx context.Context, cfg HTTPConfig) string {
	if cfg.Slack != nil {
		if st := cfg.Slack.SlackStatus(); !st.Connected {
			return "slack: " + st.Reason
		}
	}
	if cfg.Store != nil {
		ctx, cancel := context.WithTimeout(ctx, cfg.PingTimeout)
		defer cancel()
		if err := cfg.Store.Ping(ctx); err != nil {
			return "store: " + err.Error()
		}
	}
	return ""
}
