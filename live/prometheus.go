package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/trainbot/trainbot/trains"
)

// Prometheus counts the instances that report a tag by an instant query of
// Prometheus's HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries).
type Prometheus struct {
	api   v1.API
	query Query
	where string // names the server in errors
	log   *slog.Logger
	// timeout bounds one query.
	timeout time.Duration
}

var _ trains.LiveVersions = (*Prometheus)(nil)

// Option changes a Prometheus adapter.
type Option func(*Prometheus)

// WithLogger logs the warnings Prometheus gives with an answer.
func WithLogger(l *slog.Logger) Option { return func(p *Prometheus) { p.log = l } }

// New returns an adapter that asks the Prometheus client talks to. where
// names that server in errors (its URL without credentials).
func New(client api.Client, where string, q Query, opts ...Option) *Prometheus {
	p := &Prometheus{api: v1.NewAPI(client), query: q, where: where, log: slog.New(slog.DiscardHandler),
		timeout: 10 * time.Second}
	for _, o := range opts {
		o(p)
	}
	return p
}

// CountLive runs the query for tag and returns the sum of the result's
// values: with DefaultQuery, count(…), the number of instances; with a
// query that returns the build_info series themselves (each 1), the
// number of series. An empty result is 0.
func (p *Prometheus) CountLive(ctx context.Context, tag string) (int, error) {
	q := p.query.For(tag)
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	// At Prometheus's own now (no time given): its samples carry its
	// clock's times, and trainbot's may differ from it.
	v, warnings, _, err := p.api.Query(ctx, q, time.Time{}, v1.WithTimeout(p.timeout))
	if err != nil {
		var ae *v1.Error
		if errors.As(err, &ae) && (ae.Type == v1.ErrBadData || ae.Type == v1.ErrExec) {
			return 0, fmt.Errorf("the query %s was refused by Prometheus at %s (%s): fix TRAINBOT_VERIFY_QUERY", q, p.where, ae.Msg)
		}
		return 0, fmt.Errorf("cannot reach Prometheus at %s, or it did not answer: %w", p.where, err)
	}
	if len(warnings) > 0 {
		p.log.Warn("Prometheus warns about the verification query", "query", q, "warnings", []string(warnings))
	}
	return count(v, q)
}

// count sums an instant query's values.
func count(v model.Value, q string) (int, error) {
	var sum float64
	switch r := v.(type) {
	case model.Vector:
		for _, s := range r {
			if !math.IsNaN(float64(s.Value)) {
				sum += float64(s.Value)
			}
		}
	case *model.Scalar:
		if !math.IsNaN(float64(r.Value)) {
			sum = float64(r.Value)
		}
	default:
		return 0, fmt.Errorf("the query %s returns a %s, not a number of instances: write an instant query such as %s", q, v.Type(), DefaultQuery)
	}
	if sum < 0 || sum > math.MaxInt32 {
		return 0, fmt.Errorf("the query %s returns %v, which is not a number of instances", q, sum)
	}
	return int(math.Round(sum)), nil
}
