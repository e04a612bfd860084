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
// that the scripts compare without decoding JSON.

// addSignOffScript sets a user's sign-off unless it already signs the same.
// KEYS: the hash. ARGV: user, record JSON, what it signs.
var addSignOffScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'k:' .. ARGV[1]) == ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'u:' .. ARGV[1], ARGV[2], 'k:' .. ARGV[1], ARGV[3])
return 1
`)

// removeSignOffsScript removes sign-offs that still sign what was read.
// KEYS: the hash. ARGV: user, what it signs, user, what it signs, …
var removeSignOffsScript = redis.NewScript(`
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], 'k:' .. ARGV[i]) == ARGV[i+1] then
    redis.call('HDEL', KEYS[1], 'u:' .. ARGV[i], 'k:' .. ARGV[i])
  end
end
return 0
`)

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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := addSignOffScript.Run(ctx, s.rdb, []string{s.signOffKey(id, kind)}, r.User, b, r.Signs()).Int()
	if err != nil {
		return false, s.unavailable(fmt.Sprintf("add %s of %s", kind, id), err)
	}
	return n == 1, nil
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := removeSignOffsScript.Run(ctx, s.rdb, []string{s.signOffKey(id, kind)}, args...).Err()
	return s.unavailable(fmt.Sprintf("remove %s of %s", kind, id), err)
}

// Audit appends an entry to the audit stream, and to the train's stream
// when it names a train, in one MULTI/EXEC. With a cap (WithAuditMaxLen,
// WithTrainAuditMaxLen) each XADD trims its stream's oldest entries.
func (s *Store) Audit(ctx context.Context, e trains.AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit %s: encode: %w", e.Action, err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	add := func(p redis.Pipeliner, stream string, maxLen int64) {
		p.XAdd(ctx, &redis.XAddArgs{Stream: stream, MaxLen: maxLen, Approx: maxLen > 0, Values: []any{"e", b}})
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		add(p, s.key(keyAudit), s.auditN)
		if e.Train != "" {
			add(p, s.key(keyAuditTrain, string(e.Train)), s.trainN)
		}
		return nil
	})
	return s.unavailable("audit "+e.Action, err)
}

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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.key(keyDeploys), id, b)
		p.ZAdd(ctx, s.key(keyDeploysByAt), redis.Z{Score: score(d.At), Member: id})
		return nil
	})
	return s.unavailable("record deploy run "+id, err)
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
