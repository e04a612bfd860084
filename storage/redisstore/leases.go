package redisstore

import (
	"context"
	"errors"
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
//
// Unclear outcomes: holders are unique per attempt to take a lease
// (trains.Service names a new one for each), so a lease found held by
// holder after this call's own send was lost is this call's. When even
// that cannot be read (ErrUnclear), a lease granted by the lost send is
// held by nobody who acts on it, and runs out by its ttl.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (trains.Lease, bool, error) {
	ms, err := ttlMillis("take lease "+name, ttl)
	if err != nil {
		return trains.Lease{}, false, err
	}
	c := &call{op: "take lease " + name}
	keys := []string{s.key(keyLease, name), s.key(keyFence, name)}
	sent := 0
	var res []any
	send := func(ctx context.Context) error {
		sent++
		var err error
		res, err = s.eval(ctx, c, tryLeaseScript, keys, holder, ms).Slice()
		c.how = "read the lease"
		return err
	}
	if err := s.write(ctx, c, send, nil); err != nil {
		return trains.Lease{}, false, err
	}
	if len(res) != 3 {
		return trains.Lease{}, false, fmt.Errorf("take lease %s: unexpected script reply %v", name, res)
	}
	granted, _ := res[0].(int64)
	val, _ := res[1].(string)
	pttl, _ := res[2].(int64)
	l, err := s.parseLease(name, val, pttl)
	if err != nil {
		return l, false, err
	}
	ok := granted == 1
	if !ok && l.Holder == holder && (sent > 1 || c.sends.Load() > 1) {
		// This call was sent more than once (go-redis, or settling): an
		// earlier send took it.
		ok = true
		s.log.Info("redis: the lease is held under this call's holder: an earlier send of the call took it", "lease", name, "holder", holder)
	}
	return l, ok, nil
}

// RenewLease extends a lease still held with l's token. ErrLeaseLost: it is not.
func (s *Store) RenewLease(ctx context.Context, l trains.Lease, ttl time.Duration) (trains.Lease, error) {
	ms, err := ttlMillis("renew lease "+l.Name, ttl)
	if err != nil {
		return trains.Lease{}, err
	}
	c := &call{op: "renew lease " + l.Name, how: "renewed again"}
	var n int
	err = s.write(ctx, c, func(ctx context.Context) error {
		var err error
		n, err = s.eval(ctx, c, renewLeaseScript, []string{s.key(keyLease, l.Name)}, leaseValue(l), ms).Int()
		return err
	}, nil)
	if err != nil {
		return trains.Lease{}, err
	}
	if n != 1 {
		return trains.Lease{}, fmt.Errorf("renew lease %s (token %d, %s): %w", l.Name, l.Token, l.Holder, trains.ErrLeaseLost)
	}
	l.Expiry = s.clock.Now().Add(ttl)
	return l, nil
}

// ReleaseLease gives a lease up if it is still held with l's token.
func (s *Store) ReleaseLease(ctx context.Context, l trains.Lease) error {
	c := &call{op: "release lease " + l.Name, how: "released again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		return s.eval(ctx, c, releaseLeaseScript, []string{s.key(keyLease, l.Name)}, leaseValue(l)).Err()
	}, nil)
}

// claimScript takes an operation key for a token. Returns 1 taken, 0 held
// by someone else, 2 already taken by this token (an earlier send of the
// same call), 3 taken over from this process's own unsettled claim.
// KEYS: the claim. ARGV: token, ttl ms, the token of this process's
// unsettled claim of the key ("" for none).
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return 2 end
local n = 1
if v then
  if v ~= ARGV[3] then return 0 end
  n = 3
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return n
`)

// giveBackScript deletes a claim still held with one of the tokens.
// KEYS: the claim. ARGV: the tokens. Returns 1 deleted, 0 not held with them.
var giveBackScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
for i = 1, #ARGV do
  if v == ARGV[i] then return redis.call('DEL', KEYS[1]) end
end
return 0
`)

var claimHow = map[int]string{0: "held by someone else", 1: "taken now", 2: "had been taken by this call", 3: "taken over from this process's unsettled claim"}

