package boltstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

var (
	kRotation = []byte("rotation")
	kLine     = []byte("line")
)

// PutWindow stores a quiet window by its ID, replacing any with that ID,
// and indexes it by its end. With WithRetention it also deletes the
// windows that ended longest ago, past it.
func (s *Store) PutWindow(ctx context.Context, w trains.Window) error {
	if w.ID == "" {
		return errors.New("put quiet window: the window has no id")
	}
	id := []byte(w.ID)
	return s.update(ctx, "put quiet window "+w.ID, func(tx *bbolt.Tx) error {
		until := func(w trains.Window) time.Time { return w.Until }
		if err := putTimeIndexed(tx.Bucket(bWindows), tx.Bucket(bWindowsUntil), id, "quiet window "+w.ID, w, until); err != nil {
			return err
		}
		return s.trimWindows(tx)
	})
}

// windows reads the windows that end after since, by start time: a seek
// in the index by end, so the windows over long ago are never read.
func windows(tx *bbolt.Tx, since time.Time) ([]trains.Window, error) {
	var out []trains.Window
	b := tx.Bucket(bWindows)
	c := tx.Bucket(bWindowsUntil).Cursor()
	for k, id := c.Seek(timeKey(since, nil)); k != nil; k, id = c.Next() {
		if !timeOf(k).After(since) {
			continue // ends exactly at since
		}
		var w trains.Window
		ok, err := get(b, id, "quiet window "+string(id), &w)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, corrupt("the quiet window index", fmt.Errorf("window %s is indexed but not stored", id))
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b trains.Window) int { return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// Windows returns the quiet windows that end after since, by start time.
func (s *Store) Windows(ctx context.Context, since time.Time) ([]trains.Window, error) {
	var out []trains.Window
	err := s.view(ctx, "list quiet windows", func(tx *bbolt.Tx) error {
		var err error
		out, err = windows(tx, since)
		return err
	})
	return out, err
}

// storedRotation is the rotation without its overrides, which have a
// bucket of their own so that SetRotation keeps them.
type storedRotation struct {
	Members []string  `json:"members"`
	Since   time.Time `json:"since"`
}

// rotation reads the rotation; ok is false when neither members nor
// overrides were set.
func rotation(tx *bbolt.Tx) (r trains.Rotation, ok bool, err error) {
	var sr storedRotation
	if ok, err = get(tx.Bucket(bMeta), kRotation, "rotation", &sr); err != nil {
		return r, false, err
	}
	r.Members, r.Since = sr.Members, sr.Since
	err = tx.Bucket(bOverrides).ForEach(func(k, v []byte) error {
		if r.Overrides == nil {
			r.Overrides = map[trains.TrainID]string{}
		}
		r.Overrides[trains.TrainID(k)] = string(v)
		return nil
	})
	return r, ok || len(r.Overrides) > 0, err
}

// Rotation returns the on-call rotation with its overrides. ErrNotFound:
// neither members nor overrides were ever set.
func (s *Store) Rotation(ctx context.Context) (trains.Rotation, error) {
	var r trains.Rotation
	err := s.view(ctx, "read rotation", func(tx *bbolt.Tx) error {
		var ok bool
		var err error
		if r, ok, err = rotation(tx); err == nil && !ok {
			err = fmt.Errorf("rotation: %w", trains.ErrNotFound)
		}
		return err
	})
	return r, err
}

// SetRotation sets the members and start of the rotation, keeping its overrides.
func (s *Store) SetRotation(ctx context.Context, members []string, since time.Time) error {
	return s.update(ctx, "set rotation", func(tx *bbolt.Tx) error {
		return put(tx.Bucket(bMeta), kRotation, storedRotation{Members: members, Since: since})
	})
}

// SetOverrides sets one-train overrides, all or none (one transaction). An
// empty user removes that train's override.
func (s *Store) SetOverrides(ctx context.Context, overrides map[trains.TrainID]string) error {
	if len(overrides) == 0 {
		return nil
	}
	return s.update(ctx, "set rotation overrides", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bOverrides)
		for id, u := range overrides {
			var err error
			if u == "" {
				err = b.Delete([]byte(id))
			} else {
				err = b.Put([]byte(id), []byte(u))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func startedLine(tx *bbolt.Tx) (trains.Line, error) {
	v := tx.Bucket(bMeta).Get(kLine)
	if v == nil {
		return trains.Line{}, nil
	}
	l, err := trains.ParseLine(string(v))
	if err != nil {
		return trains.Line{}, corrupt("the started line", err)
	}
	return l, nil
}

// StartedLine returns the line started with `/train line`, or the zero Line.
func (s *Store) StartedLine(ctx context.Context) (trains.Line, error) {
	var l trains.Line
	err := s.view(ctx, "read started line", func(tx *bbolt.Tx) error {
		var err error
		l, err = startedLine(tx)
		return err
	})
	return l, err
}

// SetStartedLine records a line started with `/train line`.
func (s *Store) SetStartedLine(ctx context.Context, l trains.Line) error {
	return s.update(ctx, "set started line", func(tx *bbolt.Tx) error {
		return tx.Bucket(bMeta).Put(kLine, []byte(l.String()))
	})
}

// CalendarState reads everything the calendar needs in one read
// transaction, so the four parts are consistent with each other.
func (s *Store) CalendarState(ctx context.Context, windowsSince time.Time, q trains.TrainQuery) (trains.CalendarState, error) {
	var st trains.CalendarState
	err := s.view(ctx, "read calendar state", func(tx *bbolt.Tx) error {
		var err error
		if st.Windows, err = windows(tx, windowsSince); err != nil {
			return err
		}
		if st.Rotation, st.HasRotation, err = rotation(tx); err != nil {
			return err
		}
		if st.Trains, err = listTrains(tx, q); err != nil {
			return err
		}
		st.Line, err = startedLine(tx)
		return err
	})
	return st, err
}
