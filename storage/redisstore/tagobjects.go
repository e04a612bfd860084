package redisstore

import (
	"context"
	"encoding/json"

	"github.com/trainbot/trainbot/trains"
)

// keyTagObjects is the hash of tag objects read from GitHub: tag object
// sha → {commit, date} JSON. Tag objects never change, so it is never
// trimmed: a few hundred train tags take a few tens of kilobytes.
const keyTagObjects = "tagobjects"

var _ trains.TagObjectCache = (*Store)(nil)

// TagObjects returns those of shas kept, by sha, in one HMGET. A field
// that does not decode is left out (GitHub is asked again).
func (s *Store) TagObjects(ctx context.Context, shas []string) (map[string]trains.TagObject, error) {
	out := map[string]trains.TagObject{}
	if len(shas) == 0 {
		return out, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := s.rdb.HMGet(ctx, s.key(keyTagObjects), shas...).Result()
	if err != nil {
		return nil, s.unavailable("read tag objects", err)
	}
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue
		}
		var o trains.TagObject
		if json.Unmarshal([]byte(raw), &o) == nil && o.Commit != "" {
			out[shas[i]] = o
		}
	}
	return out, nil
}

// PutTagObjects keeps objs, by sha, in one HSET. A tag object never
// changes, so writing one twice is harmless: a lost reply needs no
// settling.
func (s *Store) PutTagObjects(ctx context.Context, objs map[string]trains.TagObject) error {
	if len(objs) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(objs))
	for sha, o := range objs {
		raw, err := json.Marshal(o)
		if err != nil {
			return err
		}
		args = append(args, sha, string(raw))
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.unavailable("keep tag objects", s.rdb.HSet(ctx, s.key(keyTagObjects), args...).Err())
}
