package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// This file keeps what the calendar reads: quiet windows, the rotation and
// the started line.

// PutWindow stores a quiet window by its ID, replacing any with that ID.
func (s *Store) PutWindow(ctx context.Context, w trains.Window) error {
	if w.ID == "" {
		return errors.New("put quiet window: the window has no id")
	}
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("put quiet window %s: encode: %w", w.ID, err)
	}
	c := &call{op: "put quiet window " + w.ID, how: "put again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, s.key(keyWindows), w.ID, c.arg(b))
			p.ZAdd(ctx, s.key(keyWindowsUntil), redis.Z{Score: score(w.Until), Member: w.ID})
			return nil
		})
		return err
	}, nil)
}

// windowRange queues the read of the ids of the windows ending after since.
func (s *Store) windowRange(ctx context.Context, c redis.Cmdable, since time.Time) *redis.StringSliceCmd {
	return c.ZRangeByScore(ctx, s.key(keyWindowsUntil), &redis.ZRangeBy{Min: scoreArg(since), Max: "+inf"})
}

// decodeWindows decodes an HMGET of windows and keeps those that end after
// since, by start time.
func decodeWindows(vals []any, since time.Time) ([]trains.Window, error) {
	all, err := decodeJSON[trains.Window](vals, "a stored quiet window")
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(w trains.Window) bool { return !w.Until.After(since) })
	slices.SortFunc(out, func(a, b trains.Window) int { return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// Windows returns the quiet windows that end after since, by start time.
func (s *Store) Windows(ctx context.Context, since time.Time) ([]trains.Window, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ids, err := s.windowRange(ctx, s.rdb, since).Result()
	if err != nil {
		return nil, s.unavailable("list quiet windows", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.key(keyWindows), ids...).Result()
	if err != nil {
		return nil, s.unavailable("read quiet windows", err)
	}
	return decodeWindows(vals, since)
}

// storedRotation is the rotation without its overrides, which have a hash
// of their own so that SetRotation keeps them.
type storedRotation struct {
	Members []string  `json:"members"`
	Since   time.Time `json:"since"`
}

// rotationCmds are the two reads of the rotation.
type rotationCmds struct {
	base      *redis.StringCmd
	overrides *redis.MapStringStringCmd
}

func (s *Store) queueRotation(ctx context.Context, p redis.Pipeliner) rotationCmds {
	return rotationCmds{p.Get(ctx, s.key(keyRotation)), p.HGetAll(ctx, s.key(keyOverrides))}
}

// result returns the rotation; ok is false when none was set.
func (c rotationCmds) result() (r trains.Rotation, ok bool, err error) {
	b, err := c.base.Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return r, false, err
	default:
		var sr storedRotation
		if err := json.Unmarshal(b, &sr); err != nil {
			return r, false, corrupt("the stored rotation", err)
		}
		r.Members, r.Since, ok = sr.Members, sr.Since, true
	}
	ov, err := c.overrides.Result()
	if err != nil {
		return r, false, err
	}
	if len(ov) > 0 {
		r.Overrides = make(map[trains.TrainID]string, len(ov))
		for id, u := range ov {
			r.Overrides[trains.TrainID(id)] = u
		}
		ok = true
	}
	return r, ok, nil
}

// Rotation returns the on-call rotation with its overrides, in one round
// trip. ErrNotFound: neither members nor overrides were ever set.
func (s *Store) Rotation(ctx context.Context) (trains.Rotation, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := s.rdb.Pipeline()
	cmds := s.queueRotation(ctx, p)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return trains.Rotation{}, s.unavailable("read rotation", err)
	}
	r, ok, err := cmds.result()
	if err != nil {
		return trains.Rotation{}, s.unavailable("read rotation", err)
	}
	if !ok {
		return trains.Rotation{}, fmt.Errorf("rotation: %w", trains.ErrNotFound)
	}
	return r, nil
}

// SetRotation sets the members and start of the rotation, keeping its overrides.
func (s *Store) SetRotation(ctx context.Context, members []string, since time.Time) error {
	b, err := json.Marshal(storedRotation{Members: members, Since: since})
	if err != nil {
		return fmt.Errorf("set rotation: encode: %w", err)
	}
	c := &call{op: "set rotation", how: "set again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		return s.rdb.Set(ctx, s.key(keyRotation), c.arg(b), 0).Err()
	}, nil)
}

// SetOverrides sets one-train overrides, all or none (one MULTI/EXEC). An
// empty user removes that train's override.
func (s *Store) SetOverrides(ctx context.Context, overrides map[trains.TrainID]string) error {
	if len(overrides) == 0 {
		return nil
	}
	c := &call{op: "set rotation overrides", how: "set again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			first := true // the first command carries the probe
			for id, u := range overrides {
				var field any = string(id)
				if first {
					field, first = c.arg(string(id)), false
				}
				if u == "" {
					p.Do(ctx, "hdel", s.key(keyOverrides), field)
				} else {
					p.Do(ctx, "hset", s.key(keyOverrides), field, u)
				}
			}
			return nil
		})
		return err
	}, nil)
}

// lineResult decodes a GET of the started line.
func lineResult(c *redis.StringCmd) (trains.Line, error) {
	v, err := c.Result()
	switch {
	case errors.Is(err, redis.Nil):
		return trains.Line{}, nil
	case err != nil:
		return trains.Line{}, err
	}
	l, err := trains.ParseLine(v)
	if err != nil {
		return trains.Line{}, corrupt("the stored started line", err)
	}
	return l, nil
}

// StartedLine returns the line started with `/train line`, or the zero Line.
func (s *Store) StartedLine(ctx context.Context) (trains.Line, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	l, err := lineResult(s.rdb.Get(ctx, s.key(keyLine)))
	return l, s.unavailable("read started line", err)
}

// SetStartedLine records a line started with `/train line`.
func (s *Store) SetStartedLine(ctx context.Context, l trains.Line) error {
	c := &call{op: "set started line", how: "set again"}
	return s.write(ctx, c, func(ctx context.Context) error {
		return s.rdb.Set(ctx, s.key(keyLine), c.arg(l.String()), 0).Err()
	}, nil)
}
