package redisstore_test

import (
	"testing"

	"github.com/trainbot/trainbot/internal/redistest"
	"github.com/trainbot/trainbot/storage/redisstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
)

func TestTagObjects(t *testing.T) {
	t.Parallel()
	open := func(t testing.TB, r *redistest.Redis) *redisstore.Store {
		s, err := redisstore.New(r.NewClient(t, nil), r.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	prefixes := map[trains.TagObjectCache]*redistest.Redis{}
	storagetest.RunTagObjects(t, func(t testing.TB) trains.TagObjectCache {
		r := redistest.New(t)
		s := open(t, r)
		prefixes[s] = r
		return s
	}, func(t testing.TB, c trains.TagObjectCache) trains.TagObjectCache {
		return open(t, prefixes[c])
	})
}

func TestTagLines(t *testing.T) {
	t.Parallel()
	open := func(t testing.TB, r *redistest.Redis) *redisstore.Store {
		s, err := redisstore.New(r.NewClient(t, nil), r.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	prefixes := map[trains.TagLineIndex]*redistest.Redis{}
	storagetest.RunTagLines(t, func(t testing.TB) trains.TagLineIndex {
		r := redistest.New(t)
		s := open(t, r)
		prefixes[s] = r
		return s
	}, func(t testing.TB, x trains.TagLineIndex) trains.TagLineIndex {
		return open(t, prefixes[x])
	})
}
