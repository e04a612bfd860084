package storage_test

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage"
	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOpenEmbedded(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	clock := trainstest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	s, closer, desc, err := storage.Open(t.Context(), storage.Config{DataDir: dir}, clock, quiet)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer closer.Close()
	if _, ok := s.(*boltstore.Store); !ok || desc != "state store: embedded "+filepath.Join(dir, "trainbot.db") {
		t.Errorf("got %T, %q", s, desc)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = storage.Open(t.Context(), storage.Config{DataDir: dir}, clock, quiet)
	if err == nil || !strings.Contains(err.Error(), "in use by another trainbot") {
		t.Errorf("second open of the folder: got %v", err)
	}
}

func TestOpenRedis(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	s, closer, desc, err := storage.Open(t.Context(), storage.Config{RedisURL: r.URL, Prefix: r.Prefix, Timeout: time.Second}, trainstest.NewClock(time.Now()), quiet)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, ok := s.(*redisstore.Store); !ok || !strings.HasPrefix(desc, "state store: redis ") || !strings.HasSuffix(desc, " prefix "+r.Prefix) {
		t.Errorf("got %T, %q", s, desc)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	closer.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, trains.ErrUnavailable) {
		t.Errorf("ping after close: got %v, want ErrUnavailable", err)
	}
}

func TestOpenRedisDownIsNotAnError(t *testing.T) {
	t.Parallel()
	s, closer, _, err := storage.Open(t.Context(), storage.Config{RedisURL: "redis://127.0.0.1:1/0", Timeout: 200 * time.Millisecond}, trainstest.NewClock(time.Now()), quiet)
	if err != nil {
		t.Fatalf("open with Redis down: %v", err)
	}
	defer closer.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, trains.ErrUnavailable) {
		t.Errorf("ping: got %v, want ErrUnavailable", err)
	}
}

func TestOpenBadSettings(t *testing.T) {
	t.Parallel()
	for _, cfg := range []storage.Config{{}, {RedisURL: "http://x"}} {
		if _, _, _, err := storage.Open(t.Context(), cfg, trainstest.NewClock(time.Now()), quiet); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
