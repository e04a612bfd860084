package redistest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterNodeTimeout is the cluster-node-timeout of a Cluster: a master
// that does not answer for this long is failed over (a production cluster
// uses 15 s by default; the tests want a failover in seconds).
const ClusterNodeTimeout = 1000 * time.Millisecond

// Cluster is a Redis Cluster of three masters, each with one replica, of
// redis-servers started for one test on free loopback ports, each in a
// folder of its own. They are killed when the test ends.
type Cluster struct {
	t     testing.TB
	nodes []*Server
	admin []*redis.Client // the harness's own client to each node
	ids   []string        // each node's cluster id

	mu     sync.Mutex
	killed time.Time
}

// StartCluster starts six redis-servers with cluster-enabled yes, makes
// the first three masters of a third of the slots each and the other
// three their replicas (node i+3 replicates node i), and returns once
// every node says cluster_state:ok, knows every other node in its role,
// and every replica has synced. Without redis-server on PATH, t is skipped
// (failed when CI=true).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bus := make([]int, 6)
	nodes := launch(t, 6, 2, func(i int, dir string, ports []int) ([]string, error) {
		bus[i] = ports[1]
		return serverArgs(ports[0], dir, append([]string{
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(ports[1]),
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(ClusterNodeTimeout.Milliseconds(), 10),
			// A replica may always take over, however long it was cut off.
			"--cluster-replica-validity-factor", "0",
		}, replicationArgs...)...), nil
	})
	c := &Cluster{t: t, nodes: nodes}
	for _, n := range nodes {
		c.admin = append(c.admin, adminClient(t, n))
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	if err := c.form(ctx, bus); err != nil {
		t.Fatalf("redistest: form the cluster: %v\n%s", err, c.views(context.Background()))
	}
	return c
}

