package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/api"

	"github.com/trainbot/trainbot/live"
	"github.com/trainbot/trainbot/trains"
)

// liveVersions is the Prometheus that live verification asks
// (TRAINBOT_PROMETHEUS_URL), or nil when verification is off: no URL, or
// a dry run, whose deploys reach no instance.
func liveVersions(c Config, log *slog.Logger) (trains.LiveVersions, error) {
	if c.PrometheusURL == "" {
		return nil, nil
	}
	if c.DryRun {
		log.Info("dry run: live verification is off, as nothing is deployed", "prometheus", c.PrometheusWhere)
		return nil, nil
	}
	client, err := api.NewClient(api.Config{Address: c.PrometheusURL})
	if err != nil {
		return nil, fmt.Errorf("TRAINBOT_PROMETHEUS_URL %s: %w", c.PrometheusWhere, err)
	}
	log.Info("live verification on", "prometheus", c.PrometheusWhere, "query", c.VerifyQuery.String(), "timeout", c.VerifyTimeout)
	return live.New(client, c.PrometheusWhere, c.VerifyQuery, live.WithLogger(log.With("part", "live"))), nil
}
