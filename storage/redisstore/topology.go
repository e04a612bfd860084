package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// CheckTopology refuses a one-node client that reaches a Redis Cluster
// node (INFO cluster says cluster_enabled:1): such a client is not
// redirected to the node that holds a key's slot, so every call whose keys
// live elsewhere would fail with MOVED, each reported as "store
// unavailable". The error says how to write a Cluster URL. A Cluster
// client, a node with cluster_enabled:0, and a node that does not answer
// INFO (down, or an ACL that refuses it) pass: the check only refuses what
// it knows to be wrong, and Ping reports a Redis that does not answer.
//
// The opposite mistake is refused too: a Cluster client whose seed nodes
// answer that cluster support is disabled.
func (s *Store) CheckTopology(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return notACluster(cc.Ping(ctx).Err(), cc.Options().Addrs)
	}
	c, ok := s.rdb.(*redis.Client)
	if !ok {
		return nil
	}
	info, err := c.Info(ctx, "cluster").Result()
	if err != nil {
		return nil
	}
	enabled := ""
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_enabled:"); ok {
			enabled = v
		}
	}
	if enabled != "1" {
		return nil
	}
	tag := "the key prefix (TRAINBOT_REDIS_PREFIX) " + s.prefix + " already has the hash tag a Cluster needs"
	if !hasHashTag(s.prefix) {
		tag = fmt.Sprintf("set the key prefix (TRAINBOT_REDIS_PREFIX) to one with a hash tag, e.g. %s, so that all of trainbot's keys share a slot", hashTagged(s.prefix))
	}
	addr := c.Options().Addr
	return fmt.Errorf("REDIS_URL names one Redis node, but %s is a Redis Cluster node (INFO cluster: cluster_enabled:1): a one-node client would fail with MOVED on every key another node holds. "+
		"Write a Cluster URL: redis://[user:password@]%s?cluster=true with this node as the only seed, or redis://[user:password@]%s?addr=host2:port2&addr=host3:port3 with more seeds (no /db path); and %s",
		addr, addr, addr, tag)
}

// notACluster turns a Cluster client's ping error that says cluster
// support is disabled into the reason start-up stops; nil for any other.
func notACluster(err error, seeds []string) error {
	if err == nil || !strings.Contains(err.Error(), "cluster support disabled") {
		return nil
	}
	seed := "host:port"
	if len(seeds) > 0 {
		seed = seeds[0]
	}
	return fmt.Errorf("REDIS_URL is a Cluster URL (it has cluster=true or addr=), but %s is not a Redis Cluster node (it answers: %v). "+
		"For one Redis node write redis://[user:password@]%s/0 without cluster= and addr=; for Sentinel add master_name=<name> and give the Sentinels' addresses",
		strings.Join(seeds, ","), err, seed)
}
