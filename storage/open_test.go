package storage_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/internal/syncbuf"
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

func auditN(t *testing.T, s trains.Store, n int, train trains.TrainID) {
	t.Helper()
	for i := range n {
		e := trains.AuditEntry{At: time.Date(2026, 12, 1, 0, 0, i, 0, time.UTC), User: "U1", Action: fmt.Sprintf("action %d", i), Train: train, Result: "ok"}
		if err := s.Audit(t.Context(), e); err != nil {
			t.Fatalf("audit %d: %v", i, err)
		}
	}
}

// TestOpenBoundsTheAuditLog: Open hands Config.AuditMax to the store, and
// caps each train's log at min(AuditMax, TrainAuditMax).
func TestOpenBoundsTheAuditLog(t *testing.T) {
	t.Parallel()
	clock := trainstest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		s, closer, _, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir(), AuditMax: 5}, clock, quiet)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer closer.Close()
		auditN(t, s, 12, "dev-2026-12-01")
		for _, train := range []trains.TrainID{"", "dev-2026-12-01"} {
			got, err := s.AuditLog(t.Context(), train, 0)
			if err != nil || len(got) != 5 || got[0].Action != "action 11" {
				t.Errorf("log %q after 12 appends with AuditMax 5: %d entries (%v), want the newest 5", train, len(got), err)
			}
		}
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		r := redistest.New(t)
		const max = 2000
		s, closer, _, err := storage.Open(t.Context(), storage.Config{RedisURL: r.URL, Prefix: r.Prefix, AuditMax: max}, clock, quiet)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer closer.Close()
		auditN(t, s, storage.TrainAuditMax+300, "dev-2026-12-01")
		all, err := r.Client.XLen(t.Context(), r.Prefix+"audit").Result()
		if err != nil || all != storage.TrainAuditMax+300 {
			t.Errorf("XLEN audit = %d (%v), want all %d entries: under the cap of %d", all, err, storage.TrainAuditMax+300, max)
		}
		train, err := r.Client.XLen(t.Context(), r.Prefix+"audit:dev-2026-12-01").Result()
		if err != nil || train < storage.TrainAuditMax || train > storage.TrainAuditMax+100 {
			t.Errorf("XLEN audit:dev-2026-12-01 = %d (%v), want %d to %d: a train's log is capped at TrainAuditMax",
				train, err, storage.TrainAuditMax, storage.TrainAuditMax+100)
		}
	})
}

// TestOpenNeverShowsAPassword: the description line, the errors and the
// log of Open hold no password from REDIS_URL, whether the URL is good (and
// Redis does not answer) or bad.
func TestOpenNeverShowsAPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, desc, err string // desc: the description when it opens; err: part of the error when not
	}{
		{url: "redis://:s3cret@127.0.0.1:1/0", desc: "state store: redis 127.0.0.1:1 db 0 prefix trainbot:"},
		{url: "rediss://trainbot:s3cret@127.0.0.1:1/2", desc: "state store: redis 127.0.0.1:1 db 2 tls prefix trainbot:"},
		{url: "redis://u:s3cret@127.0.0.1:1/0?master_name=m&password=s3cret", desc: "state store: redis sentinel master m via 127.0.0.1:1 db 0 prefix trainbot:"},
		{url: "redis://:s3cret@127.0.0.1:1/x", err: "invalid database number"},
		{url: "redis://:s3cret@127.0.0.1:1/0?nonsense=s3cret", err: "unexpected option"},
		{url: "redis://:s3cret@127.0.0.1:1?addr=:s3cret@127.0.0.2:1", err: "unable to parse addr param"},
		{url: "redis://:s3cret", err: "does not parse as a URL"},
		{url: "http://:s3cret@127.0.0.1:1", err: "use redis:// or rediss://"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			var log syncbuf.Buffer
			logger := slog.New(slog.NewTextHandler(&log, nil))
			_, closer, desc, err := storage.Open(t.Context(), storage.Config{RedisURL: tc.url, Timeout: 200 * time.Millisecond},
				trainstest.NewClock(time.Now()), logger)
			if closer != nil {
				defer closer.Close()
			}
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("got error %v, want one containing %q", err, tc.err)
			case tc.err == "" && (err != nil || desc != tc.desc):
				t.Errorf("got %q, %v; want %q", desc, err, tc.desc)
			}
			for what, s := range map[string]string{"description": desc, "error": fmt.Sprint(err), "log": log.String()} {
				if strings.Contains(s, "s3cret") {
					t.Errorf("the %s shows the password: %s", what, s)
				}
			}
		})
	}
}

