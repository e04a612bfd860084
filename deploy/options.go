package deploy

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/trainbot/trainbot/trains"
)

// Sleeper waits between retries and polls. Production waits on a timer;
// tests record the wait and move their clock instead, so that no test
// really waits.
type Sleeper interface {
	// Sleep waits for d, or returns ctx.Err() when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// SleeperFunc adapts a function to a Sleeper.
type SleeperFunc func(ctx context.Context, d time.Duration) error

// Sleep calls f(ctx, d).
func (f SleeperFunc) Sleep(ctx context.Context, d time.Duration) error { return f(ctx, d) }

// timerSleeper waits on a real timer.
type timerSleeper struct{}

func (timerSleeper) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// systemClock is the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Option configures NewTransport, NewClient and New.
type Option func(*options)

type options struct {
	clock   trains.Clock
	sleeper Sleeper
	logger  *slog.Logger
	jitter  func() float64 // in [0, 1)
	objects trains.TagObjectCache
}

func buildOptions(opts []Option) options {
	o := options{
		clock:   systemClock{},
		sleeper: timerSleeper{},
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		jitter:  rand.Float64,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock makes the transport and the Repo read the time from c
// (default: the system clock). Rate-limit resets and poll deadlines are
// measured on it.
func WithClock(c trains.Clock) Option { return func(o *options) { o.clock = c } }

// WithSleeper makes every wait (retry backoff, poll interval) go through s
// (default: a real timer).
func WithSleeper(s Sleeper) Option { return func(o *options) { o.sleeper = s } }

// WithLogger logs retries, waits and ambiguous outcomes to l (default:
// nowhere).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithJitter replaces the source of backoff jitter, a function returning a
// number in [0, 1) (default: math/rand/v2). Tests may fix it.
func WithJitter(f func() float64) Option { return func(o *options) { o.jitter = f } }

// WithTagObjectCache makes the Repo keep the tag objects it reads in c
// (the state store), and look there before asking GitHub: a tag object
// never changes, so a restarted trainbot reads none it read before. A
// cache that fails is logged and passed by: GitHub is asked instead.
func WithTagObjectCache(c trains.TagObjectCache) Option {
	return func(o *options) { o.objects = c }
}
