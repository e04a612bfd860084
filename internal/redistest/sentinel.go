package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelDownAfter is the Sentinels' down-after-milliseconds: a master
// that does not answer for this long is failed over (30 s by default in
// production; the tests want a failover in seconds).
const SentinelDownAfter = 1000 * time.Millisecond

// SentinelMasterName is the name the Sentinels of StartSentinel monitor
// their master under (master_name= in the URL).
const SentinelMasterName = "trainbot-test"

// Sentinel is a Redis master, its replica and three Sentinels watching
// them, redis-servers started for one test on free loopback ports, each in
// a folder of its own. They are killed when the test ends.
type Sentinel struct {
	t         testing.TB
	data      []*Server // the master at the start, then its replica
	admin     []*redis.Client
	sentinels []*Server
	sadmin    []*redis.SentinelClient

	mu     sync.Mutex
	killed time.Time
}

// StartSentinel starts a master and its replica, waits until the replica
// has synced, starts three Sentinels that monitor the master (quorum 2,
// down-after-milliseconds SentinelDownAfter), and returns once every
// Sentinel knows the master, its replica and the two other Sentinels.
// Without redis-server on PATH, t is skipped (failed when CI=true).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	data := launch(t, 2, 1, func(_ int, dir string, ports []int) ([]string, error) {
		return serverArgs(ports[0], dir, replicationArgs...), nil
	})
	s := &Sentinel{t: t, data: data}
	for _, d := range data {
		s.admin = append(s.admin, adminClient(t, d))
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	master := data[0]
	if err := s.admin[1].ReplicaOf(ctx, "127.0.0.1", fmt.Sprint(master.port)).Err(); err != nil {
		t.Fatalf("redistest: REPLICAOF on %s: %v", data[1].Addr(), err)
	}
	if err := waitFor(ctx, func(ctx context.Context) error { return replicaSynced(ctx, s.admin[1]) }); err != nil {
		t.Fatalf("redistest: the replica %s of %s does not sync: %v", data[1].Addr(), master.Addr(), err)
	}
	s.sentinels = launch(t, 3, 1, func(_ int, dir string, ports []int) ([]string, error) {
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf(`port %d
bind 127.0.0.1
protected-mode no
dir %s
sentinel monitor %[3]s 127.0.0.1 %[4]d 2
sentinel down-after-milliseconds %[3]s %[5]d
sentinel failover-timeout %[3]s 5000
sentinel parallel-syncs %[3]s 1
`, ports[0], dir, SentinelMasterName, master.port, SentinelDownAfter.Milliseconds())
		// The Sentinel rewrites this file as it learns; it must be writable.
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("write the Sentinel's configuration: %w", err)
		}
		return []string{conf, "--sentinel"}, nil
	})
	for _, sn := range s.sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), DialTimeout: 300 * time.Millisecond, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = c.Close() })
		s.sadmin = append(s.sadmin, c)
	}
	if err := waitFor(ctx, s.ready); err != nil {
		t.Fatalf("redistest: the Sentinels are not ready: %v", err)
	}
	return s
}

// ready checks what StartSentinel promises.
func (s *Sentinel) ready(ctx context.Context) error {
	for i, c := range s.sadmin {
		m, err := c.Master(ctx, SentinelMasterName).Result()
		if err != nil {
			return fmt.Errorf("SENTINEL MASTER on %s: %w", s.sentinels[i].Addr(), err)
		}
		if m["flags"] != "master" || m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" {
			return fmt.Errorf("Sentinel %s: flags=%s num-slaves=%s num-other-sentinels=%s",
				s.sentinels[i].Addr(), m["flags"], m["num-slaves"], m["num-other-sentinels"])
		}
		rs, err := c.Replicas(ctx, SentinelMasterName).Result()
		if err != nil {
			return fmt.Errorf("SENTINEL REPLICAS on %s: %w", s.sentinels[i].Addr(), err)
		}
		if len(rs) != 1 || rs[0]["flags"] != "slave" || rs[0]["master-link-status"] != "ok" {
			return fmt.Errorf("Sentinel %s sees the replicas %v", s.sentinels[i].Addr(), rs)
		}
	}
	return nil
}

