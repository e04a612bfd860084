package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// Each train write carries a write id unique to the call, stored in
// trains:write next to the version: a script that finds its own write id
// there returns 2 ("this call's write is stored") instead of "exists" or
// "conflict", so a write whose reply was lost may be sent again and still
// get its true answer (see unclear.go).

// createTrainScript stores a train unless its id exists. Returns 1 done,
// 0 exists, 2 this write id already stored it.
// KEYS: trains, versions, by_at, open, writes. ARGV: write id, id, json, score, open (1/0).
var createTrainScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  if redis.call('HGET', KEYS[5], ARGV[2]) == ARGV[1] then return 2 end
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], '1')
redis.call('HSET', KEYS[5], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2]) else redis.call('ZREM', KEYS[4], ARGV[2]) end
return 1
`)

// updateTrainScript replaces a train if the fence holds and the stored
// version is the expected one. Returns 1 done, 2 this write id already
// stored it (the last write of the train is this one), -1 not found, -2
// conflict, -3 lease lost.
// KEYS: trains, versions, by_at, open, lease (any key when no fence), writes.
// ARGV: write id, id, json, score, open (1/0), expected version, new version, fence token ("" for none).
var updateTrainScript = redis.NewScript(`
if redis.call('HGET', KEYS[6], ARGV[2]) == ARGV[1] then return 2 end
if ARGV[8] ~= '' then
  local v = redis.call('GET', KEYS[5])
  if not v or string.match(v, '^(%d+) ') ~= ARGV[8] then return -3 end
