package redisstore

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClientFromURL builds a go-redis client from a REDIS_URL, and a
// description of it for a start-up log line (without any password). The
// caller closes the client. timeout, when above zero, becomes the dial
// timeout unless the URL sets dial_timeout. Every client it builds honours
// context deadlines (ContextTimeoutEnabled), which the store's time bounds
// rely on.
//
// The URL chooses the kind of client:
//
//   - One node: redis://[user:password@]host[:port][/db] or rediss://… for
//     TLS, e.g. redis://:s3cret@redis.internal:6379/2. Options of
//     redis.ParseURL go in the query (dial_timeout=1s, pool_size=20, …).
//   - Sentinel: add master_name; the host (and any addr=host:port params)
//     are the Sentinels; user:password in the URL authenticate to the
//     Sentinels, and the username=/password= params to the master, e.g.
//     redis://sentinel-a:26379/0?master_name=mymaster&addr=sentinel-b:26379&password=s3cret
//     (redis.ParseFailoverURL).
//   - Cluster: add addr=host:port for more seed nodes, or cluster=true with
//     a single seed, e.g. redis://node-a:7000?addr=node-b:7000&addr=node-c:7000
//     (redis.ParseClusterURL). Cluster has no db. The key prefix must then
//     hold a hash tag, e.g. {trainbot}: (see New).
func ClientFromURL(rawURL string, timeout time.Duration) (redis.UniversalClient, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("REDIS_URL is not a URL (%v): write it as redis://[user:password@]host:port[/db]", redact(err))
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, "", fmt.Errorf("REDIS_URL has scheme %q: use redis:// or rediss:// (TLS)", u.Scheme)
	}
	q := u.Query()
	tls := ""
	if u.Scheme == "rediss" {
		tls = " tls"
	}
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, "", fmt.Errorf("REDIS_URL (Sentinel, as it has master_name): %w", err)
		}
		o.ContextTimeoutEnabled = true
		if o.DialTimeout == 0 && timeout > 0 {
			o.DialTimeout = timeout
		}
		desc := fmt.Sprintf("redis sentinel master %s via %s db %d%s", o.MasterName, strings.Join(o.SentinelAddrs, ","), o.DB, tls)
		return redis.NewFailoverClient(o), desc, nil
	case q.Has("addr") || q.Has("cluster"):
		cluster := q.Get("cluster")
		if cluster != "" && cluster != "true" && cluster != "false" {
			return nil, "", fmt.Errorf("REDIS_URL has cluster=%s: use cluster=true or leave it out", cluster)
		}
		if cluster != "false" {
			q.Del("cluster")
			u.RawQuery = q.Encode()
			o, err := redis.ParseClusterURL(u.String())
			if err != nil {
				return nil, "", fmt.Errorf("REDIS_URL (Cluster, as it has addr= or cluster=true): %w", err)
			}
			o.ContextTimeoutEnabled = true
			if o.DialTimeout == 0 && timeout > 0 {
				o.DialTimeout = timeout
			}
			desc := fmt.Sprintf("redis cluster %s%s", strings.Join(o.Addrs, ","), tls)
			return redis.NewClusterClient(o), desc, nil
		}
		q.Del("cluster")
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("REDIS_URL: %w", err)
	}
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 && timeout > 0 {
		o.DialTimeout = timeout
	}
	return redis.NewClient(o), fmt.Sprintf("redis %s db %d%s", o.Addr, o.DB, tls), nil
}

// redact keeps a URL parse error from echoing a password.
func redact(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}