// TestOpenRefusesOneNodeURLOnCluster: a plain REDIS_URL that reaches a
// Redis Cluster node stops start-up with a message on how to write a
// Cluster URL; the same node behind an ACL that refuses INFO, and a node
// with cluster_enabled:0 (TestOpenRedis), do not.
func TestOpenRefusesOneNodeURLOnCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, "--cluster-enabled", "yes")
	clock := trainstest.NewClock(time.Now())
	_, closer, _, err := storage.Open(t.Context(), storage.Config{RedisURL: srv.URL()}, clock, quiet)
	if closer != nil {
		closer.Close()
	}
	for _, want := range []string{"Redis Cluster node", srv.Addr() + "?cluster=true", "hash tag", "{trainbot}:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("open with a one-node URL on a Cluster node: got %v, want an error saying %q", err, want)
		}
	}

	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(t.Context(), "ACL", "SETUSER", "bot", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	s, closer, _, err := storage.Open(t.Context(), storage.Config{RedisURL: "redis://bot:pw@" + srv.Addr() + "/0", Prefix: "{trainbot}:"}, clock, quiet)
	if err != nil {
		t.Fatalf("open as a user that may not run INFO: got %v, want no error (the check must not block what it cannot see)", err)
	}
	defer closer.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping as that user: %v", err)
	}
}

// The opposite mistake: a Cluster URL (cluster=true or addr= seeds) that
// reaches a node with cluster support off. Every call would fail with
// "cluster support disabled", reported as "store unavailable"; start-up
// refuses it and says how to write the URL instead.
func TestOpenRefusesClusterURLOnOneNode(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	clock := trainstest.NewClock(time.Now())
	_, closer, _, err := storage.Open(t.Context(), storage.Config{RedisURL: "redis://" + srv.Addr() + "?cluster=true", Prefix: "{trainbot}:"}, clock, quiet)
	if closer != nil {
		closer.Close()
	}
	for _, want := range []string{"not a Redis Cluster node", srv.Addr() + "/0 without cluster=", "master_name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("open with a Cluster URL on a one-node Redis: got %v, want an error saying %q", err, want)
		}
	}
}

// TestOpenRetention: Open hands Config.Retention to the embedded store: a
// train created after the retention has passed deletes a finished one
// older than it; with no retention both are kept.
func TestOpenRetention(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	for _, tc := range []struct {
		retention time.Duration
		want      int
	}{{400 * day, 1}, {0, 2}} {
		t.Run(fmt.Sprint(tc.retention), func(t *testing.T) {
			t.Parallel()
			t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			clock := trainstest.NewClock(t0)
			s, closer, _, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir(), Retention: tc.retention}, clock, quiet)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer closer.Close()
			if _, err := s.CreateTrain(t.Context(), trains.Train{ID: "dev-2026-12-01", Track: trains.Dev, At: t0, State: trains.Deployed}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(401 * day)
			if _, err := s.CreateTrain(t.Context(), trains.Train{ID: "dev-2028-01-06", Track: trains.Dev, At: clock.Now(), State: trains.Scheduled}); err != nil {
				t.Fatal(err)
			}
			if got, err := s.ListTrains(t.Context(), trains.TrainQuery{}); err != nil || len(got) != tc.want {
				t.Errorf("retention %s: %d trains kept (%v), want %d", tc.retention, len(got), err, tc.want)
			}
		})
	}
}
