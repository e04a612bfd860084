package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// A lease key holds "<token> <holder>" and expires with PX. The token comes
// from the lease's INCR counter, which never expires, so every grant gets a
// token greater than every earlier one, even after the lease key expired.
// The counter is also raised to at least Redis's clock in microseconds, so
// tokens keep increasing when a Redis restart without persistence (or an
// RDB snapshot older than the last grants) loses or rolls the counter back.

// tryLeaseScript grants a free lease (TIME in a script needs Redis 5+,
// whose scripts replicate by effects). Returns {1, value, ttl ms} when
// granted, {0, value, pttl} with the holder's value when held.
// KEYS: lease, fence counter. ARGV: holder, ttl ms.
var tryLeaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {0, v, redis.call('PTTL', KEYS[1])} end
local tok = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tok < now then
  tok = now
  redis.call('SET', KEYS[2], string.format('%d', tok))
end
local val = string.format('%d', tok) .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], val, 'NX', 'PX', ARGV[2])
return {1, val, tonumber(ARGV[2])}
`)

// renewLeaseScript extends a lease still held with the value. KEYS: lease.
// ARGV: value, ttl ms. Returns 1 renewed, 0 lost.
var renewLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// releaseLeaseScript deletes a lease still held with the value. KEYS: lease.
// ARGV: value.
var releaseLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func leaseValue(l trains.Lease) string { return strconv.FormatInt(l.Token, 10) + " " + l.Holder }

func (s *Store) parseLease(name, val string, pttl int64) (trains.Lease, error) {
	tok, holder, ok := strings.Cut(val, " ")
	n, err := strconv.ParseInt(tok, 10, 64)
	if !ok || err != nil {
		return trains.Lease{}, fmt.Errorf("lease %s: stored value %q is not \"<token> <holder>\"", name, val)
	}
	return trains.Lease{Name: name, Holder: holder, Token: n, Expiry: s.clock.Now().Add(time.Duration(pttl) * time.Millisecond)}, nil
}

func ttlMillis(what string, ttl time.Duration) (int64, error) {
	ms := ttl.Milliseconds()
	if ms < 1 {
		return 0, fmt.Errorf("%s: the ttl must be at least 1ms, got %s", what, ttl)
	}
	return ms, nil
}

// TryLease takes the named lease for holder for ttl. When anyone holds it,
// the caller included, ok is false and the returned Lease is the current
// one: a holder extends its lease with RenewLease.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (trains.Lease, bool, error) {
	ms, err := ttlMillis("take lease "+name, ttl)
	if err != nil {
		return trains.Lease{}, false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res, err := tryLeaseScript.Run(ctx, s.rdb, []string{s.key(keyLease, name), s.key(keyFence, name)}, holder, ms).Slice()
	if err != nil {
		return trains.Lease{}, false, s.unavailable("take lease "+name, err)
	}
	if len(res) != 3 {
		return trains.Lease{}, false, fmt.Errorf("take lease %s: unexpected script reply %v", name, res)
	}
	granted, _ := res[0].(int64)
	val, _ := res[1].(string)
	pttl, _ := res[2].(int64)
	l, err := s.parseLease(name, val, pttl)
	return l, granted == 1 && err == nil, err
}

// RenewLease extends a lease still held with l's token. ErrLeaseLost: it is not.
func (s *Store) RenewLease(ctx context.Context, l trains.Lease, ttl time.Duration) (trains.Lease, error) {
	ms, err := ttlMillis("renew lease "+l.Name, ttl)
	if err != nil {
		return trains.Lease{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := renewLeaseScript.Run(ctx, s.rdb, []string{s.key(keyLease, l.Name)}, leaseValue(l), ms).Int()
	if err != nil {
		return trains.Lease{}, s.unavailable("renew lease "+l.Name, err)
	}
	if n != 1 {
		return trains.Lease{}, fmt.Errorf("renew lease %s (token %d, %s): %w", l.Name, l.Token, l.Holder, trains.ErrLeaseLost)
	}
	l.Expiry = s.clock.Now().Add(ttl)
	return l, nil
}

// ReleaseLease gives a lease up if it is still held with l's token.
func (s *Store) ReleaseLease(ctx context.Context, l trains.Lease) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := releaseLeaseScript.Run(ctx, s.rdb, []string{s.key(keyLease, l.Name)}, leaseValue(l)).Err()
	return s.unavailable("release lease "+l.Name, err)
}

// Claim takes an operation key with SET NX PX: true for the first caller
// until ttl passes.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if _, err := ttlMillis("claim "+key, ttl); err != nil {
		return false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ok, err := s.rdb.SetNX(ctx, s.key(keyClaim, key), "1", ttl).Result()
	if err != nil {
		return false, s.unavailable("claim "+key, err)
	}
	return ok, nil
}

// Unclaim gives a key back.
func (s *Store) Unclaim(ctx context.Context, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.unavailable("unclaim "+key, s.rdb.Del(ctx, s.key(keyClaim, key)).Err())
}
