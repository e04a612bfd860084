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
func (s *Store) CheckTopology(ctx context.Context) error {
	c, ok := s.rdb.(*redis.Client)
	if !ok {
		return nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
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
