package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
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
//
// A Cluster client is set up to find a failed-over master in seconds: it
// reloads its slot map every
// DefaultClusterStateReloadInterval (cluster_state_reload_interval=5s in
// the URL changes that) and at once when a call fails for a reason other
// than a Redis reply, e.g. "connection refused" from a dead master, which
// never answers with the MOVED that would make go-redis reload by itself;
// it dials each node once per try (dialer_retries=1) and bounds a dial
// and a read by timeout (DefaultTimeout when not above zero) unless the
// URL sets dial_timeout or read_timeout, so that a reload does not hang
// on a dead node.
// It refuses read_only, route_by_latency and route_randomly: trainbot
// reads its own writes (a train's version before a compare-and-set), which
// a lagging replica may not have yet.
func ClientFromURL(rawURL string, timeout time.Duration) (redis.UniversalClient, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not even url.Parse's reason: it quotes the input, or a part of it
		// such as the "port" of redis://:password.
		return nil, "", errors.New("REDIS_URL does not parse as a URL (not shown, as it may hold a password): write it as redis://[user:password@]host:port[/db]")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		// Not even the scheme is shown: in "user:password@host" it is the user.
		return nil, "", errors.New("REDIS_URL is not a redis:// or rediss:// URL: use redis:// or rediss:// (TLS), e.g. redis://[user:password@]host:port[/db]")
	}
	q := u.Query()
	hide := secrets(u)
	tls := ""
	if u.Scheme == "rediss" {
		tls = " tls"
	}
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, "", fmt.Errorf("REDIS_URL (Sentinel, as it has master_name): %s", scrub(err, hide))
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
			return clusterClient(u, q, timeout, hide, tls)
		}
		q.Del("cluster")
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("REDIS_URL: %s", scrub(err, hide))
	}
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 && timeout > 0 {
		o.DialTimeout = timeout
	}
	return redis.NewClient(o), fmt.Sprintf("redis %s db %d%s", o.Addr, o.DB, tls), nil
}

// DefaultClusterStateReloadInterval is how often a Cluster client reloads
// its slot map when nothing else makes it: go-redis's default, 60 s, would
// leave trainbot failing for up to a minute after a master's failover.
const DefaultClusterStateReloadInterval = 2 * time.Second

// clusterClient builds the Cluster client of ClientFromURL from u, whose
// query q has cluster= or addr=.
func clusterClient(u *url.URL, q url.Values, timeout time.Duration, hide []string, tls string) (redis.UniversalClient, string, error) {
	const what = "REDIS_URL (Cluster, as it has addr= or cluster=true)"
	for _, p := range []string{"read_only", "route_by_latency", "route_randomly"} {
		if v := q.Get(p); v != "" && v != "false" && v != "0" {
			return nil, "", fmt.Errorf("%s has %s=%s: trainbot reads its own writes (a train's version before a compare-and-set) and a replica may not have them yet: remove %s", what, p, v, p)
		}
	}
	reload := DefaultClusterStateReloadInterval
	if v := q.Get("cluster_state_reload_interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, "", fmt.Errorf("%s has cluster_state_reload_interval=%s: write a positive duration such as 2s", what, v)
		}
		reload = d
	}
	q.Del("cluster")
	q.Del("cluster_state_reload_interval")
	u.RawQuery = q.Encode()
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s", what, scrub(err, hide))
	}
	o.ContextTimeoutEnabled = true
	// The store bounds every call by its context; these bound what runs
	// without one, the slot map reloads, which try the nodes one by one:
	// a dead or hung node must not hold a reload up for long (go-redis:
	// 5 dial attempts of up to 5 s each, then a 5 s read).
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if !q.Has("dial_timeout") {
		o.DialTimeout = timeout
	}
	if !q.Has("read_timeout") {
		o.ReadTimeout = timeout
	}
	// One dial attempt per try: the client already tries a command again
	// (max_redirects times, with a backoff) and a reload moves on to the
	// next node, so redialling a dead master only makes calls wait longer.
	if !q.Has("dialer_retries") {
		o.DialerRetries = 1
	}
	o.ClusterStateReloadInterval = reload
	c := redis.NewClusterClient(o)
	c.AddHook(reloadOnFailure{c})
	return c, fmt.Sprintf("redis cluster %s%s", strings.Join(o.Addrs, ","), tls), nil
}

// reloadOnFailure is a hook that has a Cluster client reload its slot map
// (in the background, at most one reload at a time: LazyReload) whenever
// a call failed other than by a plain Redis reply: a refused or dropped
// connection, a timeout, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, LOADING. go-redis
// itself reloads only on MOVED, ASK and READONLY, which a dead master never
// sends: without this it would keep dialling the dead master until
// ClusterStateReloadInterval passes.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.after(err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.after(err)
		return err
	}
}

func (h reloadOnFailure) after(err error) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return
	}
	var reply redis.Error
	if errors.As(err, &reply) && !redis.IsClusterDownError(err) && !redis.IsTryAgainError(err) &&
		!redis.IsMasterDownError(err) && !redis.IsLoadingError(err) {
		return // the node answered: a script's error, NOSCRIPT, WRONGTYPE, …
	}
	h.c.ReloadState(context.Background())
}

// secrets are the passwords a REDIS_URL may hold, for scrub: the user
// info's, the password= and sentinel_password= options', and the user info
// of any addr= option (which go-redis rejects, quoting it).
func secrets(u *url.URL) []string {
	var out []string
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	q := u.Query()
	out = append(out, q["password"]...)
	out = append(out, q["sentinel_password"]...)
	for _, a := range q["addr"] {
		if i := strings.LastIndexByte(a, '@'); i >= 0 {
			out = append(out, a[:i])
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	// Longest first, so that "user:password" goes whole before "password".
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub is err's message with every secret in it replaced by "xxxxx":
// go-redis's URL errors quote the part they reject. The error chain is
// dropped with the secret (these errors need no errors.Is).
func scrub(err error, secrets []string) string {
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}
