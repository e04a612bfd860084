package redisstore_test

import (
	"testing"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

// reopener makes stores on fresh prefixes of the test Redis, and reopens
// one as a restarted trainbot would (a new client on the same keys).
type reopener map[*redisstore.Store]*redistest.Redis

func (r reopener) open(t testing.TB, db *redistest.Redis) *redisstore.Store {
	s, err := redisstore.New(db.NewClient(t, nil), db.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	r[s] = db
	return s
}

func (r reopener) fresh(t testing.TB) *redisstore.Store { return r.open(t, redistest.New(t)) }

func (r reopener) reopen(t testing.TB, s *redisstore.Store) *redisstore.Store { return r.open(t, r[s]) }

func TestTagObjects(t *testing.T) {
	t.Parallel()
	r := reopener{}
	storagetest.RunTagObjects(t, func(t testing.TB) trains.TagObjectCache { return r.fresh(t) },
		func(t testing.TB, c trains.TagObjectCache) trains.TagObjectCache {
			return r.reopen(t, c.(*redisstore.Store))
		})
}

func TestTagLines(t *testing.T) {
	t.Parallel()
	r := reopener{}
	storagetest.RunTagLines(t, func(t testing.TB) trains.TagLineIndex { return r.fresh(t) },
		func(t testing.TB, x trains.TagLineIndex) trains.TagLineIndex {
			return r.reopen(t, x.(*redisstore.Store))
		})
}
