package boltstore

import (
	"context"
	"encoding/json"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

// bTagObjects holds the tag objects read from GitHub: tag object sha →
// {commit, date} JSON. Tag objects never change, so it is never trimmed.
// It is made by the first write (a file from before has none).
var bTagObjects = []byte("tagobjects")

var _ trains.TagObjectCache = (*Store)(nil)

// TagObjects returns those of shas kept, by sha, in one read transaction.
// A record that does not decode is left out (GitHub is asked again).
func (s *Store) TagObjects(ctx context.Context, shas []string) (map[string]trains.TagObject, error) {
	out := map[string]trains.TagObject{}
	if len(shas) == 0 {
		return out, nil
	}
	err := s.view(ctx, "read tag objects", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bTagObjects)
		if b == nil {
			return nil
		}
		for _, sha := range shas {
			var o trains.TagObject
			if raw := b.Get([]byte(sha)); raw != nil && json.Unmarshal(raw, &o) == nil && o.Commit != "" {
				out[sha] = o
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutTagObjects keeps objs, by sha, in one write transaction.
func (s *Store) PutTagObjects(ctx context.Context, objs map[string]trains.TagObject) error {
	if len(objs) == 0 {
		return nil
	}
	return s.update(ctx, "keep tag objects", func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bTagObjects)
		if err != nil {
			return err
		}
		for sha, o := range objs {
			if err := put(b, []byte(sha), o); err != nil {
				return err
			}
		}
		return nil
	})
}
