package trainstest

import (
	"context"
	"fmt"
	"sync"

	"github.com/trainbot/trainbot/trains"
)

// UnclearStore is a trains.Store that makes chosen writes unclear, as the
// Redis store does when a write's reply is lost and reading it back fails
// too: the write is applied by the store it wraps, and then the call
// answers an error wrapping trains.ErrUnclear. It is safe for concurrent use.
type UnclearStore struct {
	trains.Store
	mu     sync.Mutex
	train  func(trains.Train) bool
	window bool
}

var _ trains.Store = (*UnclearStore)(nil)

// NewUnclearStore wraps s.
func NewUnclearStore(s trains.Store) *UnclearStore { return &UnclearStore{Store: s} }

// UnclearTrainWrite makes the next train write (CreateTrain or
// UpdateTrain) whose train match accepts unclear.
func (u *UnclearStore) UnclearTrainWrite(match func(trains.Train) bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.train = match
}

// UnclearWindowWrite makes the next PutWindow unclear.
func (u *UnclearStore) UnclearWindowWrite() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.window = true
}

// takeTrain reports whether t's write is the one to make unclear.
func (u *UnclearStore) takeTrain(t trains.Train) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.train == nil || !u.train(t) {
		return false
	}
	u.train = nil
	return true
}

func unclear(op string) error {
	return fmt.Errorf("redis: %s: %w (the write went out, then i/o timeout; reading it back failed: i/o timeout)", op, trains.ErrUnclear)
}

// CreateTrain creates the train, and answers ErrUnclear if it is the one.
func (u *UnclearStore) CreateTrain(ctx context.Context, t trains.Train) (trains.Train, error) {
	got, err := u.Store.CreateTrain(ctx, t)
	if err == nil && u.takeTrain(got) {
		return trains.Train{}, unclear("create train " + string(t.ID))
	}
	return got, err
}

// UpdateTrain updates the train, and answers ErrUnclear if it is the one.
func (u *UnclearStore) UpdateTrain(ctx context.Context, t trains.Train, f trains.Fence) (trains.Train, error) {
	got, err := u.Store.UpdateTrain(ctx, t, f)
	if err == nil && u.takeTrain(got) {
		return trains.Train{}, unclear("update train " + string(t.ID))
	}
	return got, err
}

// PutWindow stores the window, and answers ErrUnclear if asked to.
func (u *UnclearStore) PutWindow(ctx context.Context, w trains.Window) error {
	if err := u.Store.PutWindow(ctx, w); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.window {
		u.window = false
		return unclear("put quiet window " + w.ID)
	}
	return nil
}