end
local cur = redis.call('HGET', KEYS[2], ARGV[2])
if not cur then return -1 end
if cur ~= ARGV[6] then return -2 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[7])
redis.call('HSET', KEYS[6], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2]) else redis.call('ZREM', KEYS[4], ARGV[2]) end
return 1
`)

var trainHow = map[int]string{1: "stored now", 2: "had been stored by this call", 0: "a train with that id exists", -1: "not found", -2: "changed by someone else", -3: "lease lost"}

func openFlag(t trains.Train) string {
	if t.State.Final() {
		return "0"
	}
	return "1"
}

// CreateTrain stores a new train with Version 1. ErrConflict: the id exists.
func (s *Store) CreateTrain(ctx context.Context, t trains.Train) (trains.Train, error) {
	if t.ID == "" {
		return trains.Train{}, errors.New("create train: the train has no id")
	}
	t.Version = 1
	b, err := json.Marshal(t)
	if err != nil {
		return trains.Train{}, fmt.Errorf("create train %s: encode: %w", t.ID, err)
	}
	c := &call{op: "create train " + string(t.ID)}
	wid := newToken()
	keys := []string{s.key(keyTrains), s.key(keyTrainVer), s.key(keyTrainsByAt), s.key(keyTrainsOpen), s.key(keyTrainWrite)}
	var n int
	err = s.write(ctx, c, func(ctx context.Context) error {
		var err error
		n, err = s.eval(ctx, c, createTrainScript, keys, wid, string(t.ID), b, scoreArg(t.At), openFlag(t)).Int()
		c.how = trainHow[n]
		return err
	}, nil)
	if err != nil {
		return trains.Train{}, err
	}
	if n == 0 {
		return trains.Train{}, fmt.Errorf("create train %s: a train with that id exists: %w", t.ID, trains.ErrConflict)
	}
	return t, nil
}

// GetTrain returns a train. ErrNotFound: no such train.
func (s *Store) GetTrain(ctx context.Context, id trains.TrainID) (trains.Train, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	b, err := s.rdb.HGet(ctx, s.key(keyTrains), string(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return trains.Train{}, fmt.Errorf("train %s: %w", id, trains.ErrNotFound)
	}
	if err != nil {
		return trains.Train{}, s.unavailable("get train "+string(id), err)
	}
	var t trains.Train
	if err := json.Unmarshal(b, &t); err != nil {
		return trains.Train{}, fmt.Errorf("train %s: stored record is not valid JSON: %w", id, err)
	}
	return t, nil
}

// UpdateTrain replaces a train if its stored Version is t.Version (and,
// with a fence, while that lease is held with its token), and returns it
// with Version one higher. ErrNotFound, ErrConflict, ErrLeaseLost.
func (s *Store) UpdateTrain(ctx context.Context, t trains.Train, fence trains.Fence) (trains.Train, error) {
	want := t.Version
	t.Version++
	b, err := json.Marshal(t)
	if err != nil {
		return trains.Train{}, fmt.Errorf("update train %s: encode: %w", t.ID, err)
	}
	leaseKey, token := s.key(keyTrainVer), ""
	if fence != (trains.Fence{}) {
		leaseKey, token = s.key(keyLease, fence.Lease), strconv.FormatInt(fence.Token, 10)
	}
	c := &call{op: "update train " + string(t.ID)}
	wid := newToken()
	keys := []string{s.key(keyTrains), s.key(keyTrainVer), s.key(keyTrainsByAt), s.key(keyTrainsOpen), leaseKey, s.key(keyTrainWrite)}
	var n int
	err = s.write(ctx, c, func(ctx context.Context) error {
		var err error
		n, err = s.eval(ctx, c, updateTrainScript, keys, wid, string(t.ID), b, scoreArg(t.At), openFlag(t),
			strconv.FormatInt(want, 10), strconv.FormatInt(t.Version, 10), token).Int()
		c.how = trainHow[n]
		return err
	}, nil)
	switch {
	case err != nil:
		return trains.Train{}, err
	case n == -1:
		return trains.Train{}, fmt.Errorf("update train %s: %w", t.ID, trains.ErrNotFound)
	case n == -2:
		return trains.Train{}, fmt.Errorf("update train %s from version %d: %w", t.ID, want, trains.ErrConflict)
	case n == -3:
		return trains.Train{}, fmt.Errorf("update train %s under lease %s token %d: %w", t.ID, fence.Lease, fence.Token, trains.ErrLeaseLost)
	}
	return t, nil
}

// trainRange queues the read of the ids q selects on c (a client or a pipeline).
func (s *Store) trainRange(ctx context.Context, c redis.Cmdable, q trains.TrainQuery, offset int64) *redis.StringSliceCmd {
	by := &redis.ZRangeBy{Min: "-inf", Max: "+inf"}
	if !q.From.IsZero() {
		by.Min = scoreArg(q.From)
	}
	if !q.To.IsZero() {
		by.Max = scoreArg(q.To) // inclusive here; trainsIn filters exactly
	}
	if q.Newest > 0 {
		by.Offset, by.Count = offset, int64(q.Newest)
		return c.ZRevRangeByScore(ctx, s.key(keyTrainsByAt), by)
	}
	return c.ZRangeByScore(ctx, s.key(keyTrainsByAt), by)
}

// trainsIn keeps the trains q selects, oldest first.
func trainsIn(ts []trains.Train, q trains.TrainQuery) []trains.Train {
	out := make([]trains.Train, 0, len(ts))
	for _, t := range ts {
		if t.At.Before(q.From) || (!q.To.IsZero() && !t.At.Before(q.To)) {
			continue
		}
		out = append(out, t)
	}
	sortTrains(out)
	if q.Newest > 0 && len(out) > q.Newest {
		out = out[len(out)-q.Newest:]
	}
	return out
}

func sortTrains(ts []trains.Train) {
	slices.SortFunc(ts, func(a, b trains.Train) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
}

// decodeTrains decodes the values of an HMGET, skipping missing ones.
func decodeTrains(vals []any) ([]trains.Train, error) {
	return decodeJSON[trains.Train](vals, "a stored train")
}

// decodeJSON decodes the JSON values of an HMGET, skipping missing ones;
// what names a value in the error a corrupt one gives.
func decodeJSON[T any](vals []any, what string) ([]T, error) {
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var x T
		if err := json.Unmarshal([]byte(str), &x); err != nil {
			return nil, corrupt(what, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// fetchTrains reads the trains with ids in one HMGET.
func (s *Store) fetchTrains(ctx context.Context, ids []string) ([]trains.Train, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.key(keyTrains), ids...).Result()
	if err != nil {
		return nil, s.unavailable("read trains", err)
	}
	return decodeTrains(vals)
}

// ListTrains returns the trains q selects, oldest first, in two round trips.
func (s *Store) ListTrains(ctx context.Context, q trains.TrainQuery) ([]trains.Train, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ids, err := s.trainRange(ctx, s.rdb, q, 0).Result()
	if err != nil {
		return nil, s.unavailable("list trains", err)
	}
	ts, err := s.fetchTrains(ctx, ids)
	if err != nil {
		return nil, err
	}
	return s.moreNewest(ctx, q, ids, ts)
}

// moreNewest reads further pages for a Newest query whose first page held
// trains outside q's exact bounds (times that share a microsecond with a
// bound), until it has Newest trains or the range is done. It is a loop
// that almost never runs.
func (s *Store) moreNewest(ctx context.Context, q trains.TrainQuery, page []string, ts []trains.Train) ([]trains.Train, error) {
	got := trainsIn(ts, q)
	offset := int64(len(page))
	for q.Newest > 0 && len(got) < q.Newest && len(page) == q.Newest {
		var err error
		if page, err = s.trainRange(ctx, s.rdb, q, offset).Result(); err != nil {
			return nil, s.unavailable("list trains", err)
		}
		more, err := s.fetchTrains(ctx, page)
		if err != nil {
			return nil, err
		}
		offset += int64(len(page))
		ts = append(ts, more...)
		got = trainsIn(ts, q)
	}
	return got, nil
}

// OpenTrains returns the trains not in a final state, oldest first.
func (s *Store) OpenTrains(ctx context.Context) ([]trains.Train, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ids, err := s.rdb.ZRange(ctx, s.key(keyTrainsOpen), 0, -1).Result()
	if err != nil {
		return nil, s.unavailable("list open trains", err)
	}
	ts, err := s.fetchTrains(ctx, ids)
	if err != nil {
		return nil, err
	}
	sortTrains(ts)
	return ts, nil
}
