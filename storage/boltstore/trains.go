package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

// indexTrain adds t to the time index and, when not final, to the open index.
func indexTrain(tx *bbolt.Tx, t trains.Train) error {
	k := timeKey(t.At, []byte(t.ID))
	if err := tx.Bucket(bTrainsByAt).Put(k, []byte(t.ID)); err != nil {
		return err
	}
	if t.State.Final() {
		return nil
	}
	return tx.Bucket(bTrainsOpen).Put(k, []byte(t.ID))
}

// unindexTrain removes t from both indexes.
func unindexTrain(tx *bbolt.Tx, t trains.Train) error {
	k := timeKey(t.At, []byte(t.ID))
	if err := tx.Bucket(bTrainsByAt).Delete(k); err != nil {
		return err
	}
	return tx.Bucket(bTrainsOpen).Delete(k)
}

// CreateTrain stores a new train with Version 1. ErrConflict: the id exists.
// With WithRetention it also deletes the oldest finished trains past it.
func (s *Store) CreateTrain(ctx context.Context, t trains.Train) (trains.Train, error) {
	if t.ID == "" {
		return trains.Train{}, errors.New("create train: the train has no id")
	}
	t.Version = 1
	err := s.update(ctx, "create train "+string(t.ID), func(tx *bbolt.Tx) error {
		b := tx.Bucket(bTrains)
		if b.Get([]byte(t.ID)) != nil {
			return fmt.Errorf("create train %s: a train with that id exists: %w", t.ID, trains.ErrConflict)
		}
		if err := put(b, []byte(t.ID), t); err != nil {
			return err
		}
		if err := indexTrain(tx, t); err != nil {
			return err
		}
		return s.trimTrains(tx)
	})
	if err != nil {
		return trains.Train{}, err
	}
	return t, nil
}

func getTrain(tx *bbolt.Tx, id trains.TrainID) (trains.Train, error) {
	var t trains.Train
	ok, err := get(tx.Bucket(bTrains), []byte(id), "train "+string(id), &t)
	if err == nil && !ok {
		err = fmt.Errorf("train %s: %w", id, trains.ErrNotFound)
	}
	return t, err
}

// GetTrain returns a train. ErrNotFound: no such train.
func (s *Store) GetTrain(ctx context.Context, id trains.TrainID) (trains.Train, error) {
	var t trains.Train
	err := s.view(ctx, "get train "+string(id), func(tx *bbolt.Tx) error {
		var err error
		t, err = getTrain(tx, id)
		return err
	})
	return t, err
}

// checkFence returns ErrLeaseLost unless the fence's lease is held with
// its token now.
func (s *Store) checkFence(tx *bbolt.Tx, f trains.Fence) error {
	if f == (trains.Fence{}) {
		return nil
	}
	var l trains.Lease
	ok, err := get(tx.Bucket(bLeases), []byte(f.Lease), "lease "+f.Lease, &l)
	if err != nil {
		return err
	}
	if !ok || l.Token != f.Token || !s.clock.Now().Before(l.Expiry) {
		return fmt.Errorf("lease %s token %d: %w", f.Lease, f.Token, trains.ErrLeaseLost)
	}
	return nil
}

// UpdateTrain replaces a train if its stored Version is t.Version (and,
// with a fence, while that lease is held with its token), and returns it
// with Version one higher. ErrNotFound, ErrConflict, ErrLeaseLost.
func (s *Store) UpdateTrain(ctx context.Context, t trains.Train, fence trains.Fence) (trains.Train, error) {
	want := t.Version
	t.Version++
	err := s.update(ctx, "update train "+string(t.ID), func(tx *bbolt.Tx) error {
		if err := s.checkFence(tx, fence); err != nil {
			return fmt.Errorf("update train %s: %w", t.ID, err)
		}
		old, err := getTrain(tx, t.ID)
		if err != nil {
			return fmt.Errorf("update train: %w", err)
		}
		if old.Version != want {
			return fmt.Errorf("update train %s from version %d (stored: %d): %w", t.ID, want, old.Version, trains.ErrConflict)
		}
		if err := unindexTrain(tx, old); err != nil {
			return err
		}
		if err := put(tx.Bucket(bTrains), []byte(t.ID), t); err != nil {
			return err
		}
		return indexTrain(tx, t)
	})
	if err != nil {
		return trains.Train{}, err
	}
	return t, nil
}

// listTrains reads the trains q selects, oldest first, in tx.
func listTrains(tx *bbolt.Tx, q trains.TrainQuery) ([]trains.Train, error) {
	c := tx.Bucket(bTrainsByAt).Cursor()
	var end []byte
	if !q.To.IsZero() {
		end = timeKey(q.To, nil)
	}
	inRange := func(k []byte) bool { return k != nil && (end == nil || bytes.Compare(k, end) < 0) }
	var ids [][]byte
	if q.Newest > 0 {
		// Walk back from the end of the range.
		var k, v []byte
		if end == nil {
			k, v = c.Last()
		} else if k, _ = c.Seek(end); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && len(ids) < q.Newest && !timeOf(k).Before(q.From); k, v = c.Prev() {
			if inRange(k) {
				ids = append(ids, v)
			}
		}
		slices.Reverse(ids)
	} else {
		for k, v := c.Seek(timeKey(q.From, nil)); inRange(k); k, v = c.Next() {
			ids = append(ids, v)
		}
	}
	out := make([]trains.Train, 0, len(ids))
	for _, id := range ids {
		t, err := getTrain(tx, trains.TrainID(id))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ListTrains returns the trains q selects, oldest first.
func (s *Store) ListTrains(ctx context.Context, q trains.TrainQuery) ([]trains.Train, error) {
	var out []trains.Train
	err := s.view(ctx, "list trains", func(tx *bbolt.Tx) error {
		var err error
		out, err = listTrains(tx, q)
		return err
	})
	return out, err
}

// OpenTrains returns the trains not in a final state, oldest first.
func (s *Store) OpenTrains(ctx context.Context) ([]trains.Train, error) {
	var out []trains.Train
	err := s.view(ctx, "list open trains", func(tx *bbolt.Tx) error {
		return tx.Bucket(bTrainsOpen).ForEach(func(_, id []byte) error {
			t, err := getTrain(tx, trains.TrainID(id))
			out = append(out, t)
			return err
		})
	})
	slices.SortStableFunc(out, func(a, b trains.Train) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID)) })
	return out, err
}
