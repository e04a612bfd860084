package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// This file keeps the records that only grow: sign-offs, the audit log and
// deploy records.

// A train's sign-offs of a kind are one hash: "u:<user>" holds the
// record's JSON and "k:<user>" what it signs (SignOffRecord.Signs), so
// that the scripts compare without decoding JSON; "w:<user>" holds the
// token of the call that wrote it, so that a call sent again (its outcome
// unclear) tells its own sign-off from an earlier one.

// addSignOffScript sets a user's sign-off unless it already signs the
// same. Returns 1 added, 0 already signs the same, 2 added by this token.
// KEYS: the hash. ARGV: user, record JSON, what it signs, token.
var addSignOffScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'w:' .. ARGV[1]) == ARGV[4] then return 2 end
if redis.call('HGET', KEYS[1], 'k:' .. ARGV[1]) == ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'u:' .. ARGV[1], ARGV[2], 'k:' .. ARGV[1], ARGV[3], 'w:' .. ARGV[1], ARGV[4])
return 1
`)

// removeSignOffsScript removes sign-offs that still sign what was read.
// KEYS: the hash. ARGV: user, what it signs, user, what it signs, …
var removeSignOffsScript = redis.NewScript(`
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], 'k:' .. ARGV[i]) == ARGV[i+1] then
    redis.call('HDEL', KEYS[1], 'u:' .. ARGV[i], 'k:' .. ARGV[i], 'w:' .. ARGV[i])
  end
