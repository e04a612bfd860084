package redistest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/storage/redisstore"
)

// What the engines (StartCluster, StartSentinel) share: starting several
// redis-server processes at once, the harness's own clients to them, and
// polling for a condition with a deadline.

// Failover is what a wait for a failover saw: which server was promoted,
// and when each stage of the failover became visible from the outside.
type Failover struct {
	// Master is the server that was promoted.
	Master *Server
	// Killed is when the old master was killed.
	Killed time.Time
	// Promoted is when the promoted replica first answered ROLE as a master.
	Promoted time.Time
	// Settled is when the whole deployment agreed on the new master: every
	// live Cluster node says cluster_state:ok and names it as the master
	// of the old master's slots, or every Sentinel names it.
	Settled time.Time
}

// Took is how long Redis took, from the kill to the promotion and to the
// whole deployment agreeing.
func (f Failover) Took() (promoted, settled time.Duration) {
	return f.Promoted.Sub(f.Killed), f.Settled.Sub(f.Killed)
}

// pollEvery is how often the engines look at the servers while they wait.
const pollEvery = 10 * time.Millisecond

// engineTimeout bounds each wait of an engine: forming, syncing, failing over.
const engineTimeout = 30 * time.Second

// quietOnce routes go-redis's own log lines away from the test output
// (every dial to a killed server would print one).
var quietOnce sync.Once

func quiet() {
	quietOnce.Do(func() { redisstore.RouteLogs(slog.New(slog.DiscardHandler)) })
}

// launch starts n redis-servers at once, each in a folder of its own,
// with the arguments build gives for its folder and nPorts free loopback
// ports (the first is the port it answers on). A server whose port was
// taken meanwhile is tried again on other ports. Every server is killed
// when t ends. Without redis-server on PATH, t is skipped (failed when
// CI=true).
func launch(t testing.TB, n, nPorts int, build func(i int, dir string, ports []int) ([]string, error)) []*Server {
	t.Helper()
	quiet()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Unavailable(t, "this test starts its own redis-servers and none is on PATH (Debian: apt-get install redis-server)")
	}
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	// Ports distinct across the servers, taken at once: taken one server at
	// a time, two could get the same port that the first let go.
	all, err := freePorts(n * nPorts)
	if err != nil {
		t.Fatalf("redistest: no free ports: %v", err)
	}
	servers := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ports := all[i*nPorts : (i+1)*nPorts]
			for attempt := 1; ; attempt++ {
				if attempt > 1 {
					again, err := freePorts(nPorts)
					if err != nil {
						errs[i] = fmt.Errorf("no free ports: %w", err)
						return
					}
					ports = again
				}
				args, err := build(i, dirs[i], ports)
				if err != nil {
					errs[i] = err
					return
				}
				s := &Server{t: t, bin: bin, port: ports[0], args: args, out: filepath.Join(dirs[i], "server.log")}
				s.mu.Lock()
				err = s.start()
				s.mu.Unlock()
				if err == nil {
					servers[i] = s
					return
				}
				if !errors.Is(err, errAddrInUse) || attempt == 3 {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, s := range servers {
		if s != nil {
			t.Cleanup(s.Kill)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return servers
}

// freePorts returns n distinct loopback ports that were free just now.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// adminClient is the harness's own client to one server: no retries and
// short timeouts, so that asking a killed server costs little.
func adminClient(t testing.TB, s *Server) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: s.Addr(), DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MaxRetries: -1, DialerRetries: 1, PoolSize: 2, ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitFor polls cond every pollEvery until it returns nil, and returns
// cond's last error when ctx ends first.
func waitFor(ctx context.Context, cond func(ctx context.Context) error) error {
	for {
		err := cond(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pollEvery):
		}
	}
}

// infoFields parses an INFO reply into its fields.
func infoFields(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok {
			m[k] = v
		}
	}
	return m
}

// info returns the fields of one INFO section of c.
func info(ctx context.Context, c *redis.Client, section string) (map[string]string, error) {
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	return infoFields(s), nil
}

// role is the first element of ROLE: master, slave or sentinel.
func role(ctx context.Context, c *redis.Client) (string, error) {
	v, err := c.Do(ctx, "ROLE").Slice()
	if err != nil {
		return "", err
	}
	if len(v) == 0 {
		return "", errors.New("empty ROLE reply")
	}
	r, _ := v[0].(string)
	return r, nil
}

// replicaSynced says whether the replica c has finished its sync with its
// master and holds the connection to it.
func replicaSynced(ctx context.Context, c *redis.Client) error {
	m, err := info(ctx, c, "replication")
	if err != nil {
		return err
	}
	if m["role"] != "slave" || m["master_link_status"] != "up" || m["master_sync_in_progress"] != "0" {
		return fmt.Errorf("replica not in sync: role=%s master_link_status=%s master_sync_in_progress=%s",
			m["role"], m["master_link_status"], m["master_sync_in_progress"])
	}
	return nil
}

// replicationArgs makes a replica's first sync start at once (the default
// diskless sync waits 5 s for more replicas to join).
var replicationArgs = []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}
