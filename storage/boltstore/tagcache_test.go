package boltstore_test

import (
	"testing"

	"github.com/trainbot/trainbot/storage/boltstore"
	"github.com/trainbot/trainbot/storage/storagetest"
	"github.com/trainbot/trainbot/trains"
	"github.com/trainbot/trainbot/trains/trainstest"
)

// reopener opens stores in fresh folders, and reopens one as a restarted
// trainbot would (closed, then opened on the same file).
type reopener struct {
	clock *trainstest.Clock
	dirs  map[*boltstore.Store]string
}

func newReopener() *reopener {
	return &reopener{clock: trainstest.NewClock(storagetest.T0), dirs: map[*boltstore.Store]string{}}
}

func (r *reopener) open(t testing.TB, dir string) *boltstore.Store {
	s, err := boltstore.Open(dir, r.clock)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r.dirs[s] = dir
	return s
}

func (r *reopener) fresh(t testing.TB) *boltstore.Store { return r.open(t, t.TempDir()) }

func (r *reopener) reopen(t testing.TB, s *boltstore.Store) *boltstore.Store {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return r.open(t, r.dirs[s])
}

func TestTagObjects(t *testing.T) {
	t.Parallel()
	r := newReopener()
	storagetest.RunTagObjects(t, func(t testing.TB) trains.TagObjectCache { return r.fresh(t) },
		func(t testing.TB, c trains.TagObjectCache) trains.TagObjectCache {
			return r.reopen(t, c.(*boltstore.Store))
		})
}

func TestTagLines(t *testing.T) {
	t.Parallel()
	r := newReopener()
	storagetest.RunTagLines(t, func(t testing.TB) trains.TagLineIndex { return r.fresh(t) },
		func(t testing.TB, x trains.TagLineIndex) trains.TagLineIndex {
			return r.reopen(t, x.(*boltstore.Store))
		})
}