end
return 0
`)

var signOffHow = map[int]string{0: "already signed the same", 1: "added now", 2: "had been added by this call"}

func (s *Store) signOffKey(id trains.TrainID, kind trains.SignOffKind) string {
	return s.key(keySignOffs, string(id), ":", string(kind))
}

// AddSignOff records r.User's sign-off of kind on a train; added is false
// when theirs already signs the same, and one for something else is replaced.
func (s *Store) AddSignOff(ctx context.Context, id trains.TrainID, kind trains.SignOffKind, r trains.SignOffRecord) (bool, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("add %s of %s: encode: %w", kind, id, err)
	}
	c := &call{op: fmt.Sprintf("add %s of %s", kind, id)}
	token := newToken()
	var n int
	err = s.write(ctx, c, func(ctx context.Context) error {
		var err error
		n, err = s.eval(ctx, c, addSignOffScript, []string{s.signOffKey(id, kind)}, r.User, b, r.Signs(), token).Int()
		c.how = signOffHow[n]
		return err
	}, nil)
	if err != nil {
		return false, err
	}
	return n != 0, nil
}

// SignOffs returns the sign-offs of kind on a train, oldest first.
func (s *Store) SignOffs(ctx context.Context, id trains.TrainID, kind trains.SignOffKind) ([]trains.SignOffRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := s.rdb.HGetAll(ctx, s.signOffKey(id, kind)).Result()
	if err != nil {
		return nil, s.unavailable(fmt.Sprintf("read %s of %s", kind, id), err)
	}
	out := make([]trains.SignOffRecord, 0, len(vals)/2)
	for f, v := range vals {
		if !strings.HasPrefix(f, "u:") {
			continue
		}
		var r trains.SignOffRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, s.unavailable("read sign-offs", corrupt("a stored sign-off", err))
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b trains.SignOffRecord) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.User, b.User)) })
	return out, nil
}

// RemoveSignOffs removes the given sign-offs of kind on a train, each only
// while the user's stored one still signs the same.
func (s *Store) RemoveSignOffs(ctx context.Context, id trains.TrainID, kind trains.SignOffKind, used []trains.SignOffRecord) error {
	if len(used) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(used))
	for _, r := range used {
		args = append(args, r.User, r.Signs())
	}
	c := &call{op: fmt.Sprintf("remove %s of %s", kind, id), how: "removed again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		return s.eval(ctx, c, removeSignOffsScript, []string{s.signOffKey(id, kind)}, slices.Clone(args)...).Err()
	}, nil)
}

// Audit appends an entry to the audit stream, and to the train's stream
// when it names a train, in one MULTI/EXEC. With a cap (WithAuditMaxLen,
// WithTrainAuditMaxLen) each XADD trims its stream's oldest entries.
//
// An entry in the audit stream carries its call's token (field w): when
// the outcome of an append is unclear, the newest entries are read back,
// and the entry is appended again only if it is not among them. (Were it
// appended meanwhile by more than auditReadBack other entries, it would be
// appended twice: a duplicate line rather than a lost one.)
func (s *Store) Audit(ctx context.Context, e trains.AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit %s: encode: %w", e.Action, err)
	}
	c := &call{op: "audit " + e.Action}
	token := newToken()
	send := func(ctx context.Context) error {
		c.how = "appended again"
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.XAdd(ctx, &redis.XAddArgs{Stream: s.key(keyAudit), MaxLen: s.auditN, Approx: s.auditN > 0, Values: []any{"e", c.arg(b), "w", token}})
			if e.Train != "" {
				p.XAdd(ctx, &redis.XAddArgs{Stream: s.key(keyAuditTrain, string(e.Train)), MaxLen: s.trainN, Approx: s.trainN > 0, Values: []any{"e", b}})
			}
			return nil
		})
		return err
	}
	settle := func(ctx context.Context) error {
		msgs, err := s.rdb.XRevRangeN(ctx, s.key(keyAudit), "+", "-", auditReadBack).Result()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Values["w"] == token {
				c.how = "found in the log"
				return nil
			}
		}
		return send(ctx)
	}
	return s.write(ctx, c, send, settle)
}

// auditReadBack is how many of the newest audit entries an unclear
// append looks through for its own.
const auditReadBack = 100

// AuditLog returns the newest limit entries, newest first (all when limit
// is not above zero); only those of train when train is not empty.
func (s *Store) AuditLog(ctx context.Context, train trains.TrainID, limit int) ([]trains.AuditEntry, error) {
	key := s.key(keyAudit)
	if train != "" {
		key = s.key(keyAuditTrain, string(train))
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var msgs []redis.XMessage
	var err error
	if limit > 0 {
		msgs, err = s.rdb.XRevRangeN(ctx, key, "+", "-", int64(limit)).Result()
	} else {
		msgs, err = s.rdb.XRevRange(ctx, key, "+", "-").Result()
	}
	if err != nil {
		return nil, s.unavailable("read audit log", err)
	}
	out := make([]trains.AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		v, _ := m.Values["e"].(string)
		var e trains.AuditEntry
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, s.unavailable("read audit log", corrupt("audit entry "+m.ID, err))
		}
		out = append(out, e)
	}
	return out, nil
}

// RecordDeploy stores a deploy record; recording a RunID again replaces it.
func (s *Store) RecordDeploy(ctx context.Context, d trains.DeployRecord) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("record deploy run %d: encode: %w", d.RunID, err)
	}
	id := strconv.FormatInt(d.RunID, 10)
	c := &call{op: "record deploy run " + id, how: "recorded again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, s.key(keyDeploys), id, c.arg(b))
			p.ZAdd(ctx, s.key(keyDeploysByAt), redis.Z{Score: score(d.At), Member: id})
			return nil
		})
		return err
	}, nil)
}

// Deploys returns the deploy records with from <= At < to, oldest first.
func (s *Store) Deploys(ctx context.Context, from, to time.Time) ([]trains.DeployRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ids, err := s.rdb.ZRangeByScore(ctx, s.key(keyDeploysByAt), &redis.ZRangeBy{Min: scoreArg(from), Max: scoreArg(to)}).Result()
	if err != nil {
		return nil, s.unavailable("list deploys", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.key(keyDeploys), ids...).Result()
	if err != nil {
		return nil, s.unavailable("read deploys", err)
	}
	var out []trains.DeployRecord
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var d trains.DeployRecord
		if err := json.Unmarshal([]byte(str), &d); err != nil {
			return nil, s.unavailable("read deploys", corrupt("a stored deploy record", err))
		}
		if !d.At.Before(from) && d.At.Before(to) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b trains.DeployRecord) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.RunID, b.RunID)) })
	return out, nil
}
