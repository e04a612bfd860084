package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/live"
)

func TestVerifySettingsDefaults(t *testing.T) {
	c, err := defaults(t).Parse(ModeCalendar)
	if err != nil {
		t.Fatal(err)
	}
	if c.PrometheusURL != "" || c.VerifyQuery.String() != live.DefaultQuery || c.VerifyTimeout != 15*time.Minute || c.VerifyPoll != 5*time.Second {
		t.Errorf("defaults: url %q, query %q, timeout %s, poll %s", c.PrometheusURL, c.VerifyQuery, c.VerifyTimeout, c.VerifyPoll)
	}
	if got := c.VerifyQuery.For("v0.5.0-staging.1"); got != `count(build_info{version="v0.5.0-staging.1"})` {
		t.Errorf("the default query for v0.5.0-staging.1 is %s", got)
	}
	// Off: no Prometheus is asked.
	if lv, err := liveVersions(c, newLogger(&strings.Builder{}, "info", false)); lv != nil || err != nil {
		t.Errorf("with no TRAINBOT_PROMETHEUS_URL: %v, %v; want off", lv, err)
	}
}

func TestVerifySettingsParse(t *testing.T) {
	s := defaults(t)
	s.PrometheusURL = "https://trainbot:pw@prometheus.internal:9090/prom/"
	s.VerifyQuery = ` sum(app_build_info{job="chain", tag=~"{{tag}}"}) `
	s.VerifyTimeout, s.VerifyPoll = "30m", "250ms"
	c, err := s.Parse(ModeCalendar)
	if err != nil {
		t.Fatal(err)
	}
	if c.PrometheusWhere != "https://prometheus.internal:9090/prom/" || c.VerifyTimeout != 30*time.Minute || c.VerifyPoll != 250*time.Millisecond {
		t.Errorf("parsed: where %q, timeout %s, poll %s", c.PrometheusWhere, c.VerifyTimeout, c.VerifyPoll)
	}
	if got := c.VerifyQuery.For("v1.2"); got != `sum(app_build_info{job="chain", tag=~"v1\\.2"})` {
		t.Errorf("the query for v1.2 is %s", got)
	}
	var log strings.Builder
	if lv, err := liveVersions(c, newLogger(&log, "info", false)); lv == nil || err != nil {
		t.Errorf("with TRAINBOT_PROMETHEUS_URL: %v, %v; want on", lv, err)
	}
	if strings.Contains(log.String(), "pw@") || !strings.Contains(log.String(), "live verification on") {
		t.Errorf("start-up log:\n%s", log.String())
	}
	// A dry run deploys nothing: nothing to see live.
	c.DryRun = true
	if lv, err := liveVersions(c, newLogger(&strings.Builder{}, "info", false)); lv != nil || err != nil {
		t.Errorf("dry run: %v, %v; want off", lv, err)
	}
}

func TestVerifySettingsRefused(t *testing.T) {
	const secret = "s3cret"
	for _, tc := range []struct {
		name, variable, value, want string
	}{
		{"not a URL", "TRAINBOT_PROMETHEUS_URL", "prometheus:9090", "is not an http(s) URL with a host"},
		{"no host", "TRAINBOT_PROMETHEUS_URL", "http:///api", "is not an http(s) URL with a host"},
		{"a password in a URL that does not parse", "TRAINBOT_PROMETHEUS_URL", "http://u:" + secret + "@[::1/", "is not an http(s) URL"},
		{"a query", "TRAINBOT_PROMETHEUS_URL", "http://u:" + secret + "@prom:9090/?x=1", "http://prom:9090/… must not have a query"},
		{"no placeholder", "TRAINBOT_VERIFY_QUERY", `count(build_info{version="v1"})`, "does not hold {{tag}}"},
		{"placeholder outside a string", "TRAINBOT_VERIFY_QUERY", `count(build_info{version={{tag}}})`, "outside a quoted string"},
		{"empty query", "TRAINBOT_VERIFY_QUERY", "", "is empty"},
		{"unbalanced", "TRAINBOT_VERIFY_QUERY", `count(build_info{version="{{tag}}"}`, "unclosed"},
		{"timeout not a duration", "TRAINBOT_VERIFY_TIMEOUT", "15", `"15" is not a duration from 1s to 24h`},
		{"timeout zero", "TRAINBOT_VERIFY_TIMEOUT", "0s", "is not a duration from 1s to 24h"},
		{"timeout too long", "TRAINBOT_VERIFY_TIMEOUT", "25h", "is not a duration from 1s to 24h"},
		{"poll too short", "TRAINBOT_VERIFY_POLL", "1ms", "is not a duration from 10ms to 5m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaults(t)
			switch tc.variable {
			case "TRAINBOT_PROMETHEUS_URL":
				s.PrometheusURL = tc.value
			case "TRAINBOT_VERIFY_QUERY":
				s.VerifyQuery, s.PrometheusURL = tc.value, "http://prom:9090"
			case "TRAINBOT_VERIFY_TIMEOUT":
				s.VerifyTimeout = tc.value
			case "TRAINBOT_VERIFY_POLL":
				s.VerifyPoll = tc.value
			}
			_, err := s.Parse(ModeCalendar)
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.variable, tc.value)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.variable+": ") || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("got %q, want one line naming %s and saying %q", msg, tc.variable, tc.want)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("the error shows the password: %q", msg)
			}
		})
	}
}

// With live verification off, an empty TRAINBOT_VERIFY_QUERY is no
// problem: nothing is asked.
func TestVerifyQueryEmptyWhenOff(t *testing.T) {
	s := defaults(t)
	s.VerifyQuery = ""
	if _, err := s.Parse(ModeCalendar); err != nil {
		t.Errorf("an empty query with no Prometheus: %v", err)
	}
}

func TestVerifySettingsFromTheEnvironment(t *testing.T) {
	clearEnv(t)
	t.Setenv("TRAINBOT_PROMETHEUS_URL", "http://127.0.0.1:9090")
	t.Setenv("TRAINBOT_VERIFY_QUERY", `count(up{job="x"}) and count(build_info{version="{{tag}}"})`)
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Parse(ModeCalendar)
	if err != nil {
		t.Fatal(err)
	}
	if c.PrometheusURL != "http://127.0.0.1:9090" || !strings.Contains(c.VerifyQuery.For("v2"), `version="v2"`) {
		t.Errorf("from the environment: %q, %q", c.PrometheusURL, c.VerifyQuery)
	}
}
