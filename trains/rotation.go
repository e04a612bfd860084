package trains

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Rotation is the on-call rotation for all trains (SPEC §4): the n-th
// scheduled slot since Since goes to Members[n mod len(Members)], unless
// Overrides names someone else for that train.
type Rotation struct {
	Members   []string           `json:"members"`
	Since     time.Time          `json:"since"`
	Overrides map[TrainID]string `json:"overrides,omitempty"`
}

// ErrNoRotation is returned when no rotation has been set.
var ErrNoRotation = errors.New("no on-call rotation is set: a releaser sets one with `/train oncall rotation @a @b …`")

// Assignee returns who is on call for slot, and false when nobody is
// (no rotation and no override, or a slot before the rotation was set).
func (r Rotation) Assignee(s Schedule, slot Slot) (string, bool) {
	if u, ok := r.Overrides[slot.ID()]; ok {
		return u, true
	}
	if len(r.Members) == 0 || slot.At.Before(r.Since) {
		return "", false
	}
	n := s.ordinal(r.Since, slot)
	return r.Members[n%int64(len(r.Members))], true
}

// NextTrainOf returns the first slot at or after now that user is on call
// for, looking at most horizon slots ahead.
func (r Rotation) NextTrainOf(s Schedule, now time.Time, user string, horizon int) (Slot, bool) {
	for _, slot := range s.Upcoming(now, horizon) {
		if u, ok := r.Assignee(s, slot); ok && u == user {
			return slot, true
		}
	}
	return Slot{}, false
}

// Swap returns the assignments that swap the next trains of a and b
// (`/train oncall swap @a @b`): a's next train goes to b and b's to a, in
// time order. A refusal is a *UserError naming the person.
func (r Rotation) Swap(s Schedule, now time.Time, a, b string) ([]Assignment, error) {
	if a == b {
		return nil, refusal(T("cannot swap "), U(a), T(" with themselves"))
	}
	horizon := 4 * (len(r.Members) + len(r.Overrides) + 1)
	sa, okA := r.NextTrainOf(s, now, a, horizon)
	sb, okB := r.NextTrainOf(s, now, b, horizon)
	switch {
	case !okA:
		return nil, refusal(U(a), T(fmt.Sprintf(" is not on call for any of the next %d trains", horizon)))
	case !okB:
		return nil, refusal(U(b), T(fmt.Sprintf(" is not on call for any of the next %d trains", horizon)))
	}
	out := []Assignment{{Slot: sa, User: b, Override: true}, {Slot: sb, User: a, Override: true}}
	slices.SortFunc(out, func(x, y Assignment) int { return compareSlots(x.Slot, y.Slot) })
	return out, nil
}