// Claim takes an operation key: true for the first caller until ttl
// passes. The key holds a token of the call, so that the call may be sent
// again when its outcome is unclear and still tell its own claim from
// another's.
//
// When even that cannot be done (ErrUnclear), the claim may be held with
// nobody acting on it: the store gives it back in the background as soon
// as Redis answers (deleting it only while it holds that token), and a
// Claim of the key by this process before then takes it over. So an
// unclear claim never makes a redelivery or the next reminder be skipped
// as already done.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ms, err := ttlMillis("claim "+key, ttl)
	if err != nil {
		return false, err
	}
	c := &call{op: "claim " + key}
	pending := "claim:" + key
	token, earlier := newToken(), s.pendingValue(pending)
	keys := []string{s.key(keyClaim, key)}
	var n int
	err = s.write(ctx, c, func(ctx context.Context) error {
		var err error
		n, err = s.eval(ctx, c, claimScript, keys, token, ms, earlier).Int()
		c.how = claimHow[n]
		return err
	}, nil)
	if err != nil {
		if errors.Is(err, trains.ErrUnclear) {
			s.giveBack(ctx, key, ttl, token, earlier)
		}
		return false, err
	}
	if earlier != "" {
		s.forget(pending, earlier)
	}
	return n != 0, nil
}

// giveBack deletes a claim that could not be settled, if it holds token
// (or earlier, the token of an unsettled claim this one may not have
// taken over), retrying in the background until Redis answers, the claim
// would have expired, or a later Claim of the key by this process settled
// it.
func (s *Store) giveBack(ctx context.Context, key string, ttl time.Duration, token, earlier string) {
	pending := "claim:" + key
	s.remember(pending, token)
	log := s.log.With("claim", key)
	until := time.Now().Add(ttl)
	base := context.WithoutCancel(ctx)
	go func() {
		result := "given back"
		wait := s.timeout
		defer func() { log.Info("unclear claim: give-back done", "result", result) }()
		for {
			time.Sleep(wait)
			if !s.pendingIs(pending, token) {
				result = "nothing to give back: a later claim settled it"
				return
			}
			if time.Now().After(until) {
				s.forget(pending, token)
				result = "nothing to give back: it has expired"
				return
			}
			ctx, cancel := context.WithTimeout(base, s.timeout)
			n, err := giveBackScript.Run(ctx, s.rdb, []string{s.key(keyClaim, key)}, token, earlier).Int()
			cancel()
			switch {
			case err == nil:
				if n == 0 {
					result = "nothing to give back: the claim was not taken, or is gone"
				}
				s.forget(pending, token)
				return
			case errors.Is(err, redis.ErrClosed):
				result = "not given back: the Redis client is closed; it expires by itself"
				return
			}
			log.Debug("unclear claim: give-back failed; trying again", "err", err)
			wait = min(2*wait, 30*time.Second)
		}
	}()
}

// unclaimScript deletes a claim. It is a script rather than a DEL so that
// the call's probe travels as an argument, not as the key (which Cluster
// routing reads). KEYS: the claim. ARGV: the probe (empty).
var unclaimScript = redis.NewScript(`return redis.call('DEL', KEYS[1])`)

// Unclaim gives a key back.
func (s *Store) Unclaim(ctx context.Context, key string) error {
	c := &call{op: "unclaim " + key, how: "deleted again"}
	err := s.write(ctx, c, func(ctx context.Context) error {
		return s.eval(ctx, c, unclaimScript, []string{s.key(keyClaim, key)}, "").Err()
	}, nil)
	if err == nil {
		s.forgetAll("claim:" + key)
	}
	return err
}

// remember notes value (a claim's token) under name for a write that
// could not be settled.
func (s *Store) remember(name, value string) {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	if s.pending == nil {
		s.pending = map[string]string{}
	}
	s.pending[name] = value
}

// pendingValue returns the value remembered under name, or "".
func (s *Store) pendingValue(name string) string {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	return s.pending[name]
}

// pendingIs reports whether value is remembered under name.
func (s *Store) pendingIs(name, value string) bool { return s.pendingValue(name) == value }

// forget forgets name if value is still what is remembered under it.
func (s *Store) forget(name, value string) {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	if s.pending[name] == value {
		delete(s.pending, name)
	}
}

// forgetAll forgets name.
func (s *Store) forgetAll(name string) {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	delete(s.pending, name)
}
