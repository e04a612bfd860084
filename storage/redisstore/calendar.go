package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// CalendarState reads everything the calendar needs in two pipelined round
// trips: first the window and train ids, the rotation and the started line;
// then the windows and trains by id. (A Newest query whose page holds
// trains outside the exact bounds reads one more page; that takes trains
// sharing a microsecond with a bound.)
func (s *Store) CalendarState(ctx context.Context, windowsSince time.Time, q trains.TrainQuery) (trains.CalendarState, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var st trains.CalendarState

	p := s.rdb.Pipeline()
	winIDs := s.windowRange(ctx, p, windowsSince)
	rot := s.queueRotation(ctx, p)
	trainIDs := s.trainRange(ctx, p, q, 0)
	line := p.Get(ctx, s.key(keyLine))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return st, s.unavailable("read calendar state", err)
	}
	var err error
	if st.Rotation, st.HasRotation, err = rot.result(); err != nil {
		return st, s.unavailable("read calendar state: rotation", err)
	}
	if st.Line, err = lineResult(line); err != nil {
		return st, s.unavailable("read calendar state: started line", err)
	}

	p = s.rdb.Pipeline()
	var wins, trs *redis.SliceCmd
	if ids := winIDs.Val(); len(ids) > 0 {
		wins = p.HMGet(ctx, s.key(keyWindows), ids...)
	}
	if ids := trainIDs.Val(); len(ids) > 0 {
		trs = p.HMGet(ctx, s.key(keyTrains), ids...)
	}
	if wins == nil && trs == nil {
		return st, nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return st, s.unavailable("read calendar state", err)
	}
	if wins != nil {
		if st.Windows, err = decodeWindows(wins.Val(), windowsSince); err != nil {
			return st, s.unavailable("read calendar state", err)
		}
	}
	if trs != nil {
		ts, err := decodeTrains(trs.Val())
		if err != nil {
			return st, s.unavailable("read calendar state", err)
		}
		if st.Trains, err = s.moreNewest(ctx, q, trainIDs.Val(), ts); err != nil {
			return st, err
		}
	}
	return st, nil
}
