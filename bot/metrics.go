package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trainbot/trainbot/trains"
)

// Metrics are trainbot's Prometheus metrics (SPEC §8). A nil *Metrics is
// valid and records nothing, so tests and tools may leave it out.
type Metrics struct {
	trains   *prometheus.CounterVec
	command  *prometheus.HistogramVec
	commands map[string]bool // the command labels; any other name is OtherCommand
	ack      prometheus.Histogram
	storeErr prometheus.Counter
	leader   prometheus.Gauge
	socket   prometheus.Gauge
	ghRemain *prometheus.GaugeVec
	ghLimit  *prometheus.GaugeVec
	ghReset  *prometheus.GaugeVec
	// verified counts ended live verifications (trainbot_train_verifications_total).
	verified *prometheus.CounterVec

	// GitHubRequests counts GitHub API requests by HTTP status code and
	// method (trainbot_github_requests_total{code,method}). Its labels are
	// the ones promhttp.InstrumentRoundTripperCounter fills, so the wiring
	// can wrap the GitHub transport with it.
	GitHubRequests *prometheus.CounterVec
}

// OtherCommand labels trainbot_command_duration_seconds for text that
// names none of the commands given to NewMetrics.
const OtherCommand = "other"

// NewMetrics registers trainbot's metrics on reg and sets
// trainbot_build_info{version,commit} to 1. commands are the /train
// commands' names (commands.Names): each labels its own series of
// trainbot_command_duration_seconds, there from the start with no samples,
// and any other name is counted as OtherCommand. It panics if a metric of
// the same name is registered already, as prometheus.MustRegister does:
// that is a wiring bug found at start-up.
func NewMetrics(reg prometheus.Registerer, version, commit string, commands ...string) *Metrics {
	m := &Metrics{
		commands: map[string]bool{},
		trains: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trainbot_trains_total",
			Help: "Trains that reached a final state, by track and outcome (deployed, failed, skipped, postponed).",
		}, []string{"track", "outcome"}),
		command: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trainbot_command_duration_seconds",
			Help:    "Time from a command's envelope arriving (before its ack and any wait for a worker) to its reply being ready, by command; a button click is labelled with the command it runs.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"command"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trainbot_ack_duration_seconds",
			Help:    "Time from the bot taking a Socket Mode envelope from the client to its ack being handed to the socket (Slack's limit is 3 s).",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3},
		}),
		storeErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trainbot_store_errors_total",
			Help: "State store calls that failed.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trainbot_scheduler_leader",
			Help: "1 while this replica holds the scheduler's leader lease and runs the scheduler, else 0; across replicas, max() is 1 when some replica leads.",
		}),
		socket: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trainbot_slack_socket_connected",
			Help: "1 while the Socket Mode connection to Slack is up, else 0 (connecting, reconnecting, refused, shutting down).",
		}),
		ghRemain: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trainbot_github_rate_limit_remaining",
			Help: "Requests left in GitHub's current rate-limit window, from the X-RateLimit-Remaining header of the latest response, by rate-limit resource (core, graphql, search …).",
		}, []string{"resource"}),
		ghLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trainbot_github_rate_limit",
			Help: "Requests allowed in GitHub's rate-limit window, from the X-RateLimit-Limit header of the latest response, by rate-limit resource.",
		}, []string{"resource"}),
		ghReset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trainbot_github_rate_limit_reset_timestamp_seconds",
			Help: "When GitHub's current rate-limit window resets (Unix time), from the X-RateLimit-Reset header of the latest response, by rate-limit resource; once past, the remaining count is stale.",
		}, []string{"resource"}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trainbot_train_verifications_total",
			Help: "Live verifications of deployed trains that ended, by track and result: verified (an instance reported the tag in build_info) or unverified (none did before TRAINBOT_VERIFY_TIMEOUT).",
		}, []string{"track", "result"}),
		GitHubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trainbot_github_requests_total",
			Help: "GitHub API requests by HTTP status code and method.",
		}, []string{"code", "method"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trainbot_build_info",
		Help: "Always 1; the labels say which build is running.",
	}, []string{"version", "commit"})
	build.WithLabelValues(version, commit).Set(1)
	for _, c := range commands {
		m.commands[c] = true
		m.command.WithLabelValues(c)
	}
	m.command.WithLabelValues(OtherCommand)
	// Each track's deployed and failed trains are there from the start at
	// 0, so that increase() sees a replica's first failure (the
	// TrainbotTrainFailed alert).
	for _, track := range trains.Tracks {
		for _, outcome := range []trains.State{trains.Deployed, trains.Failed} {
			m.trains.WithLabelValues(string(track), string(outcome))
		}
		// And its verification results, for the TrainbotTrainUnverified alert.
		for _, result := range []string{"verified", "unverified"} {
			m.verified.WithLabelValues(string(track), result)
		}
	}
	reg.MustRegister(build, m.trains, m.command, m.ack, m.storeErr, m.GitHubRequests,
		m.leader, m.socket, m.ghRemain, m.ghLimit, m.ghReset, m.verified)
	return m
}

// TrainEnded counts a train that reached a final state.
func (m *Metrics) TrainEnded(track, outcome string) {
	if m == nil {
		return
	}
	m.trains.WithLabelValues(track, outcome).Inc()
}

// TrainVerified counts a live verification that ended: result is
// "verified" or "unverified" (trains.VerifyObserver).
func (m *Metrics) TrainVerified(track, result string) {
	if m == nil {
		return
	}
	m.verified.WithLabelValues(track, result).Inc()
}

// StoreError counts a failed state store call.
func (m *Metrics) StoreError() {
	if m == nil {
		return
	}
	m.storeErr.Inc()
}

// observeAck records how long an ack took.
func (m *Metrics) observeAck(d time.Duration) {
	if m == nil {
		return
	}
	m.ack.Observe(d.Seconds())
}

// ObserveCommand records how long a command took, labelled with its
// name, or OtherCommand for a name not given to NewMetrics ("" included).
// It is what commands.Deps.Observe is wired to: the one place a command's
// duration is recorded.
func (m *Metrics) ObserveCommand(command string, took time.Duration) {
	if m == nil {
		return
	}
	if !m.commands[command] {
		command = OtherCommand
	}
	m.command.WithLabelValues(command).Observe(took.Seconds())
}

// SchedulerLeader records whether this replica holds the scheduler's
// leader lease (trainbot_scheduler_leader): trains.SchedulerConfig.Leading
// is wired to it.
func (m *Metrics) SchedulerLeader(leading bool) {
	if m == nil {
		return
	}
	m.leader.Set(boolValue(leading))
}

// socketConnected records whether the Socket Mode connection is up
// (trainbot_slack_socket_connected).
func (m *Metrics) socketConnected(connected bool) {
	if m == nil {
		return
	}
	m.socket.Set(boolValue(connected))
}

// GitHubRateLimit records GitHub's rate limit for resource as the latest
// response gave it: remaining requests of limit, until reset (zero: not
// given, left as it was) (trainbot_github_rate_limit_remaining,
// trainbot_github_rate_limit,
// trainbot_github_rate_limit_reset_timestamp_seconds). It is a
// deploy.RateLimitObserver.
func (m *Metrics) GitHubRateLimit(resource string, remaining, limit int, reset time.Time) {
	if m == nil {
		return
	}
	m.ghRemain.WithLabelValues(resource).Set(float64(remaining))
	m.ghLimit.WithLabelValues(resource).Set(float64(limit))
	if !reset.IsZero() {
		m.ghReset.WithLabelValues(resource).Set(float64(reset.Unix()))
	}
}

// boolValue is 1 for true, 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
