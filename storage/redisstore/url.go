package redisstore

import (
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
			q.Del("cluster")
			u.RawQuery = q.Encode()
			o, err := redis.ParseClusterURL(u.String())
			if err != nil {
				return nil, "", fmt.Errorf("REDIS_URL (Cluster, as it has addr= or cluster=true): %s", scrub(err, hide))
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
		return nil, "", fmt.Errorf("REDIS_URL: %s", scrub(err, hide))
	}
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 && timeout > 0 {
		o.DialTimeout = timeout
	}
	return redis.NewClient(o), fmt.Sprintf("redis %s db %d%s", o.Addr, o.DB, tls), nil
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