// form makes the six started nodes one cluster and waits until it is ready.
func (c *Cluster) form(ctx context.Context, bus []int) error {
	for i, a := range c.admin {
		id, err := a.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			return fmt.Errorf("CLUSTER MYID on %s: %w", c.nodes[i].Addr(), err)
		}
		c.ids = append(c.ids, id)
	}
	ranges := [3][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i, r := range ranges {
		// Distinct config epochs, as redis-cli --cluster create sets them,
		// spare the nodes an epoch collision to resolve.
		if err := c.admin[i].Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("CLUSTER SET-CONFIG-EPOCH on %s: %w", c.nodes[i].Addr(), err)
		}
		if err := c.admin[i].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", r[0], r[1]).Err(); err != nil {
			return fmt.Errorf("CLUSTER ADDSLOTSRANGE on %s: %w", c.nodes[i].Addr(), err)
		}
	}
	for i := 1; i < len(c.nodes); i++ {
		if err := c.admin[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", c.nodes[i].port, bus[i]).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET %s: %w", c.nodes[i].Addr(), err)
		}
	}
	err := waitFor(ctx, func(ctx context.Context) error {
		for i := range c.nodes {
			view, err := c.view(ctx, i)
			if err != nil {
				return err
			}
			if len(view) != len(c.nodes) {
				return fmt.Errorf("%s knows %d nodes, want %d", c.nodes[i].Addr(), len(view), len(c.nodes))
			}
			for _, n := range view {
				if n.has("handshake") || n.has("noaddr") {
					return fmt.Errorf("%s: node %s is %s", c.nodes[i].Addr(), n.addr, n.flags)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("the nodes do not all meet: %w", err)
	}
	for i := 3; i < 6; i++ {
		if err := c.admin[i].Do(ctx, "CLUSTER", "REPLICATE", c.ids[i-3]).Err(); err != nil {
			return fmt.Errorf("CLUSTER REPLICATE on %s: %w", c.nodes[i].Addr(), err)
		}
	}
	if err := waitFor(ctx, c.ready); err != nil {
		return fmt.Errorf("the cluster is not ready: %w", err)
	}
	return nil
}

// ready checks what StartCluster promises: every node ok, in agreement
// on who replicates whom, and every replica synced.
func (c *Cluster) ready(ctx context.Context) error {
	for i, a := range c.admin {
		m, err := c.clusterInfo(ctx, i)
		if err != nil {
			return err
		}
		if m["cluster_state"] != "ok" || m["cluster_known_nodes"] != "6" || m["cluster_size"] != "3" {
			return fmt.Errorf("%s: cluster_state=%s cluster_known_nodes=%s cluster_size=%s",
				c.nodes[i].Addr(), m["cluster_state"], m["cluster_known_nodes"], m["cluster_size"])
		}
		view, err := c.view(ctx, i)
		if err != nil {
			return err
		}
		for j := 3; j < 6; j++ {
			n, ok := view[c.ids[j]]
			if !ok || !n.has("slave") || n.master != c.ids[j-3] {
				return fmt.Errorf("%s does not yet see %s as the replica of %s", c.nodes[i].Addr(), c.nodes[j].Addr(), c.nodes[j-3].Addr())
			}
		}
		if i >= 3 {
			if err := replicaSynced(ctx, a); err != nil {
				return fmt.Errorf("%s: %w", c.nodes[i].Addr(), err)
			}
		}
	}
	return nil
}

// URL returns a REDIS_URL for the cluster with every node as a seed, e.g.
// redis://127.0.0.1:7000?addr=127.0.0.1:7001&addr=…, which
// redisstore.ClientFromURL turns into a cluster client.
func (c *Cluster) URL() string {
	var b strings.Builder
	b.WriteString("redis://" + c.nodes[0].Addr())
	sep := "?"
	for _, n := range c.nodes[1:] {
		b.WriteString(sep + "addr=" + n.Addr())
		sep = "&"
	}
	return b.String()
}

// Nodes returns the six nodes: at the start the first three are the
// masters and node i+3 is the replica of node i.
func (c *Cluster) Nodes() []*Server { return slices.Clone(c.nodes) }

// MasterOf returns the node that is the master of key's slot now, as a
// running node sees it.
func (c *Cluster) MasterOf(key string) *Server {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, a := range c.admin {
		if !c.nodes[i].Running() {
			continue
		}
		slot, err := a.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			c.t.Fatalf("redistest: CLUSTER KEYSLOT on %s: %v", c.nodes[i].Addr(), err)
		}
		view, err := c.view(ctx, i)
		if err != nil {
			c.t.Fatalf("redistest: %v", err)
		}
		for id, n := range view {
			if n.has("master") && !n.has("fail") && n.serves(int(slot)) {
				return c.nodes[slices.Index(c.ids, id)]
			}
		}
		c.t.Fatalf("redistest: %s knows no master of slot %d (key %q)\n%s", c.nodes[i].Addr(), slot, key, c.views(ctx))
	}
	c.t.Fatal("redistest: no node of the cluster is running")
	return nil
}

// Kill kills node (SIGKILL), as a crash would, and notes the time for the
// Failover that WaitFailover returns.
func (c *Cluster) Kill(node *Server) {
	node.Kill()
	c.mu.Lock()
	c.killed = time.Now()
	c.mu.Unlock()
}

// WaitFailover waits until the replica of the killed master dead has taken
// over: it answers ROLE as a master (Promoted), and every running node
// says cluster_state:ok and names it as the master of dead's slots
// (Settled). It fails t when that takes more than 30 s.
func (c *Cluster) WaitFailover(dead *Server) Failover {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	deadID := c.ids[slices.Index(c.nodes, dead)]
	replica := -1
	for i := range c.nodes {
		if !c.nodes[i].Running() {
			continue
		}
		view, err := c.view(ctx, i)
		if err != nil {
			continue
		}
		if me := view[c.ids[i]]; me.has("slave") && me.master == deadID {
			replica = i
			break
		}
	}
	if replica < 0 {
		c.t.Fatalf("redistest: no running node replicates %s\n%s", dead.Addr(), c.views(ctx))
	}
	c.mu.Lock()
	f := Failover{Master: c.nodes[replica], Killed: c.killed}
	c.mu.Unlock()
	err := waitFor(ctx, func(ctx context.Context) error {
		r, err := role(ctx, c.admin[replica])
		if err != nil || r != "master" {
			return fmt.Errorf("%s is not a master yet (role %q, %v)", c.nodes[replica].Addr(), r, err)
		}
		return nil
	})
	if err != nil {
		c.t.Fatalf("redistest: the replica of %s was not promoted: %v\n%s", dead.Addr(), err, c.views(context.Background()))
	}
	f.Promoted = time.Now()
	err = waitFor(ctx, func(ctx context.Context) error {
		for i := range c.nodes {
			if !c.nodes[i].Running() {
				continue
			}
			m, err := c.clusterInfo(ctx, i)
			if err != nil {
				return err
			}
			if m["cluster_state"] != "ok" {
				return fmt.Errorf("%s: cluster_state=%s", c.nodes[i].Addr(), m["cluster_state"])
			}
			view, err := c.view(ctx, i)
			if err != nil {
				return err
			}
			if n := view[c.ids[replica]]; !n.has("master") || len(n.slots) == 0 {
				return fmt.Errorf("%s does not yet see %s as a master with slots", c.nodes[i].Addr(), c.nodes[replica].Addr())
			}
		}
		return nil
	})
	if err != nil {
		c.t.Fatalf("redistest: the cluster did not settle after the failover of %s: %v\n%s", dead.Addr(), err, c.views(context.Background()))
	}
	f.Settled = time.Now()
	return f
}

func (c *Cluster) clusterInfo(ctx context.Context, i int) (map[string]string, error) {
	s, err := c.admin[i].ClusterInfo(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER INFO on %s: %w", c.nodes[i].Addr(), err)
	}
	return infoFields(s), nil
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	addr   string
	flags  []string
	master string // the master's id, for a replica
	slots  [][2]int
}

func (n clusterNode) has(flag string) bool { return slices.Contains(n.flags, flag) }

func (n clusterNode) serves(slot int) bool {
	for _, r := range n.slots {
		if r[0] <= slot && slot <= r[1] {
			return true
		}
	}
	return false
}

// view is node i's CLUSTER NODES, by node id.
func (c *Cluster) view(ctx context.Context, i int) (map[string]clusterNode, error) {
	s, err := c.admin[i].ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES on %s: %w", c.nodes[i].Addr(), err)
	}
	return parseClusterNodes(s)
}

// parseClusterNodes parses CLUSTER NODES: <id> <ip:port@cport> <flags>
// <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>…
func parseClusterNodes(s string) (map[string]clusterNode, error) {
	out := map[string]clusterNode{}
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES line %q has fewer than 8 fields", line)
		}
		n := clusterNode{addr: strings.SplitN(f[1], "@", 2)[0], flags: strings.Split(f[2], ","), master: f[3]}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // a slot being migrated
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("CLUSTER NODES slot range %q: %w", r, err)
			}
			n.slots = append(n.slots, [2]int{a, b})
		}
		out[f[0]] = n
	}
	return out, nil
}

// views is every running node's CLUSTER NODES, for a failure message.
func (c *Cluster) views(ctx context.Context) string {
	var b strings.Builder
	for i, a := range c.admin {
		if !c.nodes[i].Running() {
			fmt.Fprintf(&b, "%s: killed\n", c.nodes[i].Addr())
			continue
		}
		s, err := a.ClusterNodes(ctx).Result()
		if err != nil {
			fmt.Fprintf(&b, "%s: CLUSTER NODES: %v\n", c.nodes[i].Addr(), err)
			continue
		}
		fmt.Fprintf(&b, "%s sees:\n%s", c.nodes[i].Addr(), s)
	}
	return b.String()
}
