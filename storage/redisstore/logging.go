package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// RouteLogs sends go-redis's own log lines (e.g. "failed to dial after 5
// attempts" while Redis is down) to log at debug level, instead of the
// standard error that go-redis writes them to by default. The store already
// reports every failure as ErrUnavailable, so they only add noise. go-redis
// has one logger per process: call this once, at start-up.
func RouteLogs(log *slog.Logger) { redis.SetLogger(slogPrinter{log}) }

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.log.DebugContext(ctx, fmt.Sprintf(format, v...), "part", "go-redis")
}
