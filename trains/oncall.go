package trains

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Assignment is who is on call for a coming train.
type Assignment struct {
	Slot Slot
	User string
	// Override is true when the train was given to User by hand.
	Override bool
}

// OnCallView is the rotation and the next trains' on-call (`/train oncall`).
type OnCallView struct {
	Rotation Rotation
	// Set is false when no rotation was set.
	Set  bool
	Next []Assignment
}

// OnCall shows the rotation and who holds each of the next four trains.
func (s *Service) OnCall(ctx context.Context) (OnCallView, error) {
	v := OnCallView{}
	r, err := s.store.Rotation(ctx)
	switch {
	case err == nil:
		v.Rotation, v.Set = r, true
	case !errors.Is(err, ErrNotFound):
		return v, err
	}
	for _, slot := range s.cfg.Schedule.Upcoming(s.clock.Now(), 4) {
		u, _ := v.Rotation.Assignee(s.cfg.Schedule, slot)
		_, over := v.Rotation.Overrides[slot.ID()]
		v.Next = append(v.Next, Assignment{Slot: slot, User: u, Override: over})
	}
	return v, nil
}

// SetRotation sets the rotation: from now, the n-th train goes to members[n mod len].
func (s *Service) SetRotation(ctx context.Context, by string, members []string) error {
	if err := s.authorize(ctx, by, "oncall rotation", "", anyRole(Releaser)); err != nil {
		return err
	}
	if len(members) == 0 {
		return userErr("name at least one person: `/train oncall rotation @a @b @c`")
	}
	for i, m := range members {
		if slices.Contains(members[:i], m) {
			return refusal(U(m), T(" is named twice in the rotation; name each person once, in order."))
		}
	}
	if err := s.store.SetRotation(ctx, members, s.clock.Now()); err != nil {
		return err
	}
	s.audit(ctx, by, "oncall rotation", "", strings.Join(members, " "), nil)
	return nil
}

// SetOnCall gives one train to user (`/train oncall set <train> @x`).
func (s *Service) SetOnCall(ctx context.Context, by, ref, user string) (TrainID, error) {
	if err := s.authorize(ctx, by, "oncall set", "", anyRole(Releaser)); err != nil {
		return "", err
	}
	t, err := s.comingTrain(ctx, ref)
	if err != nil {
		s.audit(ctx, by, "oncall set", storedID(t), ref, err)
		return "", err
	}
	if err := s.store.SetOverrides(ctx, map[TrainID]string{t.ID: user}); err != nil {
		return "", err
	}
	if t.Version > 0 {
		t.OnCall = user
		if t, err = s.store.UpdateTrain(ctx, t, Fence{}); err != nil && !errors.Is(err, ErrConflict) {
			return t.ID, err
		}
		s.refreshReminder(ctx, t, nil)
	}
	s.audit(ctx, by, "oncall set", t.ID, user, nil)
	return t.ID, nil
}

// Swap swaps the next trains of a and b (`/train oncall swap @a @b`).
func (s *Service) Swap(ctx context.Context, by, a, b string) ([]Assignment, error) {
	if err := s.authorize(ctx, by, "oncall swap", "", anyRole(Releaser)); err != nil {
		return nil, err
	}
	r, err := s.store.Rotation(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil, userErr("%v", ErrNoRotation)
	} else if err != nil {
		return nil, err
	}
	swapped, err := r.Swap(s.cfg.Schedule, s.clock.Now(), a, b)
	if err != nil {
		return nil, err
	}
	ov := map[TrainID]string{}
	var detail []string
	for _, as := range swapped {
		ov[as.Slot.ID()] = as.User
		detail = append(detail, string(as.Slot.ID())+"→"+as.User)
	}
	if err := s.store.SetOverrides(ctx, ov); err != nil {
		return nil, err
	}
	for _, as := range swapped {
		if t, err := s.store.GetTrain(ctx, as.Slot.ID()); err == nil && !t.State.Final() {
			t.OnCall = as.User
			if t, err = s.store.UpdateTrain(ctx, t, Fence{}); err == nil {
				s.refreshReminder(ctx, t, nil)
			}
		}
	}
	s.audit(ctx, by, "oncall swap", "", strings.Join(detail, " "), nil)
	return swapped, nil
}
