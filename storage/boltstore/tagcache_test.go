package boltstore_test

import (
	"testing"

	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

func TestTagObjects(t *testing.T) {
	t.Parallel()
	clock := trainstest.NewClock(storagetest.T0)
	dirs := map[trains.TagObjectCache]string{}
	open := func(t testing.TB, dir string) *boltstore.Store {
		s, err := boltstore.Open(dir, clock)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		dirs[s] = dir
		return s
	}
	storagetest.RunTagObjects(t, func(t testing.TB) trains.TagObjectCache {
		return open(t, t.TempDir())
	}, func(t testing.TB, c trains.TagObjectCache) trains.TagObjectCache {
		if err := c.(*boltstore.Store).Close(); err != nil {
			t.Fatal(err)
		}
		return open(t, dirs[c])
	})
}

func TestTagLines(t *testing.T) {
	t.Parallel()
	clock := trainstest.NewClock(storagetest.T0)
	dirs := map[trains.TagLineIndex]string{}
	open := func(t testing.TB, dir string) *boltstore.Store {
		s, err := boltstore.Open(dir, clock)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		dirs[s] = dir
		return s
	}
	storagetest.RunTagLines(t, func(t testing.TB) trains.TagLineIndex {
		return open(t, t.TempDir())
	}, func(t testing.TB, x trains.TagLineIndex) trains.TagLineIndex {
		if err := x.(*boltstore.Store).Close(); err != nil {
			t.Fatal(err)
		}
		return open(t, dirs[x])
	})
}
