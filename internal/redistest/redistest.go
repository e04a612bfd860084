// Package redistest gives tests a Redis: the one TRAINBOT_TEST_REDIS_URL
// names, else one answering on 127.0.0.1:6379, else a redis-server (from
// PATH) it starts on a free port for the test binary. Each test gets a key
// prefix of its own and its keys are deleted when it ends.
//
// When no Redis can be had the test is skipped, or fails when CI=true, so
// that CI never passes by skipping the Redis tests.
//
// StartServer starts a dedicated redis-server that a test may kill and
// restart on the same port. StartCluster (three masters, three replicas)
// and StartSentinel (a master, its replica, three Sentinels) start real
// Redis deployments whose masters a test may kill, and wait for their
// failovers.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/internal/testenv"
	"github.com/trainbot/trainbot/storage/redisstore"
)

// EnvURL names the environment variable that points tests at a Redis.
const EnvURL = "TRAINBOT_TEST_REDIS_URL"

// Redis is a Redis for one test.
type Redis struct {
	// Client is connected to the Redis; it is closed when the test ends.
	Client *redis.Client
	// URL is the Redis URL, for code that builds its own client (REDIS_URL).
	URL string
	// Prefix is the test's own key prefix, e.g. "{trainbot-test-1a2b…}:".
	// It holds a hash tag so it also works on Redis Cluster.
	Prefix string
}

var (
	findOnce sync.Once
	foundURL string
	notFound string // why no Redis could be had
)

// New returns a Redis for t with a fresh prefix, and deletes the keys under
// the prefix (SCAN, then UNLINK) when t ends.
func New(t testing.TB) *Redis {
	t.Helper()
	findOnce.Do(find)
	if foundURL == "" {
		Unavailable(t, notFound)
	}
	r := &Redis{URL: foundURL, Prefix: "{trainbot-test-" + randomHex(8) + "}:"}
	c := r.NewClient(t, nil)
	r.Client = c
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, c, r.Prefix); err != nil {
			t.Logf("redistest: delete the keys under %s: %v", r.Prefix, err)
		}
	})
	return r
}

// NewClient returns another client of the same Redis, closed when t ends,
// after change (if not nil) has adjusted its options, e.g. a pool size.
// Clients with hooks or odd options come from here; do not share Options.
func (r *Redis) NewClient(t testing.TB, change func(*redis.Options)) *redis.Client {
	t.Helper()
	return newClient(t, r.URL, change)
}

// newClient is a client of the Redis at url that honours context deadlines
// (ContextTimeoutEnabled, as trainbot's clients do), closed when t ends,
// after change (if not nil) has adjusted its options.
func newClient(t testing.TB, url string, change func(*redis.Options)) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redistest: %s: %v", url, err)
	}
	opt.ContextTimeoutEnabled = true
	if change != nil {
		change(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Unavailable skips t, or fails it when CI=true, saying why no Redis could
// be had.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	testenv.Missing(t, "no Redis for this test: "+why+". Set "+EnvURL+"=redis://host:port/db, run Redis on 127.0.0.1:6379, or put redis-server on PATH")
}

// DeletePrefix deletes every key under prefix, found with SCAN (tests only:
// the store itself never scans).
func DeletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.Unlink(ctx, batch...).Err()
	}
	return nil
}

// find picks the Redis for this test binary.
func find() {
	// go-redis logs every failed dial to stderr; tests that stop Redis on
	// purpose would drown their output in it.
	redisstore.RouteLogs(slog.New(slog.DiscardHandler))
	if u := os.Getenv(EnvURL); u != "" {
		if err := ping(u); err != nil {
			notFound = fmt.Sprintf("%s=%s does not answer: %v", EnvURL, u, err)
			return
		}
		foundURL = u
		return
	}
	const local = "redis://127.0.0.1:6379/0"
	if ping(local) == nil {
		foundURL = local
		return
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		notFound = "nothing answers on 127.0.0.1:6379 and redis-server is not on PATH"
		return
	}
	port, err := freePort()
	if err != nil {
		notFound = "no free port for a redis-server: " + err.Error()
		return
	}
	// The shared server lives as long as the test binary (it gets SIGKILL
	// when the binary exits, where the OS can do that) and keeps nothing on disk.
	cmd := exec.Command(bin, serverArgs(port, os.TempDir())...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		notFound = "start redis-server: " + err.Error()
		return
	}
	u := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	if err := waitUp(u, 10*time.Second); err != nil {
		_ = cmd.Process.Kill()
		notFound = "the redis-server started for the tests does not answer: " + err.Error()
		return
	}
	foundURL = u
}

func serverArgs(port int, dir string, extra ...string) []string {
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"}
	return append(args, extra...)
}

// ping checks the Redis at u answers within a short time.
func ping(u string) error {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return err
	}
	opt.DialTimeout, opt.MaxRetries = 300*time.Millisecond, -1
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// waitUp polls u until it answers or d has passed.
func waitUp(u string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := ping(u)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
