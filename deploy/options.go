package deploy

import (
	"io"
	"log/slog"
	"math/rand/v2"

	"github.com/trainbot/trainbot/trains"
)

// Option configures NewTransport, NewClient and New.
type Option func(*options)

type options struct {
	clock   trains.Clock
	sleeper trains.Sleeper
	logger  *slog.Logger
	jitter  func() float64 // in [0, 1)
	objects trains.TagObjectCache
}

func buildOptions(opts []Option) options {
	o := options{
		clock:   trains.SystemClock{},
		sleeper: trains.Sleep,
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
// (default: trains.Sleep, a real timer).
func WithSleeper(s trains.Sleeper) Option { return func(o *options) { o.sleeper = s } }

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
