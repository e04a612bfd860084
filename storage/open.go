// Package storage opens trainbot's state store from the settings: Redis
// when a REDIS_URL is set, else the embedded bbolt store in the data folder.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
)

// Config says which store to open.
type Config struct {
	// RedisURL selects Redis when set (REDIS_URL): see
	// redisstore.ClientFromURL for one node, Sentinel and Cluster URLs.
	RedisURL string
	// Prefix is the Redis key prefix (redisstore.DefaultPrefix when empty).
	Prefix string
	// DataDir is the embedded store's folder (TRAINBOT_DATA_DIR), used
	// when RedisURL is empty.
	DataDir string
	// Timeout bounds each store call whose context has no deadline
	// (redisstore.DefaultTimeout when zero).
	Timeout time.Duration
	// OnError, if set, is called on every failed store call (a metric).
	OnError func()
	// AuditMax bounds the audit log (TRAINBOT_AUDIT_MAX): each append
	// trims the oldest entries so that the newest AuditMax are kept
	// (DefaultAuditMax when not above zero). Each train's own log keeps
	// the newest min(AuditMax, TrainAuditMax). The embedded store trims
	// exactly; Redis trims whole stream nodes (XADD MAXLEN ~), so a
	// stream may hold up to stream-node-max-entries (100 by default) more.
	AuditMax int
	// Retention is the age past which the embedded store deletes finished
	// trains, deploy records, quiet windows and audit entries on write
	// (TRAINBOT_RETENTION; 0: never; see boltstore.WithRetention). Redis
	// keeps them: see docs/storage.md.
	Retention time.Duration
}

// DefaultAuditMax is the audit entries kept when Config.AuditMax is not
// set: TRAINBOT_AUDIT_MAX's default.
const DefaultAuditMax = 100_000

// TrainAuditMax caps each train's own audit log, which /train history
// <train> reads. A train's whole life (cut, each step, reminders,
// sign-offs) writes a few dozen entries; the cap only bites when someone
// repeats a command on one train, e.g. approve, over and over. It keeps the
// per-train copies from adding up to AuditMax for every train ever run.
const TrainAuditMax = 1000

// Open opens the store cfg selects. It returns the store, a Closer that
// releases it (the Redis client, or the bolt file and its lock), and a
// description for a start-up log line, e.g. "state store: redis
// 127.0.0.1:6379 db 0 prefix trainbot:" (never a password).
//
// A Redis that does not answer yet is not an error: Open logs a warning and
// the store answers ErrUnavailable until Redis is up, then recovers by
// itself. A bad URL, a one-node URL that reaches a Redis Cluster node or
// a Cluster URL that reaches a one-node Redis (redisstore.CheckTopology), or a data folder another trainbot holds, is
// an error.
func Open(ctx context.Context, cfg Config, clock trains.Clock, log *slog.Logger) (trains.Store, io.Closer, string, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.AuditMax <= 0 {
		cfg.AuditMax = DefaultAuditMax
	}
	trainAuditMax := min(cfg.AuditMax, TrainAuditMax)
	if cfg.RedisURL == "" {
		if cfg.DataDir == "" {
			return nil, nil, "", errors.New("no state store: set REDIS_URL for Redis, or TRAINBOT_DATA_DIR for the embedded store")
		}
		s, err := boltstore.Open(cfg.DataDir, clock, boltstore.WithLogger(log), boltstore.WithErrorHook(cfg.OnError),
			boltstore.WithAuditMax(cfg.AuditMax), boltstore.WithTrainAuditMax(trainAuditMax),
			boltstore.WithRetention(cfg.Retention))
		if err != nil {
			return nil, nil, "", err
		}
		return s, s, "state store: embedded " + filepath.Join(cfg.DataDir, boltstore.FileName), nil
	}

	client, desc, err := redisstore.ClientFromURL(cfg.RedisURL, cfg.Timeout)
	if err != nil {
		return nil, nil, "", err
	}
	s, err := redisstore.New(client, cfg.Prefix,
		redisstore.WithTimeout(cfg.Timeout), redisstore.WithClock(clock), redisstore.WithLogger(log),
		redisstore.WithErrorHook(cfg.OnError),
		redisstore.WithAuditMaxLen(int64(cfg.AuditMax)), redisstore.WithTrainAuditMaxLen(int64(trainAuditMax)))
	if err != nil {
		_ = client.Close()
		return nil, nil, "", err
	}
	if err := s.CheckTopology(ctx); err != nil {
		_ = client.Close()
		return nil, nil, "", err
	}
	if err := s.Ping(ctx); err != nil {
		log.Warn("redis does not answer yet; commands will say the state store is unavailable until it does",
			"store", desc, "err", err)
	}
	return s, client, fmt.Sprintf("state store: %s prefix %s", desc, s.Prefix()), nil
}