// URL returns a REDIS_URL for the set, e.g.
// redis://127.0.0.1:26379/0?master_name=trainbot-test&addr=127.0.0.1:26380&addr=127.0.0.1:26381,
// which redisstore.ClientFromURL turns into a Sentinel (failover) client.
func (s *Sentinel) URL() string {
	u := "redis://" + s.sentinels[0].Addr() + "/0?master_name=" + SentinelMasterName
	for _, sn := range s.sentinels[1:] {
		u += "&addr=" + sn.Addr()
	}
	return u
}

// Master returns the server a running Sentinel names as the master now.
func (s *Sentinel) Master() *Server {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, c := range s.sadmin {
		if !s.sentinels[i].Running() {
			continue
		}
		addr, err := s.masterAddr(ctx, c)
		if err != nil {
			s.t.Fatalf("redistest: Sentinel %s: %v", s.sentinels[i].Addr(), err)
		}
		for _, d := range s.data {
			if d.Addr() == addr {
				return d
			}
		}
		s.t.Fatalf("redistest: Sentinel %s names %s as the master, which is none of the servers it started", s.sentinels[i].Addr(), addr)
	}
	s.t.Fatal("redistest: no Sentinel is running")
	return nil
}

func (s *Sentinel) masterAddr(ctx context.Context, c *redis.SentinelClient) (string, error) {
	a, err := c.GetMasterAddrByName(ctx, SentinelMasterName).Result()
	if err != nil {
		return "", fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME: %w", err)
	}
	if len(a) != 2 {
		return "", fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME answered %v", a)
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// KillMaster kills the master (SIGKILL), as a crash would, notes the time
// for the Failover that WaitFailover returns, and returns the killed server.
func (s *Sentinel) KillMaster() *Server {
	s.t.Helper()
	m := s.Master()
	m.Kill()
	s.mu.Lock()
	s.killed = time.Now()
	s.mu.Unlock()
	return m
}

// WaitFailover waits until the other server has taken over from the
// killed master dead: it answers ROLE as a master (Promoted), and every
// running Sentinel names it as the master (Settled). It fails t when that
// takes more than 30 s.
func (s *Sentinel) WaitFailover(dead *Server) Failover {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	i := slices.IndexFunc(s.data, func(d *Server) bool { return d != dead })
	next, admin := s.data[i], s.admin[i]
	s.mu.Lock()
	f := Failover{Master: next, Killed: s.killed}
	s.mu.Unlock()
	err := waitFor(ctx, func(ctx context.Context) error {
		r, err := role(ctx, admin)
		if err != nil || r != "master" {
			return fmt.Errorf("%s is not a master yet (role %q, %v)", next.Addr(), r, err)
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("redistest: the replica of %s was not promoted: %v\n%s", dead.Addr(), err, s.views(context.Background()))
	}
	f.Promoted = time.Now()
	err = waitFor(ctx, func(ctx context.Context) error {
		for j, c := range s.sadmin {
			if !s.sentinels[j].Running() {
				continue
			}
			addr, err := s.masterAddr(ctx, c)
			if err != nil {
				return err
			}
			if addr != next.Addr() {
				return fmt.Errorf("Sentinel %s still names %s", s.sentinels[j].Addr(), addr)
			}
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("redistest: the Sentinels do not all name %s: %v\n%s", next.Addr(), err, s.views(context.Background()))
	}
	f.Settled = time.Now()
	return f
}

// views is what each Sentinel says of the master, for a failure message.
func (s *Sentinel) views(ctx context.Context) string {
	var b strings.Builder
	for i, c := range s.sadmin {
		m, err := c.Master(ctx, SentinelMasterName).Result()
		if err != nil {
			fmt.Fprintf(&b, "Sentinel %s: %v\n", s.sentinels[i].Addr(), err)
			continue
		}
		fmt.Fprintf(&b, "Sentinel %s: master %s:%s flags=%s failover-state=%s\n", s.sentinels[i].Addr(), m["ip"], m["port"], m["flags"], m["failover-state"])
	}
	return b.String()
}
