package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// This file settles writes whose outcome is unclear (SPEC §7): a write
// that went out to Redis and then failed without an answer — a timeout, a
// connection dropped — may have been applied. Such a write is never
// reported as ErrUnavailable ("nothing was changed"): the store settles it
// with a fresh deadline, by sending it again where that is safe, and
// answers what is true; only when Redis cannot be reached for that either
// does it return ErrUnclear.
//
// Sending a write again is safe because every write is idempotent for its
// own call: each carries a value unique to the call (a claim's token, a
// train write's id, a sign-off's token), and its script answers "done"
// when it finds that value already stored, instead of "someone else did
// it". The plain writes (a quiet window by id, the rotation, the line, a
// deploy record by run id, a lease renewed or released, sign-offs removed,
// a key given back) set a value, so doing them twice is doing them once.
// The audit log is read back (each entry carries its call's token) and
// appended again only when the entry is not there. go-redis itself sends a
// write again after a read timeout (when its ReadTimeout is shorter than
// the call's deadline); the same idempotence makes that give the true
// answer too.

// settleTries is how many times an unclear write is sent again (or read
// back), each with a fresh deadline of the store's timeout.
const settleTries = 2

// settlePause is the pause between two tries.
const settlePause = 100 * time.Millisecond

// newToken returns a value no other call has: 16 random bytes in hex.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// call is one write of the store: it knows whether the write went out to
// Redis. One argument of each command the write sends is a probe; go-redis
// encodes an argument (MarshalBinary) only when it writes the command to
// a connection, so a write whose probe was never encoded never left the
// process: it failed at the dial, waiting for a connection, or on a
// closed client, and changed nothing.
type call struct {
	op    string
	sends atomic.Int32 // times a probe was written out
	// how says how the write settled, for the log.
	how string
}

// probe is an argument that counts the times it is written out.
type probe struct {
	c *call
	v []byte
}

// MarshalBinary is how go-redis encodes the argument: counted.
func (p *probe) MarshalBinary() ([]byte, error) {
	p.c.sends.Add(1)
	return p.v, nil
}

// String is the argument's value, for go-redis's own use of it as text.
func (p *probe) String() string { return string(p.v) }

// arg wraps v (a string or []byte) as a probe of c.
func (c *call) arg(v any) any {
	switch v := v.(type) {
	case string:
		return &probe{c, []byte(v)}
	case []byte:
		return &probe{c, v}
	}
	panic(fmt.Sprintf("redisstore: a probe of %T", v))
}

// refused takes back one send whose command Redis refused without running
// it (NOSCRIPT), unless there were others.
func (c *call) refused() { c.sends.CompareAndSwap(1, 0) }

// mayHaveApplied reports whether a failed write may have been applied: it
// went out, and did not come back as Redis's own error reply (READONLY,
// LOADING, MOVED, CROSSSLOT, …, which mean the command was not run). A
// write sent more than once (go-redis retried it) may have been applied
// by an earlier send, whatever the last one answered.
func (c *call) mayHaveApplied(err error) bool {
	n := c.sends.Load()
	if n == 0 {
		return false
	}
	var re redis.Error
	return n > 1 || !errors.As(err, &re)
}

// eval runs a script like redis.Script.Run (EVALSHA, then EVAL when Redis
// does not have it), with its first argument a probe of c.
func (s *Store) eval(ctx context.Context, c *call, sc *redis.Script, keys []string, args ...any) *redis.Cmd {
	args[0] = c.arg(args[0])
	cmd := sc.EvalSha(ctx, s.rdb, keys, args...)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		c.refused()
		cmd = sc.Eval(ctx, s.rdb, keys, args...)
	}
	return cmd
}

// write makes one write: send, within ctx's deadline or the store's
// timeout. When send fails before its write went out, or Redis refused
// it, the write changed nothing: ErrUnavailable. When it may have been
// applied, the store settles it: settle (send itself when nil) is called
// with a fresh deadline, up to settleTries times, and its answer is the
// write's; when every try fails, the error wraps trains.ErrUnclear.
//
// send and settle return go-redis's error as it is; they keep the reply in
// variables of the caller, who reads them when write returns nil.
func (s *Store) write(ctx context.Context, c *call, send, settle func(ctx context.Context) error) error {
	bctx, cancel := s.bound(ctx)
	err := send(bctx)
	cancel()
	if err == nil {
		return nil
	}
	if !c.mayHaveApplied(err) {
		return s.unavailable(c.op, err)
	}
	if settle == nil {
		settle = send
	}
	return s.settle(ctx, c, err, settle)
}

// settle settles a write that may have been applied: see write.
func (s *Store) settle(ctx context.Context, c *call, cause error, settle func(ctx context.Context) error) error {
	log := s.log.With("op", c.op)
	log.Warn("redis write unclear: it went out and no answer came back, so it may have been applied; settling it", "err", cause)
	if s.onErr != nil {
		s.onErr()
	}
	// The caller's deadline may be what ran out, or its context may be
	// cancelled (trainbot stopping): the answer must still be true.
	base := context.WithoutCancel(ctx)
	var err error
	for try := 1; try <= settleTries; try++ {
		if try > 1 {
			time.Sleep(settlePause)
		}
		sctx, cancel := context.WithTimeout(base, s.timeout)
		err = settle(sctx)
		cancel()
		if err == nil {
			log.Info("redis write unclear: settled", "how", c.how, "tries", try)
			return nil
		}
		log.Warn("redis write unclear: settling failed", "try", try, "err", err)
	}
	log.Error("redis write unclear: could not settle it; it may or may not have been applied", "err", err)
	return fmt.Errorf("redis: %s: %w (the write went out, then %v; reading it back failed: %v)", c.op, trains.ErrUnclear, cause, err)
}
